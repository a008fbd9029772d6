"""What a peer trusts: the signed verification key of the consortium's set-up and the members' keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aegis_zkp_groth16.circuit import N_FEATURES, N_PUBLIC
from aegis_zkp_groth16.consortium import Member, Policy, vk_fingerprint
from aegis_zkp_groth16.keys import vk_from_bytes

from aegis.errors import SecurityViolation
from aegis.signing import fingerprint, verify
from aegis_scoring_consortium.config import ConsortiumConfig


@dataclass(frozen=True)
class Trust:
    policy: Policy
    setup_key_id: str


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SecurityViolation(f"consortium: cannot read {what} {path}: {exc.strerror}") from None


def _public_key(path: Path, what: str) -> tuple[bytes, str]:
    pem = _read(path, what)
    try:
        return pem, fingerprint(pem)
    except ValueError as exc:
        raise SecurityViolation(f"consortium: {what} {path} is not a PEM public key: {exc}") from None


def load_trust(config: ConsortiumConfig) -> Trust:
    """The verification policy, after the verification key's signature verified with the setup key;
    raises :class:`SecurityViolation` on a mismatch (the plugin then refuses to start)."""
    setup_pem, setup_id = _public_key(config.setup_key, "setup key")
    vk_bytes = _read(config.verification_key, "verification key")
    signature = _read(config.signature_path, "verification-key signature")
    if not verify(setup_pem, vk_bytes, signature):
        raise SecurityViolation(f"consortium: {config.signature_path} does not verify {config.verification_key} "
                                f"with setup key {setup_id}: refusing to run with an unsigned verification key")
    try:
        vk = vk_from_bytes(vk_bytes, str(config.verification_key))
    except ValueError as exc:  # KeyFileError
        raise SecurityViolation(f"consortium: {exc}") from None
    if vk.n_public != N_PUBLIC:
        raise SecurityViolation(f"consortium: {config.verification_key} has {vk.n_public} public inputs; the risk "
                                f"signal has {N_PUBLIC}: not a key for this statement")
    members = {}
    for member_id, path in config.members.items():
        pem, key_id = _public_key(path, f"member {member_id}'s key")
        members[member_id] = Member(member_id, pem, key_id)
    weights = None
    if config.model_weights is not None:
        weights = tuple(config.model_weights) + (0,) * (N_FEATURES - len(config.model_weights))
    policy = Policy(vk=vk, vk_fingerprint=vk_fingerprint(vk_bytes), members=members,
                    min_threshold=config.min_threshold, max_age=timedelta(hours=config.max_age_hours),
                    max_skew=timedelta(seconds=config.max_skew_seconds), model_weights=weights,
                    model_digest=config.model_digest)
    return Trust(policy, setup_id)
