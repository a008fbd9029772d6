"""Aegis ingress plugin ``kafka``: a consumer group that commits only after durable audit."""
