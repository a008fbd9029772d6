"""Signing keys inside the token: generated there (sensitive, non-extractable), found by label, used to sign.

A key's name is its ``CKA_LABEL`` (``audit``, ``timestamp``); its private and public halves
share the label and a random ``CKA_ID``. Digests are computed on the host and the token
signs them: ECDSA P-256 with ``CKM_ECDSA`` (SoftHSM2 has no ``CKM_ECDSA_SHA256``), RSA-2048
with RSA-PSS (``CKM_RSA_PKCS_PSS``, or ``CKM_SHA256_RSA_PKCS_PSS`` where only that exists),
MGF1-SHA256 and a 32-byte salt, as :func:`aegis.signing.verify` expects.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import MGF, Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass, PrivateKey, PublicKey, Session

from aegis.errors import SecretNotFound
from aegis.signing import verify
from aegis_secrets_hsm.errors import SigningKeyError, TokenRef
from aegis_secrets_hsm.session import find_objects

#: Key names are plain labels: letters, digits, ``_``, ``.`` and ``-`` (as in the env backend).
KEY_NAME = re.compile(r"[A-Za-z0-9_.-]+")
KeyKind = Literal["ec-p256", "rsa-2048"]
KEY_KINDS: tuple[KeyKind, ...] = ("ec-p256", "rsa-2048")

#: DER of the named-curve OID 1.2.840.10045.3.1.7 (secp256r1), the CKA_EC_PARAMS of a P-256 key.
P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
#: RSA-PSS with SHA-256, MGF1-SHA256 and salt length = digest length.
PSS_SHA256 = (Mechanism.SHA256, MGF.SHA256, 32)
_GENERATORS = {"ec-p256": Mechanism.EC_KEY_PAIR_GEN, "rsa-2048": Mechanism.RSA_PKCS_KEY_PAIR_GEN}
_NAMES = {"ec-p256": "ECDSA P-256", "rsa-2048": "RSA-2048 PSS"}


def check_key_name(key: object) -> str:
    """``key`` if it is a valid signing key name, else :class:`SigningKeyError`."""
    if not isinstance(key, str) or not KEY_NAME.fullmatch(key):
        raise SigningKeyError(f"invalid signing key name {key!r}: a key name may only contain letters, digits, "
                              f"'_', '.' and '-' (it is the key's CKA_LABEL in the token)")
    return key


def signing_mechanism(kind: KeyKind, available: Collection[Mechanism | int]) -> Mechanism | None:
    """The mechanism a ``kind`` key signs host-computed SHA-256 digests with, if the token offers one."""
    candidates = ((Mechanism.ECDSA,) if kind == "ec-p256"
                  else (Mechanism.RSA_PKCS_PSS, Mechanism.SHA256_RSA_PKCS_PSS))
    return next((m for m in candidates if m in available), None)


def require_signing_mechanism(kind: KeyKind, available: Collection[Mechanism | int], token: TokenRef) -> Mechanism:
    """:func:`signing_mechanism`, or an ``HSM Failure: Mechanism missing`` naming what is needed."""
    mechanism = signing_mechanism(kind, available)
    if mechanism is None:
        needed = "CKM_ECDSA" if kind == "ec-p256" else "CKM_RSA_PKCS_PSS or CKM_SHA256_RSA_PKCS_PSS"
        raise token.failure(f"Mechanism missing: {_NAMES[kind]} signatures need {needed}",
                            hint="use a token that offers it or the other key type (ec-p256 / rsa-2048)")
    return mechanism


def der_ecdsa_signature(raw: bytes) -> bytes:
    """PKCS#11's raw ``r || s`` as a DER ``ECDSA-Sig-Value`` (what X.509 and ``cryptography`` verify)."""
    if not raw or len(raw) % 2:
        raise ValueError(f"an ECDSA signature from PKCS#11 is r || s of equal length, got {len(raw)} bytes")
    half = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))




