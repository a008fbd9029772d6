"""Finding one decision record by UETR: a linear scan of the log files (memory-mapped, no index).

The scan searches the raw bytes for ``"uetr":"<uetr>"`` and parses only the lines that contain
it, so it reads at disk/memory speed, but it is still O(size of the logs): fine for regulatory
export and the dashboard's occasional lookups, not for a hot path (the SQLite sink indexes UETRs).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import orjson

from aegis_audit_jsonl.append_file import read_archive


def find_record(paths: list[Path], uetr: str) -> dict | None:
    """The first record (searching ``paths`` in order) whose ``uetr`` is ``uetr``, or ``None``."""
    needle = b'"uetr":"' + uetr.lower().encode() + b'"'
    for path in paths:
        if path.suffix == ".gz":  # a compressed archive: search it in memory
            try:
                found = _scan(read_archive(path), needle, uetr.lower())
            except FileNotFoundError:
                continue
            if found is not None:
                return found
            continue
        try:
            with open(path, "rb") as f:
                if f.seek(0, 2) == 0:
                    continue
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    found = _scan(data, needle, uetr.lower())
        except FileNotFoundError:  # rotated away while we looked
            continue
        if found is not None:
            return found
    return None


def _scan(data: mmap.mmap | bytes, needle: bytes, uetr: str) -> dict | None:
    at = data.find(needle)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        if end < 0:
            end = len(data)
        try:
            record = orjson.loads(data[start:end])
        except orjson.JSONDecodeError:  # a line being written right now
            record = None
        if isinstance(record, dict) and record.get("uetr") == uetr:
            return record
        at = data.find(needle, end)
    return None
