"""Decoding of raw ingress records into a validated :class:`~aegis.model.Batch`.

Well-formed records take the fast path (:mod:`aegis.fast_decode`); the model validates the
rest, so a bad record is rejected with pydantic's precise reason and the others are kept.
Nothing is dropped silently: every input record ends up in the batch or in the returned rejects.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from aegis.fast_decode import fast_batch
from aegis.model import TRANSACTION, AccountIndex, Batch, BatchColumns, RawBatch, Reject, Transaction, TransactionRow


def _reason(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e["loc"]) or "(record)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def _payload_bytes(payload: Any) -> bytes:
    """A rejected payload as bytes for its dead letter (a mapping as JSON, whatever it holds)."""
    if isinstance(payload, bytes):
        return payload
    try:
        return orjson.dumps(payload, default=str)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits, which orjson does not write
        return json.dumps(payload, default=str).encode()


def _uetr_of(payload: Any) -> str | None:
    """The ``uetr`` a rejected payload names, if it names one (so its reject can be matched up)."""
    if isinstance(payload, (bytes, str)):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
    uetr = payload.get("uetr") if isinstance(payload, dict) else None
    return str(uetr) if uetr else None


def _validate_one(payload: Any) -> Transaction | str:
    try:
        if isinstance(payload, (bytes, str)):
            return TRANSACTION.validate_json(payload)
        return TRANSACTION.validate_python(payload)
    except ValidationError as exc:
        return _reason(exc.errors(include_url=False))


def _slow_row(payload: Any) -> TransactionRow | str:
    """The row the model makes of a payload the fast path left to it, or the reason it was rejected.

    JSON documents are validated one by one, never joined into one array: a payload holding
    ``{..},{..}`` must be one bad record, not two transactions out of line with their origins.
    """
    result = _validate_one(payload)
    if isinstance(result, str):
        return result
    return TransactionRow.of(result, TRANSACTION.dump_json(result, exclude_none=True))


def _validated(payloads: list[Any], origins: list[str], labels: dict[str, list[Any]], rejects: list[Reject],
               shards: list[int] | np.ndarray | None = None
               ) -> tuple[BatchColumns | None, list[Reject]]:
    # The fast path takes well-formed payloads (the common case: all of them); the model decides
    # the rest and words every reason.
    rows = fast_batch(payloads)
    rejects = list(rejects)
    keep: list[int] | None = None
    if None in rows:
        keep = []
        for i, row in enumerate(rows):
            if row is None:
                result = _slow_row(payloads[i])
                if isinstance(result, str):
                    payload = payloads[i]
                    rejects.append(Reject(origin=origins[i], reason=result, payload=_payload_bytes(payload),
                                          uetr=_uetr_of(payload)))
                    continue
                rows[i] = result.fields()
            keep.append(i)
        if len(keep) < len(rows):
            rows = [rows[i] for i in keep]
        else:
            keep = None
    shard = None
    if shards is not None:
        shard = np.asarray(shards, dtype=np.int32)
        if shard.shape != (len(payloads),):
            raise ValueError(f"RawBatch.shards has {shard.size} entries for {len(payloads)} payloads")
    if not rows:
        return None, rejects
    if keep is None:
        return BatchColumns.of_fields(rows, origins, {k: np.asarray(v) for k, v in labels.items()}, shard), rejects
    return BatchColumns.of_fields(rows, [origins[i] for i in keep],
                                  {k: np.asarray([v[i] for i in keep]) for k, v in labels.items()},
                                  shard[keep] if shard is not None else None), rejects


def decode(raw: RawBatch, accounts: AccountIndex) -> tuple[Batch | None, list[Reject]]:
    """Validate ``raw`` into a batch plus the rejects (with the ingress's own rejects first)."""
    columns, rejects = _validated(raw.payloads, raw.origins, raw.labels, raw.rejects, raw.shards)
    return (Batch.from_columns(columns, accounts) if columns is not None else None), rejects


def decode_columns(payloads: list[Any], origins: list[str], labels: dict[str, list[Any]],
                   rejects: list[Reject], shards: list[int] | np.ndarray | None = None
                   ) -> tuple[BatchColumns | None, list[Reject]]:
    """:func:`decode` for a worker process: the columns and canonical JSON, without account ids
    (those are interned by the process that scores, :meth:`Batch.from_columns`)."""
    return _validated(payloads, origins, labels, rejects, shards)
