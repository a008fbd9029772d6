"""Deterministic UETRs for sources that carry none (PaySim rows).

A row's UETR is ``uuid5(namespace, f"{file name}:{line number}")`` (RFC 4122 name-based,
SHA-1), so replaying the same file gives the same UETRs and audit records stay idempotent.
It is computed for a whole chunk at once: one SHA-1 per row, then the version and variant
bits and the hex formatting are done on a numpy array instead of per-row string slicing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

import numpy as np

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: Positions of the 32 hex digits inside the 36-character hyphenated form.
_DIGIT_COLUMNS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_HYPHEN = ord("-")


def row_uetrs(namespace: uuid.UUID, file_name: str, line_numbers: Sequence[int]) -> list[str]:
    """``str(uuid.uuid5(namespace, f"{file_name}:{n}"))`` for every ``n``, computed in bulk."""
    n = len(line_numbers)
    if n == 0:
        return []
    prefix = hashlib.sha1(namespace.bytes + file_name.encode() + b":")
    copy = prefix.copy
    digests = []
    append = digests.append
    for line in line_numbers:
        h = copy()
        h.update(b"%d" % line)
        append(h.digest())
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    text = np.full((n, 36), _HYPHEN, dtype=np.uint8)
    text[:, _DIGIT_COLUMNS] = digits
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + 36] for i in range(0, 36 * n, 36)]
