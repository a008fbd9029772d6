"""Offline verification of a sink's records and checkpoints.

Reports every modified, deleted, inserted or reordered record with its position, every
checkpoint whose Merkle root, chain link or signature does not hold, and how many records
at the end are not yet sealed by a checkpoint.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from aegis.audit_chain import (
    GENESIS,
    RETENTION,
    checkpoint_hash,
    checkpoint_payload,
    merkle_root,
    record_hash,
    split_line,
)
from aegis.signing import verify


@dataclass(frozen=True)
class Finding:
    """One problem: ``position`` is the record's place in storage (1-based), ``seq`` its chain number."""

    kind: str  # modified | deleted | inserted | reordered | unreadable | checkpoint | signature
    position: int | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        where = f"record {self.position}" if self.position is not None else "checkpoint"
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{self.kind.upper()} at {where}{seq}: {self.detail}"


@dataclass
class Report:
    records: int = 0
    checkpoints: int = 0
    sealed_through: int = 0
    purged_through: int = 0  # records up to this seq were deleted under a signed retention marker
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def unsealed(self) -> int:
        return max(0, self.records + self.purged_through - self.sealed_through)


def _horizon(markers: list[dict], checkpoints: list[dict], public_key_pem: bytes | None,
             report: Report) -> tuple[int, str]:
    """(last purged seq, its chain hash) from the newest valid retention marker, else (0, genesis)."""
    by_hash = {checkpoint_hash(c): c for c in checkpoints}
    for marker in reversed(markers):
        anchor = by_hash.get(marker.get("checkpoint_hash"))
        problem = None
        if anchor is None or int(anchor["to_seq"]) != int(marker["purged_through_seq"]) \
                or anchor["chain_head"] != marker["chain_head"]:
            problem = "does not match a stored checkpoint"
        elif public_key_pem is not None and not verify(public_key_pem, checkpoint_payload(marker),
                                                       base64.b64decode(marker["signature"])):
            problem = "signature does not verify with the given public key"
        if problem:
            report.findings.append(Finding("signature" if "signature" in problem else "checkpoint", None, None,
                                           f"retention marker through seq {marker.get('purged_through_seq')}: "
                                           f"{problem}"))
            continue
        report.purged_through = int(marker["purged_through_seq"])
        return report.purged_through, marker["chain_head"]
    return 0, GENESIS


def verify_trail(lines: Iterable[bytes], checkpoints: Iterable[dict], public_key_pem: bytes | None) -> Report:
    """Walk the records in stored order, then check each checkpoint against them.

    Records deleted by a retention policy are accepted only up to a signed retention marker that
    is anchored in the checkpoint chain; anything else missing is a deletion.
    """
    report = Report()
    everything = list(checkpoints)
    markers = [c for c in everything if c.get("type") == RETENTION]
    checkpoints = [c for c in everything if c.get("type") != RETENTION]
    purged, purged_head = _horizon(markers, checkpoints, public_key_pem, report)
    entries: list[tuple[int, int, str, str, str]] = []  # position, seq, prev, claimed hash, actual hash
    for position, line in enumerate(lines, start=1):
        report.records += 1
        try:
            body, chain = split_line(line)
            entry = (position, int(chain["seq"]), chain["prev"], chain["hash"], "")
            orjson.loads(body)
        except (ValueError, KeyError, TypeError) as exc:
            report.findings.append(Finding("unreadable", position, None, f"{exc} (torn or corrupted line)"))
            continue
        entries.append((*entry[:4], record_hash(entry[2], body)))
    present = {seq for _, seq, *_ in entries}

    hashes: dict[int, str] = {}  # seq -> recomputed hash of the record first stored under that seq
    prev, expected = purged_head, purged + 1
    for position, seq, claimed_prev, claimed, actual in entries:
        if actual != claimed:
            report.findings.append(Finding("modified", position, seq,
                                           "content does not match its hash (record altered)"))
        if seq > expected:
            gap = range(expected, seq)
            if any(s in present for s in gap):
                report.findings.append(Finding("reordered", position, seq, f"stored before seq {expected}"))
            else:
                report.findings.append(Finding("deleted", position, seq,
                                               f"records seq {expected}..{seq - 1} are missing before it"))
        elif seq < expected:
            kind = "inserted" if seq in hashes else "reordered"
            report.findings.append(Finding(kind, position, seq, f"seq {seq} stored after seq {expected - 1}"
                                           + (" again (a copy)" if kind == "inserted" else "")))
        elif claimed_prev != prev:
            report.findings.append(Finding("inserted", position, seq,
                                           "does not link to the record before it (inserted or replaced)"))
        hashes.setdefault(seq, actual)
        prev = claimed
        expected = max(expected, seq + 1)

    prev_checkpoint = GENESIS
    for cp in checkpoints:
        report.checkpoints += 1
        span = f"seq {cp.get('from_seq')}..{cp.get('to_seq')}"
        if int(cp["to_seq"]) <= purged:  # its records were deleted under retention: check the links only
            if cp.get("prev_checkpoint") != prev_checkpoint:
                report.findings.append(Finding("checkpoint", None, None, f"{span}: does not link to the previous "
                                                                         f"checkpoint (one removed?)"))
            prev_checkpoint = checkpoint_hash(cp)
            report.sealed_through = max(report.sealed_through, int(cp["to_seq"]))
            continue
        try:
            covered = [hashes[s] for s in range(int(cp["from_seq"]), int(cp["to_seq"]) + 1)]
        except KeyError as exc:
            report.findings.append(Finding("deleted", None, int(str(exc)), f"checkpoint {span} seals a record "
                                                                            f"that is not stored"))
            continue
        if merkle_root(covered) != cp["merkle_root"]:
            report.findings.append(Finding("checkpoint", None, None,
                                           f"{span}: Merkle root does not match the stored records"))
        if cp.get("chain_head") != covered[-1]:
            report.findings.append(Finding("checkpoint", None, None, f"{span}: chain head differs"))
        if cp.get("prev_checkpoint") != prev_checkpoint:
            report.findings.append(Finding("checkpoint", None, None,
                                           f"{span}: does not link to the previous checkpoint (one removed?)"))
        if public_key_pem is not None:
            try:
                ok = verify(public_key_pem, checkpoint_payload(cp), base64.b64decode(cp["signature"]))
            except (ValueError, KeyError) as exc:
                ok, why = False, str(exc)
            else:
                why = "signature does not verify with the given public key"
            if not ok:
                report.findings.append(Finding("signature", None, None, f"{span}: {why}"))
        prev_checkpoint = checkpoint_hash(cp)
        report.sealed_through = max(report.sealed_through, int(cp["to_seq"]))
    return report
