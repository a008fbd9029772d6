"""Consortium signals: the signed envelope a bank publishes for a blocked payment, and its verification.

One signal is one JSON object (one line of a JSONL feed)::

    {"version": 1, "signal_id": uuid4, "issuer": member id, "issued_at": "2026-01-01T12:00:00Z",
     "entity": HMAC-SHA256 pseudonym (hex), "role": "creditor" | "debtor", "model": PublicModel digest,
     "vk": "sha256:" of verification_key.bin, "proof": snarkjs proof, "public_inputs": [decimal strings],
     "key_id": fingerprint of the issuer's signing key, "signature": base64}

The Groth16 proof says "the features behind ``commitment`` score at least ``threshold`` under the
weights"; it does not contain the entity. The issuer's signature, over the canonical JSON of every
other field, binds entity, role, proof and public inputs together: a peer trusts the *link* between
the pseudonym and the proof because a consortium member signed it, and the *score* because of the proof.
No feature value, salt or account number is ever part of a signal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

import orjson

from aegis.signing import verify as verify_signature
from aegis_zkp_groth16.circuit import N_FEATURES, check_public_ranges
from aegis_zkp_groth16.keys import Proof, VerificationKey
from aegis_zkp_groth16.snarkjs_json import SnarkjsFormatError, proof_from_json, public_from_json
from aegis_zkp_groth16.verifier import InvalidProof, verify, verify_batch

VERSION = 1
#: Prefixed to the canonical JSON before signing, so a signal signature can never pass for another
#: document the same key signs (and the other way round).
SIGNING_DOMAIN = b"aegis consortium signal v1\n"
Role = Literal["creditor", "debtor"]
ROLES: tuple[Role, ...] = ("creditor", "debtor")
FIELDS = ("version", "signal_id", "issuer", "issued_at", "entity", "role", "model", "vk", "proof",
          "public_inputs", "key_id", "signature")
MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^sha256:[0-9a-f]{32}$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")

# Reject reasons (the first word of every rejection).
MALFORMED = "malformed"
UNKNOWN_ISSUER = "unknown_issuer"
KEY_ID = "key_id"
SIGNATURE = "signature"
VK = "vk"
PUBLIC_INPUTS = "public_inputs"
MODEL = "model"
THRESHOLD = "threshold"
EXPIRED = "expired"
FUTURE = "future"
PROOF = "proof"
REASONS = (MALFORMED, UNKNOWN_ISSUER, KEY_ID, SIGNATURE, VK, PUBLIC_INPUTS, MODEL, THRESHOLD, EXPIRED, FUTURE,
           PROOF)


class Verdict(NamedTuple):
    """``(ok, reason)``: ``reason`` starts with one of :data:`REASONS` and says what is wrong."""

    ok: bool
    reason: str

    @property
    def code(self) -> str:
        return self.reason.split(":", 1)[0]


ACCEPTED = Verdict(True, "accepted")


def _reject(code: str, detail: str) -> Verdict:
    return Verdict(False, f"{code}: {detail}")


# -- pseudonyms ------------------------------------------------------------------

def normalise_account(account: str) -> str:
    """An IBAN upper-case without spaces; any other account id as given (without surrounding blanks)."""
    compact = "".join(account.split()).upper()
    return compact if _IBAN.match(compact) else account.strip()


def pseudonym(key: bytes, account: str) -> str:
    """``HMAC-SHA256(consortium pseudonym key, normalised account)`` in hex: what a signal names."""
    return hmac.new(key, normalise_account(account).encode(), hashlib.sha256).hexdigest()


def vk_fingerprint(vk_bytes: bytes) -> str:
    """``sha256:`` of ``verification_key.bin``: peers accept only proofs made for the key they hold."""
    return "sha256:" + hashlib.sha256(vk_bytes).hexdigest()


# -- the envelope ----------------------------------------------------------------

def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp in UTC (``Z`` or ``+00:00``); raises ``ValueError`` otherwise."""
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() != timedelta(0):
        raise ValueError(f"issued_at {value!r} is not in UTC")
    return moment


