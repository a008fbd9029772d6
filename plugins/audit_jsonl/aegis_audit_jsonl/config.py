"""The JSONL sink's configuration section."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FsyncPolicy = Literal["batch", "interval", "never"]


class JsonlAuditConfig(BaseModel):
    """Where the records and dead letters go and how durably they are written."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(Path("aegis_audit.jsonl"), description="the audit log (one decision record per line)")
    dead_letter_path: Path | None = Field(
        None, description="rejected input, one JSON line each; default: <stem>.dead_letter.jsonl next to path")
    fsync: FsyncPolicy = Field(
        "batch", description="batch: fsync before every write returns (durable against machine crashes); "
                             "interval: a background fsync every fsync_interval seconds, so a machine crash "
                             "loses at most that much; never: the OS decides when data reaches the disk")
    # 0.1 s, not 1 s: a machine crash loses less, and each fsync flushes a tenth as much. A large flush
    # (50 MB a second at 50,000 TPS) stalls the writes made meanwhile for milliseconds (bench/sidecar.py).
    fsync_interval: float = Field(0.1, gt=0, description="seconds between fsyncs under fsync: interval")
    rotate_bytes: int | None = Field(
        None, ge=1024, description="start a new file once the current one would exceed this many bytes; the "
                                   "old one becomes <stem>.<UTC timestamp>.<n>.jsonl")
    dedupe_tail: int = Field(
        65536, ge=1, description="at least how many recent UETRs are remembered (reloaded from the end of the log "
                                 "at startup; whole batches are forgotten at once) so a re-delivered record is "
                                 "not written twice")

    compress_rotated: bool = Field(
        False, description="gzip each rotated file (<stem>.<UTC timestamp>.<n>.jsonl.gz); verification, lookup and "
                           "export read archives transparently")
    retention_days: int | None = Field(
        default_factory=lambda: int(v) if (v := os.environ.get("AEGIS_AUDIT_RETENTION_DAYS")) else None, ge=1,
        description="delete rotated files older than this many days, whole checkpoint intervals only, leaving a "
                    "signed retention marker so verification still proves what remains (default: "
                    "AEGIS_AUDIT_RETENTION_DAYS, unset: keep forever)")
    signing_key: str = Field("audit", description="key that signs retention markers (the audit_trail key)")
    read_only: bool = Field(
        False, description="open the log for reading only (verification, export): no torn-tail repair, no writes")

    @property
    def checkpoints(self) -> Path:
        """Signed checkpoints of the hash chain: <stem>.checkpoints.jsonl next to path."""
        return self.path.with_name(f"{self.path.stem}.checkpoints.jsonl")

    @property
    def dead_letters(self) -> Path:
        return self.dead_letter_path or self.path.with_name(f"{self.path.stem}.dead_letter.jsonl")