@dataclass(frozen=True)
class SigningKey:
    """A usable signing key: its private half in the token, its public half as PEM."""

    name: str
    kind: KeyKind
    mechanism: Mechanism
    sensitive: bool
    extractable: bool
    private: PrivateKey = field(repr=False, compare=False)
    public_pem: bytes = field(repr=False)

    @property
    def protected(self) -> bool:
        """The private key can never be read out of the token (CKA_SENSITIVE, not CKA_EXTRACTABLE)."""
        return self.sensitive and not self.extractable

    @property
    def algorithm(self) -> str:
        how = "digest on the host" if self.mechanism != Mechanism.SHA256_RSA_PKCS_PSS else "digest in the token"
        return f"{_NAMES[self.kind]} over SHA-256 (CKM_{self.mechanism.name}, {how})"

    def sign(self, data: bytes) -> bytes:
        """The signature over ``data`` as :func:`aegis.signing.verify` expects it (DER for ECDSA)."""
        if self.kind == "ec-p256":
            return der_ecdsa_signature(self.private.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA))
        if self.mechanism == Mechanism.RSA_PKCS_PSS:
            return self.private.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.RSA_PKCS_PSS,
                                     mechanism_param=PSS_SHA256)
        return self.private.sign(bytes(data), mechanism=Mechanism.SHA256_RSA_PKCS_PSS, mechanism_param=PSS_SHA256)


# -- finding ---------------------------------------------------------------------


def _halves(session: Session, label: str) -> tuple[list[PrivateKey], list[PublicKey]]:
    private = find_objects(session, {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label})
    public = find_objects(session, {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: label})
    return private, public  # type: ignore[return-value]


def key_exists(session: Session, name: str) -> bool:
    """Whether any key object (private or public half) is labelled ``name``."""
    private, public = _halves(session, name)
    return bool(private or public)


def signing_key_names(session: Session) -> list[str]:
    """The labels of every private key in the token, sorted."""
    return sorted({key.label for key in find_objects(session, {Attribute.CLASS: ObjectClass.PRIVATE_KEY})})


def find_signing_key(session: Session, token: TokenRef, name: str, mechanisms: Collection[Mechanism | int],
                     expected: KeyKind | None = None) -> SigningKey:
    """The signing key labelled ``name``, checked: supported type, public half present and matching.

    :raises SecretNotFound: when the token has no private key labelled ``name``.
    :raises SigningKeyError: when the key is of another type than ``expected`` or unsupported.
    :raises HsmFailure: when the key is ambiguous, its public half is missing or does not match,
        or the token lacks the signing mechanism.
    """
    check_key_name(name)
    private, public = _halves(session, name)
    if not private:
        raise SecretNotFound(f"signing key {name!r} not found: token {token.label} has no private key labelled "
                             f"{name!r} (secrets backend hsm, library {token.library}); generate it inside the "
                             f"token with `aegis hsm init-keys --key {name}`")
    if len(private) > 1:
        raise token.failure(f"{len(private)} private keys are labelled {name!r}; a key's label must be unique")
    key_id = bytes(private[0][Attribute.ID] or b"")
    public = [p for p in public if not key_id or bytes(p[Attribute.ID] or b"") == key_id]
    if len(public) != 1:
        raise token.failure(f"signing key {name!r} has {len(public)} public keys with its label and CKA_ID "
                            f"{key_id.hex() or '(empty)'}; it needs exactly one to export for verifiers")
    return _checked(token, name, private[0], public[0], mechanisms, expected)


def _kind(token: TokenRef, name: str, private: PrivateKey, public: PublicKey) -> KeyKind:
    if private.key_type == KeyType.EC:
        params = bytes(public[Attribute.EC_PARAMS])
        if params == P256_PARAMS:
            return "ec-p256"
        what = f"an EC key on another curve (CKA_EC_PARAMS {params.hex()})"
    elif private.key_type == KeyType.RSA:
        bits = int.from_bytes(bytes(public[Attribute.MODULUS]), "big").bit_length()
        if bits == 2048:
            return "rsa-2048"
        what = f"an RSA-{bits} key"
    else:
        what = f"a {getattr(private.key_type, 'name', private.key_type)} key"
    raise SigningKeyError(f"signing key {name!r} in token {token.label} is {what}; the hsm backend signs with "
                          f"ECDSA P-256 (ec-p256) or RSA-2048 (rsa-2048) keys")


