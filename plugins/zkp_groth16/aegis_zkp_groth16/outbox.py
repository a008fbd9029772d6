"""Publishing consortium signals: sign each proved decision's signals and append them to the outbox feed."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from aegis.signing import fingerprint, verify
from aegis_zkp_groth16.consortium import Role, build_signal, pseudonym, signal_line

log = logging.getLogger("aegis.proving.groth16")

#: (role, pseudonym) of one party of a proved decision
Entity = tuple[Role, str]


class SignalPublisher:
    """Builds, signs and appends signals to a JSONL file: one line each, appended, flushed and fsynced
    under a lock (proofs complete on several callback threads)."""

    def __init__(self, *, member_id: str, pseudonym_key: bytes, roles: Sequence[Role], public_key_pem: bytes,
                 sign: Callable[[bytes], bytes], vk_fingerprint: str, outbox: Path, registry: CollectorRegistry):
        self.member_id, self.roles = member_id, tuple(roles)
        self.public_key_pem, self.key_id = public_key_pem, fingerprint(public_key_pem)
        self._key, self._sign, self.vk_fingerprint = pseudonym_key, sign, vk_fingerprint
        self.outbox = outbox
        outbox.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.published = Counter("aegis_zkp_signals_published", "consortium signals signed and appended to "
                                 "the outbox", registry=registry)
        self.failed = Counter("aegis_zkp_signals_failed", "consortium signals that could not be signed or "
                              "written", registry=registry)

    def entities(self, debtor_account: str, creditor_account: str) -> tuple[Entity, ...]:
        """The pseudonyms to publish for one decision: one per configured role."""
        accounts = {"debtor": debtor_account, "creditor": creditor_account}
        return tuple((role, pseudonym(self._key, accounts[role])) for role in self.roles)

    def publish(self, uetr: str, model: str, proof: dict, public_inputs: list[str],
                entities: Sequence[Entity]) -> list[dict]:
        """Sign and append one signal per entity; returns ``[{"signal_id", "role", "entity"}]`` of those
        written (an empty list and a logged error when signing or writing failed)."""
        try:
            signals = [build_signal(issuer=self.member_id, entity=entity, role=role, model=model,
                                    vk=self.vk_fingerprint, proof=proof, public_inputs=public_inputs,
                                    key_id=self.key_id, sign=self._sign) for role, entity in entities]
            data = b"".join(signal_line(s) for s in signals)
            with self._lock, open(self.outbox, "ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except Exception:
            self.failed.inc(len(entities))
            log.exception("consortium signal for %s was not published", uetr)
            return []
        self.published.inc(len(signals))
        return [{"signal_id": s["signal_id"], "role": s["role"], "entity": s["entity"]} for s in signals]

    def self_test(self) -> tuple[bool, str]:
        """The signing key signs and its signature verifies; the outbox's directory is writable."""
        probe = b"aegis consortium self-test " + os.urandom(8)  # not SIGNING_DOMAIN: never a valid signal
        try:
            signed = verify(self.public_key_pem, probe, self._sign(probe))
        except Exception as exc:  # a self-test reports every failure instead of raising
            return False, f"signing as {self.member_id} failed: {type(exc).__name__}: {exc}"
        writable = os.access(self.outbox.parent, os.W_OK)
        ok = signed and writable
        return ok, (f"{self.member_id} signs with {self.key_id}" + ("" if signed else ": signature does not verify")
                    + f"; outbox {self.outbox}" + ("" if writable else " is not writable"))
