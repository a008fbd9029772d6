"""A client's CURVE credentials: the server's public key and the client's own key pair (Z85)."""

from __future__ import annotations

from dataclasses import dataclass, field

import zmq


@dataclass(frozen=True)
class CurveKeys:
    """``server_key`` is the sidecar's public key; ``public_key`` must be in the server's allow-list."""

    server_key: str
    public_key: str
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls, server_key: str) -> CurveKeys:
        """A fresh client key pair for ``server_key`` (register ``public_key`` with the server)."""
        public, secret = zmq.curve_keypair()
        return cls(server_key=server_key, public_key=public.decode(), secret_key=secret.decode())

    def apply(self, sock: zmq.Socket) -> None:
        """Configure ``sock`` (before it connects) as a CURVE client with these keys."""
        sock.curve_serverkey = self.server_key.encode()
        sock.curve_publickey = self.public_key.encode()
        sock.curve_secretkey = self.secret_key.encode()
