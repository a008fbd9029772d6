"""Aegis' protocol buffers, one place for all of them.

``screening.proto`` defines the gRPC screening service (``aegis.v1.Screening``) served by the
``socket`` ingress plugin. The generated modules (``screening_pb2``, ``screening_pb2_grpc``) are
checked in; ``python -m aegis.proto.generate`` rebuilds them after a change to a ``.proto``.
Importing them needs ``protobuf`` and ``grpcio``.
"""
