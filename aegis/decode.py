"""Decoding of raw ingress records into a validated :class:`~aegis.model.Batch`.

The whole batch is validated in one pydantic-core call; when some records are bad the
errors carry their index, so those are rejected with their reasons and the rest are
kept. Nothing is dropped silently: every input record ends up in the batch or in the
returned rejects.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from aegis.model import TRANSACTION, TRANSACTIONS, AccountIndex, Batch, BatchColumns, RawBatch, Reject, Transaction


def _reason(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e["loc"]) or "(record)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def _payload_bytes(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else orjson.dumps(payload, default=str)


def _validate_one(payload: Any) -> Transaction | str:
    try:
        if isinstance(payload, (bytes, str)):
            return TRANSACTION.validate_json(payload)
        return TRANSACTION.validate_python(payload)
    except ValidationError as exc:
        return _reason(exc.errors(include_url=False))


def _validate_many(payloads: list[Any]) -> list[Transaction | str]:
    """One result per payload: the transaction, or the reason it was rejected.

    JSON documents are validated one by one, never joined into one array: a payload holding
    ``{..},{..}`` must be one bad record, not two transactions out of line with their origins.
    Mappings are validated in one call (their errors carry the record's index).
    """
    if not payloads:
        return []
    if any(isinstance(p, (bytes, str)) for p in payloads):
        return [_validate_one(p) for p in payloads]
    try:
        return list(TRANSACTIONS.validate_python(payloads))
    except ValidationError as exc:
        by_index: dict[int, list[dict]] = defaultdict(list)
        for e in exc.errors(include_url=False):
            loc = e["loc"]
            if not loc or not isinstance(loc[0], int):
                return [_validate_one(p) for p in payloads]
            by_index[loc[0]].append({**e, "loc": loc[1:]})
    good = [i for i in range(len(payloads)) if i not in by_index]
    kept = _validate_many([payloads[i] for i in good]) if good else []
    out: list[Transaction | str] = [""] * len(payloads)
    for i, errs in by_index.items():
        out[i] = _reason(errs)
    for i, result in zip(good, kept, strict=True):
        out[i] = result
    return out


def _validated(payloads: list[Any], origins: list[str], labels: dict[str, list[Any]], rejects: list[Reject],
               shards: list[int] | np.ndarray | None = None
               ) -> tuple[list[Transaction], list[str], dict[str, np.ndarray], list[Reject], np.ndarray | None]:
    results = _validate_many(payloads)
    rejects = list(rejects)
    keep: list[int] = []
    txs: list[Transaction] = []
    for i, result in enumerate(results):
        if isinstance(result, str):
            payload = payloads[i]
            uetr = payload.get("uetr") if isinstance(payload, dict) else None
            rejects.append(Reject(origin=origins[i], reason=result, payload=_payload_bytes(payload),
                                  uetr=str(uetr) if uetr else None))
        else:
            keep.append(i)
            txs.append(result)
    shard = None
    if shards is not None:
        shard = np.asarray(shards, dtype=np.int32)
        if shard.shape != (len(payloads),):
            raise ValueError(f"RawBatch.shards has {shard.size} entries for {len(payloads)} payloads")
    if len(keep) == len(results):
        return txs, origins, {k: np.asarray(v) for k, v in labels.items()}, rejects, shard
    return (txs, [origins[i] for i in keep], {k: np.asarray([v[i] for i in keep]) for k, v in labels.items()},
            rejects, shard[keep] if shard is not None else None)


def decode(raw: RawBatch, accounts: AccountIndex) -> tuple[Batch | None, list[Reject]]:
    """Validate ``raw`` into a batch plus the rejects (with the ingress's own rejects first)."""
    txs, origins, labels, rejects, shard = _validated(raw.payloads, raw.origins, raw.labels, raw.rejects,
                                                      raw.shards)
    if not txs:
        return None, rejects
    return Batch.from_transactions(txs, accounts, origins=origins, labels=labels, shard=shard), rejects


def decode_columns(payloads: list[Any], origins: list[str], labels: dict[str, list[Any]],
                   rejects: list[Reject], shards: list[int] | np.ndarray | None = None
                   ) -> tuple[BatchColumns | None, list[Reject]]:
    """:func:`decode` for a worker process: the columns and canonical JSON, without account ids
    (those are interned by the process that scores, :meth:`Batch.from_columns`)."""
    txs, origins, labels, rejects, shard = _validated(payloads, origins, labels, rejects, shards)
    if not txs:
        return None, rejects
    return BatchColumns.of(txs, origins, labels, canonical=True, shard=shard), rejects
