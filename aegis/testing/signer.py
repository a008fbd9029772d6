"""A throwaway signing key for tests: ECDSA P-256, as the secrets plugins make."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from aegis.signing import fingerprint


class Signer:
    """``pem`` (public key), ``key_id`` (its fingerprint) and ``sign``; a fresh key unless one is given."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.key = key if key is not None else ec.generate_private_key(ec.SECP256R1())
        self.pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = fingerprint(self.pem)

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
