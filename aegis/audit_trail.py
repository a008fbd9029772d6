"""The kernel's side of every audit sink: idempotency, the hash chain, and signed checkpoints.

For each sink the trail asks which UETRs are already stored, chains the new records onto the
sink's own chain (so a sink that missed a batch in a crash never breaks another's chain), hands
them to the sink, and every ``checkpoint_every`` records or ``checkpoint_seconds`` seals them
with a checkpoint signed through the secrets plugin. Stopping seals what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from aegis.audit_chain import Chain, ChainHead, split_line
from aegis.config import AuditTrailConfig
from aegis.decide import DECISION_NAMES, Decisions
from aegis.model import utc_timestamp

if TYPE_CHECKING:
    from aegis._loading import LoadedPlugin
    from aegis._manager import PluginHost

log = logging.getLogger("aegis.audit")


class SinkTrail:
    """One sink's chain and checkpoints."""

    def __init__(self, host: PluginHost, sink: LoadedPlugin, config: AuditTrailConfig,
                 sign: Callable[[bytes], bytes]):
        self.host, self.sink, self.config, self.sign = host, sink, config, sign
        self.chain = Chain()
        self.duplicates_skipped = 0

    def open(self) -> None:
        head = self.host.one("aegis_audit_head", self.sink) or ChainHead()
        pending = []
        if head.seq > head.checkpoint_seq:
            for line in self.host.one("aegis_audit_scan", self.sink, after_seq=head.checkpoint_seq) or ():
                pending.append(split_line(line)[1]["hash"])
        if len(pending) != head.seq - head.checkpoint_seq:
            raise RuntimeError(f"{self.sink.path}: chain head says {head.seq - head.checkpoint_seq} unsealed "
                               f"records after seq {head.checkpoint_seq}, the sink returned {len(pending)}")
        self.chain = Chain(head=head, pending=pending)
        if pending:
            log.info("%s: %d record(s) not yet sealed; sealing them now", self.sink.path, len(pending))
            self.seal()

    def write(self, decisions: Decisions) -> None:
        uetrs = decisions.uetr
        known = set(self.host.one("aegis_audit_known", self.sink, uetrs=uetrs) or ())
        lines = decisions.lines()
        names = list(map(DECISION_NAMES.__getitem__, decisions.decision.tolist()))
        if known or len(set(uetrs)) != len(uetrs):
            keep = []
            for i, u in enumerate(uetrs):  # stored before, or earlier in this same batch
                if u not in known:
                    known.add(u)
                    keep.append(i)
            self.duplicates_skipped += len(uetrs) - len(keep)
            log.info("%s: %d record(s) already stored (re-delivered), not written again", self.sink.path,
                     len(uetrs) - len(keep))
            uetrs, lines, names = [uetrs[i] for i in keep], [lines[i] for i in keep], [names[i] for i in keep]
        records = self.chain.extend(uetrs, names, lines) if uetrs else []
        if records:
            self.host.call("aegis_audit_write", self.sink, decisions=decisions, records=records)
        if self.chain.due(self.config.checkpoint_every, self.config.checkpoint_seconds):
            self.seal()

    def seal(self) -> None:
        if not self.chain.unsealed:
            return
        timestamp = utc_timestamp()
        checkpoint = self.chain.seal(self.sink.path, self.host.context.deployment, self.config.signing_key,
                                     self.sign, timestamp)
        self.host.call("aegis_audit_checkpoint", self.sink, checkpoint=checkpoint)


class AuditTrail:
    """All sinks of a deployment."""

    def __init__(self, host: PluginHost, config: AuditTrailConfig, sign: Callable[[bytes], bytes] | None = None):
        self.sign = sign or (lambda data: host.sign(data, config.signing_key))
        self.sinks = [SinkTrail(host, lp, config, self.sign) for lp in host.family("audit")]

    def open(self) -> None:
        """Open every sink's chain, after one signature with the checkpoint key: a missing or unusable
        key fails the start instead of the first checkpoint, and that checkpoint (thousands of records
        later, on the screening thread) does not pay for loading the key and the signing library."""
        if self.sinks:
            self.sign(b"aegis audit trail: checkpoint signing key check")
        for sink in self.sinks:
            sink.open()

    def write(self, decisions: Decisions) -> None:
        for sink in self.sinks:
            sink.write(decisions)

    def seal(self) -> None:
        for sink in self.sinks:
            sink.seal()
