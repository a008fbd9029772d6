"""Verification of the signatures the secrets plugins produce (ECDSA P-256 or RSA-PSS over SHA-256).

Verifiers (audit verify, export verify, key ceremony checks) need nothing but this
module and a PEM public key.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def verify(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` over ``data`` verifies with the PEM public key."""
    key = serialization.load_pem_public_key(public_key_pem)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                    salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        else:
            raise ValueError(f"unsupported public key type {type(key).__name__}")
    except InvalidSignature:
        return False
    return True


def fingerprint(public_key_pem: bytes) -> str:
    """``sha256:<32 hex>`` over the DER SubjectPublicKeyInfo: what operators compare in a key ceremony."""
    import hashlib
    key = serialization.load_pem_public_key(public_key_pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()[:32]