def signed_bytes(signal: Mapping[str, Any]) -> bytes:
    """What the issuer signs: the domain tag and the canonical JSON (sorted keys, compact) of every
    field but ``signature``."""
    body = {k: v for k, v in signal.items() if k != "signature"}
    return SIGNING_DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def build_signal(*, issuer: str, entity: str, role: Role, model: str, vk: str, proof: dict,
                 public_inputs: Sequence[str], key_id: str, sign: Callable[[bytes], bytes],
                 issued_at: datetime | None = None, signal_id: str | None = None) -> dict:
    """A signed signal; ``sign`` signs bytes with the issuer's key (e.g. through the secrets plugin)."""
    signal: dict[str, Any] = {
        "version": VERSION, "signal_id": signal_id or str(uuid.uuid4()), "issuer": issuer,
        "issued_at": rfc3339(issued_at or datetime.now(UTC)), "entity": entity, "role": role, "model": model,
        "vk": vk, "proof": proof, "public_inputs": [str(v) for v in public_inputs], "key_id": key_id,
    }
    signal["signature"] = base64.b64encode(sign(signed_bytes(signal))).decode()
    return signal


def signal_line(signal: Mapping[str, Any]) -> bytes:
    """The signal as one feed line (canonical JSON and a newline)."""
    return orjson.dumps(signal, option=orjson.OPT_SORT_KEYS) + b"\n"


def _shape_error(signal: Any) -> str | None:
    """What is wrong with the envelope's shape, or ``None``."""
    if not isinstance(signal, dict):
        return "a signal is a JSON object"
    missing = [f for f in FIELDS if f not in signal]
    unknown = sorted(set(signal) - set(FIELDS))
    if missing or unknown:
        return f"missing {missing}" if missing else f"unknown field(s) {unknown}"
    if signal["version"] != VERSION or isinstance(signal["version"], bool):
        return f"version {signal['version']!r} (this verifier reads version {VERSION})"
    checks = (("signal_id", str, None), ("issuer", str, MEMBER_ID), ("issued_at", str, None),
              ("entity", str, _HEX64), ("role", str, None), ("model", str, _DIGEST), ("vk", str, _DIGEST),
              ("key_id", str, _KEY_ID), ("signature", str, None), ("proof", dict, None),
              ("public_inputs", list, None))
    for name, kind, pattern in checks:
        value = signal[name]
        if not isinstance(value, kind) or (pattern is not None and not pattern.match(value)):
            return f"field {name} has the wrong type or form: {str(value)[:80]!r}"
    if signal["role"] not in ROLES:
        return f"role {signal['role']!r} is not one of {list(ROLES)}"
    try:
        uuid.UUID(signal["signal_id"])
        parse_time(signal["issued_at"])
    except ValueError as exc:
        return str(exc)
    return None


# -- verification ----------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """A consortium member: its id and the PEM public key its signals are signed with."""

    member_id: str
    public_key_pem: bytes
    key_id: str  # aegis.signing.fingerprint(public_key_pem)


@dataclass(frozen=True)
class Policy:
    """What a verifier accepts. ``model_weights`` (the 8 integer weights of the public inputs) and
    ``model_digest`` pin the public model when set."""

    vk: VerificationKey
    vk_fingerprint: str
    members: Mapping[str, Member]
    min_threshold: int = 0
    max_age: timedelta = timedelta(days=30)
    max_skew: timedelta = timedelta(minutes=5)
    model_weights: tuple[int, ...] | None = None
    model_digest: str | None = None


@dataclass(frozen=True)
class Checked:
    """A signal whose envelope passed every check; only its proof is left to verify."""

    signal: dict
    proof: Proof
    public_inputs: list[int]


