"""The plugin on its own (kernel harness, nobody screening): health pings, the in-flight window,
BUSY and drops, how waiting requests become batches, replies from the acknowledgement."""

from __future__ import annotations

import time

import orjson

from aegis.client.wire import BUSY, ERROR, OK, PING, PONG, REJECTED, SCREEN
from aegis.decode import decode
from aegis.testing import PluginHarness
from aegis.testing.samples import transactions


def harness(tmp_path, **config) -> PluginHarness:
    return PluginHarness("ingress", "socket", {"port": 0, **config}, tmp_path / "state")


def acknowledge(h: PluginHarness, raw) -> None:
    """Decide the batch (harness decisions) and acknowledge it, as the kernel would after audit."""
    batch, rejects = decode(raw, h.accounts)
    h.call("aegis_ingress_ack", batch=raw, decisions=h.decisions(batch) if batch else None, rejects=rejects)


def poll(h: PluginHarness, max_records: int = 100, attempts: int = 100):
    for _ in range(attempts):
        raw = h.call("aegis_ingress_poll", max_records=max_records)
        if raw is not None:
            return raw
    raise AssertionError("no batch")


def test_health_ping_answers_without_the_pipeline(tmp_path, sockets):
    with harness(tmp_path) as h:
        req = sockets.req(h.plugin.endpoint)
        req.send(PING)  # the operator guide's one-liner health check
        status, figures = sockets.receive(req)
        assert status == PONG and orjson.loads(figures)["status"] == "SERVING"
        req.send_multipart([b"hc-1", PING])
        request_id, status, figures = sockets.receive(req)
        assert (request_id, status) == (b"hc-1", PONG)
        assert orjson.loads(figures)["in_flight"] == 0


def test_health_turns_not_serving_when_requests_stall(tmp_path, sockets):
    with harness(tmp_path, stall_after_s=0.2) as h:
        client = sockets.dealer(h.plugin.endpoint)
        client.send_multipart([b"r", SCREEN, orjson.dumps(transactions(1)[0])])
        time.sleep(0.4)  # nobody polls: the request is never screened
        client.send_multipart([b"hc", PING])
        request_id, status, figures = sockets.receive(client)
        health = orjson.loads(figures)
        assert (request_id, status, health["status"], health["in_flight"]) == (b"hc", PONG, "NOT_SERVING", 1)


def test_busy_beyond_the_window_at_once_and_counted_as_drops(tmp_path, sockets):
    txs = [orjson.dumps(t) for t in transactions(8, seed=2)]
    with harness(tmp_path, max_in_flight=5) as h:
        client = sockets.dealer(h.plugin.endpoint)
        client.send_multipart([b"batch", SCREEN, *txs[:4]])
        client.send_multipart([b"one", SCREEN, txs[4]])   # fills the window exactly
        started = time.perf_counter()
        client.send_multipart([b"two", SCREEN, *txs[5:7]])  # 2 more: refused
        request_id, status, detail = sockets.receive(client, 2000)
        assert time.perf_counter() - started < 0.5
        assert (request_id, status) == (b"two", BUSY)
        assert orjson.loads(detail)["max_in_flight"] == 5
        raw = poll(h)
        assert raw.drops == 2 and len(raw.payloads) == 5
        acknowledge(h, raw)
        replies = {sockets.receive(client)[0] for _ in range(2)}
        assert replies == {b"batch", b"one"}
        client.send_multipart([b"three", SCREEN, txs[7]])  # the window is free again
        assert len(poll(h).payloads) == 1


def test_drops_are_reported_even_when_no_request_follows(tmp_path, sockets):
    with harness(tmp_path, max_in_flight=1) as h:
        client = sockets.dealer(h.plugin.endpoint)
        client.send_multipart([b"a", SCREEN, orjson.dumps(transactions(1)[0])])
        client.send_multipart([b"b", SCREEN, orjson.dumps(transactions(1, seed=3)[0])])
        assert sockets.receive(client)[1] == BUSY
        time.sleep(0.1)
        first = poll(h)
        assert len(first.payloads) == 1 and first.drops == 1
        assert h.call("aegis_ingress_poll", max_records=10) is None
        client.send_multipart([b"c", SCREEN, orjson.dumps(transactions(1, seed=4)[0])])
        assert sockets.receive(client)[:2] == [b"c", BUSY]
        carrier = poll(h)  # nothing to screen, but the drop must still reach the kernel
        assert (carrier.payloads, carrier.rejects, carrier.drops) == ([], [], 1)


