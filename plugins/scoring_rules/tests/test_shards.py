"""Partition-local state: a shard's velocity and amount history move to another process by checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from aegis.decode import decode
from aegis.model import Batch, RawBatch

MINUTE = 60
COUNT_1H = {"windows": [{"window": "1h", "max_count": 10}], "ramp_from": 0.7}


def _batch(h, txs: list[dict], shard: int) -> Batch:
    """Decode as the pipeline does: with the host's account index and a shard per record."""
    raw = RawBatch(source="test", payloads=txs, origins=[f"t:{i}" for i in range(len(txs))],
                   shards=[shard] * len(txs))
    batch, rejects = decode(raw, h.host.accounts)
    assert batch is not None and not rejects
    return batch


def _velocity(h, batch: Batch) -> np.ndarray:
    return h.score(batch).factors["VELOCITY"].scores


def test_velocity_window_continues_in_the_process_that_restores_the_shard(start_rules, payments):
    old, new, fresh = (start_rules(velocity=COUNT_1H) for _ in range(3))
    history = payments(1, [k * MINUTE for k in range(7)])
    later = payments(1, [(7 + k) * MINUTE for k in range(3)])
    other = payments(2, [k * MINUTE for k in range(3)])
    assert not _velocity(old, _batch(old, history, shard=5)).any()
    _velocity(old, _batch(old, other, shard=6))
    blobs = {5: old.call("aegis_scoring_state_save", shards=[5])}
    # The new owner interned other accounts first: ids differ, the checkpoint names accounts by string.
    _velocity(new, _batch(new, other, shard=6))
    new.call("aegis_scoring_state_restore", shards=[5], blobs=blobs)
    continued = _velocity(new, _batch(new, later, shard=5))
    np.testing.assert_allclose(continued, [1 / 3, 2 / 3, 1.0])  # payments 8, 9, 10 of the hour
    assert not _velocity(fresh, _batch(fresh, later, shard=5)).any()  # without the state: nothing


def test_checkpoint_holds_only_the_accounts_of_its_shards(start_rules, payments):
    h = start_rules(velocity=COUNT_1H)
    _velocity(h, _batch(h, payments(1, [k * MINUTE for k in range(9)]), shard=0))
    _velocity(h, _batch(h, payments(2, [k * MINUTE for k in range(9)]), shard=1))
    blob = h.call("aegis_scoring_state_save", shards=[1])
    target = start_rules(velocity=COUNT_1H)
    target.call("aegis_scoring_state_restore", shards=[1], blobs={1: blob})
    assert _velocity(target, _batch(target, payments(2, [9 * MINUTE]), shard=1))[0] > 0
    assert _velocity(target, _batch(target, payments(1, [9 * MINUTE]), shard=0))[0] == 0


def test_restore_without_checkpoint_drops_the_shards_state(start_rules, payments):
    h = start_rules(velocity=COUNT_1H)
    _velocity(h, _batch(h, payments(1, [k * MINUTE for k in range(9)]), shard=3))
    h.call("aegis_scoring_state_restore", shards=[3], blobs={})
    assert _velocity(h, _batch(h, payments(1, [9 * MINUTE]), shard=3))[0] == 0


def test_checkpoint_of_another_ring_size_is_refused(start_rules, payments):
    small = start_rules(velocity={**COUNT_1H, "ring_size": 16})
    _velocity(small, _batch(small, payments(1, [0, MINUTE]), shard=2))
    blob = small.call("aegis_scoring_state_save", shards=[2])
    h = start_rules(velocity=COUNT_1H)
    with pytest.raises(ValueError, match=r"shard 2 has velocity\.ring_size 16"):
        h.call("aegis_scoring_state_restore", shards=[2], blobs={2: blob})
    with pytest.raises(ValueError, match="shard 2 is unreadable"):
        h.call("aegis_scoring_state_restore", shards=[2], blobs={2: b"not an npz"})
