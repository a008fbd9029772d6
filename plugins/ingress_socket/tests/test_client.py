"""aegis.client against a real deployment: sync and asyncio, timeouts, BUSY retries, RETRY."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from aegis.client import AsyncClient, Backoff, Busy, Client, Decision, RecordError, Rejected, ScreeningTimeout
from aegis.client.wire import OK, RETRY, SCREEN
from aegis.model import TRANSACTION
from aegis.testing import PluginHarness
from aegis.testing.samples import transactions


def test_sync_client(sidecar):
    txs = transactions(120, seed=50)
    with Client(sidecar.endpoint, timeout=5) as client:
        one = client.screen(TRANSACTION.validate_python(txs[0]))  # a model works as well as a mapping
        assert isinstance(one, Decision) and one.uetr == txs[0]["uetr"]
        assert one.decision in ("CLEAR", "INVESTIGATE", "BLOCK") and one.record["origin"].startswith("zmq:")
        bad = {**txs[1], "currency": "XXQ"}
        batch = client.screen_batch([bad, *txs[2:10]])  # as the lines of one frame
        assert isinstance(batch[0], RecordError) and "currency" in batch[0].error
        assert [d.uetr for d in batch[1:]] == [t["uetr"] for t in txs[2:10]]
        pretty = client.screen_batch([orjson.dumps(txs[10], option=orjson.OPT_INDENT_2), txs[11]])
        assert [d.uetr for d in pretty] == [txs[10]["uetr"], txs[11]["uetr"]]  # a frame each: JSON with line feeds
        many = client.screen_many(txs[12:], window=32)
        assert [d.uetr for d in many] == [t["uetr"] for t in txs[12:]]
        with pytest.raises(Rejected, match="currency"):
            client.screen({**txs[1], "uetr": "2b7c7b47-1f44-4b7e-9d3b-6a1d2c3e4f50", "currency": "XXQ"})
        assert client.ping()["status"] == "SERVING"
    assert len(sidecar.records) == 119


def test_async_client(sidecar):
    txs = transactions(100, seed=51)

    async def main():
        async with AsyncClient(sidecar.endpoint, timeout=5) as client:
            decisions = await asyncio.gather(*(client.screen(t) for t in txs[:90]))
            batch = await client.screen_batch(txs[90:])
            health = await client.ping()
            return decisions, batch, health

    decisions, batch, health = asyncio.run(main())
    assert [d.uetr for d in decisions] == [t["uetr"] for t in txs[:90]]
    assert [d.uetr for d in batch] == [t["uetr"] for t in txs[90:]]
    assert health["status"] == "SERVING"


def test_timeout_resends_as_retry_then_gives_up(tmp_path):
    with PluginHarness("ingress", "socket", {"port": 0}, tmp_path) as h:  # nobody screens
        started = time.perf_counter()
        with Client(h.plugin.endpoint, timeout=0.2, retries=1) as client, pytest.raises(ScreeningTimeout):
            client.screen(transactions(1, seed=52)[0])
        assert 0.35 < time.perf_counter() - started < 1.5
        raw = h.call("aegis_ingress_poll", max_records=10)
        requests = {p.retry for p, _ in raw.token.values()}
        assert len(raw.payloads) == 2 and requests == {False, True}  # SCREEN, then RETRY
        with Client(h.plugin.endpoint, timeout=0.2, retries=1) as client, pytest.raises(ScreeningTimeout):
            client.screen_batch(transactions(2, seed=58))
        raw = h.call("aegis_ingress_poll", max_records=10)
        requests = {(p.retry, p.lines) for p, _ in raw.token.values()}
        assert len(raw.payloads) == 4 and requests == {(False, True), (True, True)}  # SCREEN_LINES, RETRY_LINES

    async def main(endpoint):
        async with AsyncClient(endpoint, timeout=0.2, retries=1) as client:
            await client.screen(transactions(1, seed=53)[0])

    with PluginHarness("ingress", "socket", {"port": 0}, tmp_path) as h, pytest.raises(ScreeningTimeout):
        asyncio.run(main(h.plugin.endpoint))


def test_busy_is_retried_with_backoff_then_raised(tmp_path, sockets):
    with PluginHarness("ingress", "socket", {"port": 0, "max_in_flight": 1}, tmp_path) as h:
        hog = sockets.dealer(h.plugin.endpoint)
        hog.send_multipart([b"hog", SCREEN, orjson.dumps(transactions(1, seed=54)[0])])
        while h.plugin.window.in_flight == 0:
            time.sleep(0.005)
        backoff = Backoff(initial=0.02, factor=2, maximum=0.1, jitter=0)
        started = time.perf_counter()
        with Client(h.plugin.endpoint, retries=2, backoff=backoff) as client, pytest.raises(Busy):
            client.screen(transactions(1, seed=55)[0])
        assert time.perf_counter() - started >= 0.06  # waited 20 ms, then 40 ms
        assert h.plugin.window.drops_total == 3


def test_busy_retries_get_everything_through_a_small_window(tmp_path, start):
    txs = transactions(300, seed=56)
    with start(tmp_path, {"max_in_flight": 4}) as sidecar:
        with Client(sidecar.endpoint, timeout=5, retries=50) as client:
            decisions = client.screen_many(txs, window=64)
        assert [d.uetr for d in decisions] == [t["uetr"] for t in txs]
        assert sidecar.plugin.window.drops_total > 0
        assert len(sidecar.records) == 300


def test_repeat_and_retry_get_the_recorded_decision_not_a_second_record(sidecar, sockets):
    tx = transactions(1, seed=57)[0]
    tx["creditor"]["country"] = "KP"
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"first", SCREEN, orjson.dumps(tx)])
    first = sockets.receive(client)
    client.send_multipart([b"again", SCREEN, orjson.dumps(tx)])  # a duplicate UETR
    client.send_multipart([b"retry", RETRY, orjson.dumps(tx)])
    replies = {r[0]: r[1:] for r in (sockets.receive(client), sockets.receive(client))}
    assert first[1] == OK and replies[b"again"] == first[1:] and replies[b"retry"] == first[1:]
    assert [r["uetr"] for r in sidecar.records] == [tx["uetr"]]
