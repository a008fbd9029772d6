"""The SQLite sink's configuration section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Synchronous = Literal["FULL", "NORMAL"]


class SqliteAuditConfig(BaseModel):
    """Where the database is and how durably each batch is committed."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(Path("aegis_audit.db"), description="the audit database (created with its directory)")
    synchronous: Synchronous = Field(
        "FULL", description="FULL: every batch commit fsyncs the write-ahead log before the write returns "
                            "(durable against machine crashes); NORMAL: the log is fsynced only when it is "
                            "checkpointed into the database, so a machine crash can lose the last batches (a "
                            "process crash loses nothing). Checkpoints of the hash chain are always fsynced")
    busy_timeout: float = Field(
        5.0, ge=0, description="seconds a write waits for another connection's lock (a backup, a reader "
                               "checkpointing the log) before failing the batch")
    read_only: bool = Field(
        False, description="open the database for reading only (verification, export, backup): no schema "
                           "changes, no writes")