def test_waiting_requests_are_batched_and_split_at_max_records(tmp_path, sockets):
    txs = transactions(25, seed=4)
    with harness(tmp_path) as h:
        client = sockets.dealer(h.plugin.endpoint)
        client.send_multipart([b"big", SCREEN, *(orjson.dumps(t) for t in txs[:20])])
        for i, t in enumerate(txs[20:]):
            client.send_multipart([b"s%d" % i, SCREEN, orjson.dumps(t)])
        time.sleep(0.2)
        batches = [poll(h, max_records=8) for _ in range(4)]
        assert [len(b.payloads) for b in batches] == [8, 8, 8, 1]
        delivered = [p for b in batches for p in b.payloads]
        assert delivered == [orjson.dumps(t) for t in txs]  # the frames as sent, in order, for the kernel to decode
        assert len({o for b in batches for o in b.origins}) == 25
        for b in batches:  # the big request is answered once all of its parts are acknowledged
            acknowledge(h, b)
        replies = {}
        for _ in range(6):
            request_id, status, *results = sockets.receive(client)
            replies[request_id] = (status, [orjson.loads(r)["uetr"] for r in results])
        assert replies[b"big"] == (OK, [t["uetr"] for t in txs[:20]])
        assert replies[b"s4"] == (OK, [txs[24]["uetr"]])


def test_poll_waits_for_a_request_instead_of_returning_at_once(tmp_path, sockets):
    with harness(tmp_path, poll_wait_ms=80) as h:
        started = time.perf_counter()
        assert h.call("aegis_ingress_poll", max_records=10) is None
        assert 0.07 <= time.perf_counter() - started < 0.5
        client = sockets.dealer(h.plugin.endpoint)
        time.sleep(0.1)
        started = time.perf_counter()
        client.send_multipart([b"r", SCREEN, orjson.dumps(transactions(1)[0])])
        raw = poll(h, attempts=3)
        assert len(raw.payloads) == 1 and time.perf_counter() - started < 0.07


def test_rejects_and_protocol_errors_are_answered_from_the_acknowledgement(tmp_path, sockets):
    with harness(tmp_path) as h:
        client = sockets.dealer(h.plugin.endpoint)
        good = orjson.dumps(transactions(1)[0])
        client.send_multipart([b"mixed", SCREEN, good, b"{not json"])
        client.send_multipart([b"bad", b"HELLO", b"{}"])
        time.sleep(0.1)
        raw = poll(h)
        reasons = sorted(r.reason for r in raw.rejects)  # refused by the ingress itself, recorded by the kernel
        assert reasons[0].startswith("Invalid JSON: unexpected character")
        unknown = "unknown verb 'HELLO': expected SCREEN, RETRY, SCREEN_LINES, RETRY_LINES or PING"
        assert reasons[1] == unknown
        assert not client.poll(100), "nothing is answered before the acknowledgement"
        acknowledge(h, raw)
        replies = {}
        for _ in range(2):
            request_id, status, *results = sockets.receive(client)
            replies[request_id] = (status, [orjson.loads(r) for r in results])
        status, results = replies[b"mixed"]
        assert status == REJECTED and results[0]["uetr"] == orjson.loads(good)["uetr"]
        assert results[1]["index"] == 1 and "Invalid JSON" in results[1]["error"]
        status, results = replies[b"bad"]
        assert status == ERROR and results == [{"error": unknown}]


def test_inline_poll_takes_the_socket_over_and_replies_from_the_ack(tmp_path, sockets):
    """aegis_ingress_poll_inline: the calling thread serves the socket (the I/O thread ends), the
    acknowledgement sends the reply at once, and a self-test on that thread still gets its ping."""
    with harness(tmp_path) as h:
        client = sockets.dealer(h.plugin.endpoint)
        client.send_multipart([b"r1", SCREEN, orjson.dumps(transactions(1, seed=5)[0])])
        raw = None
        for _ in range(100):
            raw = h.call("aegis_ingress_poll_inline", max_records=10)
            if raw is not None:
                break
        assert raw is not None and len(raw.payloads) == 1
        assert h.plugin.zmq.served_here and h.plugin.zmq._thread is None
        acknowledge(h, raw)  # sends from here: no other thread is left to do it
        request_id, status, _ = sockets.receive(client, timeout_ms=1000)
        assert (request_id, status) == (b"r1", OK)
        results = h.plugin.aegis_self_test()
        assert [r.ok for r in results] == [True, True], results
        client.send_multipart([b"p", PING])
        assert h.call("aegis_ingress_poll_inline", max_records=10) is None  # a ping is no batch
        assert sockets.receive(client, timeout_ms=1000)[:2] == [b"p", PONG]


def test_inline_poll_waits_for_requests_even_with_poll_wait_0(tmp_path):
    """The kernel polls an inline source again at once: with nothing to read, a poll must still
    wait (at least a millisecond) rather than spin the screening thread."""
    with harness(tmp_path, poll_wait_ms=0) as h:
        started = time.perf_counter()
        polls = 0
        while time.perf_counter() - started < 0.2:
            assert h.call("aegis_ingress_poll_inline", max_records=10) is None
            polls += 1
        assert polls <= 200  # 1 ms or more each, against tens of thousands when spinning
