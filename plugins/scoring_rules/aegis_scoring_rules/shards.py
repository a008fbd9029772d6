"""Partition-local state: which shard each debtor account's state belongs to, and its checkpoints.

A source with shards (a Kafka partition per debtor account) moves a shard's accounts to another
process on a rebalance. The plugin remembers each account's shard as it scores, and a checkpoint
of a shard holds those accounts' :mod:`~aegis_scoring_rules.state` records named by account
*string* (ids are per process), as an ``.npz`` archive (numpy's format, never a pickle).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from aegis_scoring_rules.state import AccountState

#: Version of the checkpoint layout; bumped when the state records change.
FORMAT = 1
_NONE = -1


class ShardLedger:
    """The shard of every debtor account id seen with one (``-1``: none)."""

    def __init__(self, capacity: int = 1024):
        self.shard_of = np.full(max(capacity, 1), _NONE, dtype=np.int32)

    def _ensure(self, max_account: int) -> None:
        size = self.shard_of.shape[0]
        if max_account >= size:
            grown = np.full(max(2 * size, max_account + 1), _NONE, dtype=np.int32)
            grown[:size] = self.shard_of
            self.shard_of = grown

    def note(self, accounts: np.ndarray, shards: np.ndarray) -> None:
        """Record the shard of each account of a batch (the latest wins)."""
        if accounts.shape[0]:
            self._ensure(int(accounts.max()))
            self.shard_of[accounts] = shards

    def accounts_of(self, shards: Sequence[int]) -> np.ndarray:
        return np.flatnonzero(np.isin(self.shard_of, np.asarray(shards, dtype=np.int32)))

    def save(self, state: AccountState, shards: Sequence[int], names: Callable[[np.ndarray], list[str]]) -> bytes:
        """The state of the accounts of ``shards`` as an ``.npz`` archive keyed by account string."""
        ids = self.accounts_of(shards)
        ids = ids[ids < state.capacity]
        out = io.BytesIO()
        np.savez(out, format=np.int64(FORMAT), ring_size=np.int64(state.ring_size),
                 names=np.array(names(ids), dtype=np.str_), accounts=state.accounts[ids], ring=state.ring[ids])
        return out.getvalue()

    def restore(self, state: AccountState, shards: Sequence[int], blobs: Mapping[int, bytes],
                intern: Callable[[list[str]], np.ndarray]) -> int:
        """Drop the state of ``shards``, then load ``blobs``; returns the accounts restored."""
        old = self.accounts_of(shards)
        old = old[old < state.capacity]
        state.accounts[old] = 0
        state.ring[old] = 0
        self.shard_of[old] = _NONE
        restored = 0
        for shard, blob in blobs.items():
            try:
                with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
                    fmt, ring_size = int(archive["format"]), int(archive["ring_size"])
                    names, accounts, ring = archive["names"].tolist(), archive["accounts"], archive["ring"]
            except (OSError, ValueError, KeyError) as exc:
                raise ValueError(f"rules: state checkpoint of shard {shard} is unreadable ({exc})") from None
            if fmt != FORMAT:
                raise ValueError(f"rules: state checkpoint of shard {shard} has format {fmt}, this version "
                                 f"reads {FORMAT}")
            if ring_size != state.ring_size:
                raise ValueError(f"rules: state checkpoint of shard {shard} has velocity.ring_size {ring_size}, "
                                 f"the configuration says {state.ring_size}")
            if not names:
                continue
            ids = intern(names)
            top = int(ids.max())
            state.ensure(top)
            self._ensure(top)
            state.accounts[ids] = accounts
            state.ring[ids] = ring
            self.shard_of[ids] = shard
            restored += len(names)
        return restored
