"""Transactions into request frames, reply frames into results or errors (both clients share this)."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from aegis.client.results import Busy, Decision, RecordError, RequestError, error_message, parse_result
from aegis.client.wire import BUSY, ERROR, OK, REJECTED, SCREEN, SCREEN_LINES

#: A transaction as the client accepts it: a mapping, JSON bytes/str, or a pydantic model.
TransactionLike = Any


def encode_transaction(tx: TransactionLike) -> bytes:
    """One transaction frame (JSON)."""
    if isinstance(tx, bytes):
        return tx
    if isinstance(tx, str):
        return tx.encode()
    dump = getattr(tx, "model_dump_json", None)
    if dump is not None:
        return dump(exclude_none=True).encode()
    return orjson.dumps(tx, default=str)


def batch_request(frames: list[bytes]) -> tuple[bytes, list[bytes]]:
    """Verb and transaction frames of a batch: its transactions as the lines of one frame
    (SCREEN_LINES) when none holds a line feed, else (e.g. pretty-printed JSON) a frame each."""
    if len(frames) > 1 and not any(b"\n" in f for f in frames):
        return SCREEN_LINES, [b"\n".join(frames)]
    return SCREEN, frames


class RequestIds:
    """Request ids unique within one client (8 bytes, big-endian counter)."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def __call__(self) -> bytes:
        return next(self._next).to_bytes(8, "big")


def retry_after(frames: list[bytes]) -> float:
    """The server's hint (``retry_after_ms``) in a BUSY reply, in seconds."""
    try:
        return float(orjson.loads(frames[0]).get("retry_after_ms", 0)) / 1000
    except (IndexError, orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return 0.0


def results_of(status: bytes, frames: list[bytes], lines: bool = False) -> list[Decision | RecordError]:
    """The results of an OK or REJECTED reply (``lines``: as the lines of one frame); raise for ERROR,
    BUSY or an unknown status."""
    if status in (OK, REJECTED):
        if lines and frames:
            frames = frames[0].split(b"\n")
        return [parse_result(f) for f in frames]
    if status == ERROR:
        raise RequestError(error_message(frames))
    if status == BUSY:
        raise Busy(error_message(frames))
    raise RequestError(f"unexpected reply status {status[:32]!r}")