def _public_pem(kind: KeyKind, public: PublicKey) -> bytes:
    if kind == "ec-p256":
        point = bytes(public[Attribute.EC_POINT])
        if len(point) == 67 and point[:2] == b"\x04\x41":  # DER OCTET STRING around the uncompressed point
            point = point[2:]
        key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), point)
    else:
        exponent = int.from_bytes(bytes(public[Attribute.PUBLIC_EXPONENT]), "big")
        key = rsa.RSAPublicNumbers(exponent, int.from_bytes(bytes(public[Attribute.MODULUS]), "big")).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _checked(token: TokenRef, name: str, private: PrivateKey, public: PublicKey,
             mechanisms: Collection[Mechanism | int], expected: KeyKind | None) -> SigningKey:
    kind = _kind(token, name, private, public)
    if expected is not None and kind != expected:
        raise SigningKeyError(f"signing key {name!r} in token {token.label} is {kind} but key_type is {expected}: "
                              f"set key_type: {kind}, or generate a {expected} key with "
                              f"`aegis hsm init-keys --key {name} --type {expected} --rotate`")
    flags = private.get_attributes([Attribute.SENSITIVE, Attribute.EXTRACTABLE])
    key = SigningKey(name, kind, require_signing_mechanism(kind, mechanisms, token), bool(flags[Attribute.SENSITIVE]),
                     bool(flags[Attribute.EXTRACTABLE]), private, _public_pem(kind, public))
    probe = os.urandom(32)
    if not verify(key.public_pem, probe, key.sign(probe)):
        raise token.failure(f"signing key {name!r}: the public key labelled {name!r} does not belong to its "
                            f"private key (a probe signature did not verify)")
    return key


# -- generating --------------------------------------------------------------------


def generate_signing_key(session: Session, token: TokenRef, name: str, kind: KeyKind,
                         mechanisms: Collection[Mechanism | int]) -> SigningKey:
    """Generate a ``kind`` key pair inside the token, labelled ``name``.

    The private key is a token object, private, sensitive and not extractable, usable for
    signing only; the public key is a token object usable for verifying only.

    :raises SigningKeyError: when a key labelled ``name`` exists already.
    """
    check_key_name(name)
    if key_exists(session, name):
        raise SigningKeyError(f"signing key {name!r} already exists in token {token.label}; refusing to overwrite "
                              f"it (use --rotate to replace it and keep the old key under a new label)")
    generator = _GENERATORS[kind]
    if generator not in mechanisms:
        raise token.failure(f"Mechanism missing: generating {_NAMES[kind]} keys needs CKM_{generator.name}")
    require_signing_mechanism(kind, mechanisms, token)
    key_id = os.urandom(16)
    common = {Attribute.TOKEN: True, Attribute.LABEL: name, Attribute.ID: key_id}
    public_template = {**common, Attribute.PRIVATE: False, Attribute.VERIFY: True, Attribute.ENCRYPT: False,
                       Attribute.WRAP: False}
    private_template = {**common, Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                        Attribute.SIGN: True, Attribute.DECRYPT: False, Attribute.UNWRAP: False,
                        Attribute.DERIVE: False}
    if kind == "ec-p256":
        public_template[Attribute.EC_PARAMS] = P256_PARAMS
        public, private = session.generate_keypair(KeyType.EC, store=True, label=name, id=key_id,
                                                   capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                                                   public_template=public_template, private_template=private_template)
    else:
        public, private = session.generate_keypair(KeyType.RSA, 2048, store=True, label=name, id=key_id,
                                                   capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                                                   public_template=public_template, private_template=private_template)
    key = _checked(token, name, private, public, mechanisms, kind)
    if not key.protected:
        for half in (private, public):
            half.destroy()
        raise token.failure(f"the token generated key {name!r} extractable or not sensitive although asked not to; "
                            f"the key was destroyed")
    return key


def _free_label(session: Session, label: str) -> str:
    candidate, n = label, 1
    while find_objects(session, {Attribute.LABEL: candidate}):
        n += 1
        candidate = f"{label}-{n}"
    return candidate


def rotate_signing_key(session: Session, token: TokenRef, name: str, kind: KeyKind,
                       mechanisms: Collection[Mechanism | int], now: datetime) -> tuple[SigningKey, str]:
    """Replace key ``name`` by a new ``kind`` key; the old one stays in the token under a new label.

    The new pair is generated under a staging label first, so a failure leaves the old key
    in place. Returns the new key and the old key's new label (``audit.rotated-20260105T090000Z``).
    """
    check_key_name(name)
    old_private, old_public = _halves(session, name)
    if not old_private and not old_public:
        raise SecretNotFound(f"signing key {name!r} not found in token {token.label}: nothing to rotate "
                             f"(secrets backend hsm, library {token.library}); create it without --rotate")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    staging = _free_label(session, f"{name}.new-{stamp}")
    new = generate_signing_key(session, token, staging, kind, mechanisms)
    retired = _free_label(session, f"{name}.rotated-{stamp}")
    for half in [*old_private, *old_public]:
        half[Attribute.LABEL] = retired
    for half in find_objects(session, {Attribute.LABEL: staging}):
        half[Attribute.LABEL] = name
    return SigningKey(name, new.kind, new.mechanism, new.sensitive, new.extractable, new.private,
                      new.public_pem), retired