def check_envelope(signal: Any, policy: Policy, now: datetime | None) -> Checked | Verdict:
    """Every check but the pairing: shape, issuer, key, signature, key fingerprint, public-input ranges,
    pinned model, minimum threshold, and (when ``now`` is given) age against that clock."""
    if (shape := _shape_error(signal)) is not None:
        return _reject(MALFORMED, shape)
    member = policy.members.get(signal["issuer"])
    if member is None:
        return _reject(UNKNOWN_ISSUER, f"{signal['issuer']!r} is not a consortium member of this verifier")
    if signal["key_id"] != member.key_id:
        return _reject(KEY_ID, f"signed with key {signal['key_id']}, but {member.member_id}'s registered key is "
                               f"{member.key_id}")
    try:
        signature = base64.b64decode(signal["signature"], validate=True)
    except (binascii.Error, ValueError):
        return _reject(SIGNATURE, "not base64")
    if not verify_signature(member.public_key_pem, signed_bytes(signal), signature):
        return _reject(SIGNATURE, f"does not verify with {member.member_id}'s key {member.key_id} "
                                  "(a field was changed after signing, or another key signed it)")
    if signal["vk"] != policy.vk_fingerprint:
        return _reject(VK, f"proof made for verification key {signal['vk']}, this verifier holds "
                           f"{policy.vk_fingerprint}")
    try:
        inputs = public_from_json(signal["public_inputs"])
        check_public_ranges(inputs)
    except ValueError as exc:  # SnarkjsFormatError is a ValueError
        return _reject(PUBLIC_INPUTS, str(exc))
    try:
        proof = proof_from_json(signal["proof"])
    except SnarkjsFormatError as exc:
        return _reject(MALFORMED, str(exc))
    threshold, weights = inputs[0], tuple(inputs[1:1 + N_FEATURES])
    if policy.model_digest is not None and signal["model"] != policy.model_digest:
        return _reject(MODEL, f"model {signal['model']} is not the pinned model {policy.model_digest}")
    if policy.model_weights is not None and weights != policy.model_weights:
        return _reject(MODEL, f"weights {list(weights)} are not the pinned model's {list(policy.model_weights)}")
    if threshold < policy.min_threshold:
        return _reject(THRESHOLD, f"threshold {threshold} is below the minimum {policy.min_threshold}")
    if now is None:
        return Checked(signal, proof, inputs)
    issued = parse_time(signal["issued_at"])
    if now - issued > policy.max_age:
        return _reject(EXPIRED, f"issued {signal['issued_at']}, older than {policy.max_age}")
    if issued - now > policy.max_skew:
        return _reject(FUTURE, f"issued {signal['issued_at']}, more than {policy.max_skew} in the future")
    return Checked(signal, proof, inputs)


def _verify_one(policy: Policy, checked: Checked) -> Verdict:
    try:
        ok = verify(policy.vk, checked.proof, checked.public_inputs)
    except InvalidProof as exc:
        return _reject(PROOF, f"malformed: {exc}")
    return ACCEPTED if ok else _reject(PROOF, "the Groth16 proof does not verify for these public inputs")


def verify_signal(signal: Any, policy: Policy, now: datetime | None = None) -> Verdict:
    """``(ok, reason)`` for one signal; with ``now``, also ``expired`` / ``future`` against that clock.

    Without ``now`` no age is judged: a scorer that must decide the same way when replayed years
    later judges age per payment, by the payment's own time (the ``consortium`` scoring plugin).
    """
    checked = check_envelope(signal, policy, now)
    return checked if isinstance(checked, Verdict) else _verify_one(policy, checked)


def verify_signals(signals: Sequence[Any], policy: Policy, now: datetime | None = None) -> list[Verdict]:
    """One verdict per signal; the proofs that pass the envelope checks are verified as one batch
    (one final exponentiation), and only when the batch fails one by one to find the bad ones.
    ``now`` as for :func:`verify_signal`."""
    results = [check_envelope(s, policy, now) for s in signals]
    checked = [r for r in results if isinstance(r, Checked)]
    if len(checked) > 1:
        try:
            if verify_batch(policy.vk, [(c.proof, c.public_inputs) for c in checked]):
                return [ACCEPTED if isinstance(r, Checked) else r for r in results]
        except InvalidProof:
            pass  # a malformed proof in the batch: the single checks name it
    return [_verify_one(policy, r) if isinstance(r, Checked) else r for r in results]
