"""Aegis ingress plugin ``socket``: the sidecar API (ZeroMQ ROUTER on 5555, gRPC), replies after audit."""
