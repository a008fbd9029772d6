"""The sidecar end to end: a real deployment (socket → rules → JSONL audit) on 127.0.0.1,
spoken to with plain ZeroMQ sockets as a bank's service in any language would."""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aegis.client.wire import BUSY, ERROR, OK, PING, PONG, REJECTED, RETRY, RETRY_LINES, SCREEN, SCREEN_LINES
from aegis.testing.samples import transactions


def test_request_reply_carries_the_recorded_decision(sidecar, sockets):
    tx = transactions(1, seed=11)[0]
    tx["creditor"]["country"] = "KP"
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"req-1", SCREEN, orjson.dumps(tx)])
    request_id, status, result = sockets.receive(client)
    assert (request_id, status) == (b"req-1", OK)
    decision = orjson.loads(result)
    assert decision["uetr"] == tx["uetr"]
    assert decision["decision"] == "INVESTIGATE" and decision["reason_code"] == "RC_HIGH_RISK_GEO"
    assert decision["risk_score"] == pytest.approx(0.5)
    assert "KP" in decision["explanation"]["GEO"] and decision["risk_factors"]["GEO"] > 0
    (record,) = sidecar.records  # in the audit log by the time the reply arrived
    assert {k: v for k, v in record.items() if k not in ("transaction", "chain")} == decision
    assert record["origin"].startswith("zmq:127.0.0.1/")


def test_inline_intake_serves_the_socket_on_the_pipeline_thread(sidecar, sockets, inline):
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"r", SCREEN, orjson.dumps(transactions(1, seed=19)[0])])
    assert sockets.receive(client)[:2] == [b"r", OK]
    io_threads = [t.name for t in threading.enumerate() if t.name == "aegis-zmq-io"]
    intake_threads = [t.name for t in threading.enumerate() if t.name.startswith("intake-")]
    # inline: the pipeline's thread took the socket over (the I/O thread ended), nothing in between
    assert (io_threads, intake_threads) == (([], []) if inline else (["aegis-zmq-io"], ["intake-socket"]))
    ping = sockets.req(sidecar.endpoint)
    ping.send(PING)
    assert sockets.receive(ping)[0] == PONG  # served between batches


def test_pipelined_requests_on_one_connection(sidecar, sockets):
    txs = transactions(300, seed=12)
    client = sockets.dealer(sidecar.endpoint)
    for i, tx in enumerate(txs):
        client.send_multipart([b"p%d" % i, SCREEN, orjson.dumps(tx)])
    replies = {}
    for _ in txs:
        request_id, status, result = sockets.receive(client)
        replies[request_id] = (status, orjson.loads(result)["uetr"])
    assert replies == {b"p%d" % i: (OK, tx["uetr"]) for i, tx in enumerate(txs)}
    assert len(sidecar.records) == 300


def test_batch_request_answers_in_order(sidecar, sockets):
    txs = transactions(50, seed=13)
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"b", SCREEN, *(orjson.dumps(t) for t in txs)])
    request_id, status, *results = sockets.receive(client)
    assert (request_id, status) == (b"b", OK)
    assert [orjson.loads(r)["uetr"] for r in results] == [t["uetr"] for t in txs]


def test_lines_may_end_with_crlf(sidecar, sockets):
    txs = transactions(3, seed=20)
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"crlf", SCREEN_LINES, b"\r\n".join(orjson.dumps(t) for t in txs) + b"\r\n"])
    request_id, status, packed = sockets.receive(client)
    assert (request_id, status) == (b"crlf", OK)
    assert [orjson.loads(r)["uetr"] for r in packed.split(b"\n")] == [t["uetr"] for t in txs]


def test_lines_request_is_answered_in_one_frame_in_order(sidecar, sockets):
    txs = transactions(50, seed=18)
    lines = [orjson.dumps(t) for t in txs]
    lines.insert(10, b"{not json")
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"b", SCREEN_LINES, b"\n".join(lines) + b"\n"])
    request_id, status, packed = sockets.receive(client)  # every result in one frame
    results = [orjson.loads(r) for r in packed.split(b"\n")]
    assert (request_id, status, len(results)) == (b"b", REJECTED, 51)
    assert results[10]["index"] == 10 and "Invalid JSON" in results[10]["error"]
    assert [r["uetr"] for r in results[:10] + results[11:]] == [t["uetr"] for t in txs]
    assert len(sidecar.records) == 50 and len(sidecar.dead_letters) == 1
    client.send_multipart([b"again", RETRY_LINES, b"\n".join(lines[:3])])
    assert sockets.receive(client) == [b"again", OK, b"\n".join(packed.split(b"\n")[:3])]  # as first answered
    assert len(sidecar.records) == 50


def test_req_socket_health_check_and_screening(sidecar, sockets):
    req = sockets.req(sidecar.endpoint)
    req.send(PING)
    status, figures = sockets.receive(req)
    assert status == PONG and orjson.loads(figures)["status"] == "SERVING"
    req.send_multipart([b"via-req", SCREEN, orjson.dumps(transactions(1, seed=14)[0])])
    request_id, status, _ = sockets.receive(req)
    assert (request_id, status) == (b"via-req", OK)


def test_reply_leaves_only_after_the_audit_record_is_durable(sidecar, sockets):
    client = sockets.dealer(sidecar.endpoint)
    for i, tx in enumerate(transactions(20, seed=15)):
        client.send_multipart([b"r%d" % i, SCREEN, orjson.dumps(tx)])
        sockets.receive(client)
        on_disk = (sidecar.tmp_path / "audit" / "audit.jsonl").read_bytes()
        assert tx["uetr"].encode() in on_disk


def _valid() -> dict:
    return transactions(1, seed=int(time.perf_counter_ns() % 10**9))[0]


MALFORMED = {
    "not JSON": ([SCREEN, b"this is not json"], REJECTED, "Invalid JSON"),
    "empty frame": ([SCREEN, b""], REJECTED, "Invalid JSON"),
    "two documents in one frame": ([SCREEN, orjson.dumps(_valid()) + b"," + orjson.dumps(_valid())], REJECTED,
                                   "Invalid JSON"),
    "not an object": ([SCREEN, b"[1, 2]"], REJECTED, "a transaction must be a JSON object, got list"),
    "wrong schema": ([SCREEN, orjson.dumps({**_valid(), "amount": "-5"})], REJECTED,
                     "amount: Input should be greater than 0"),
    "missing field": ([SCREEN, orjson.dumps({k: v for k, v in _valid().items() if k != "creditor"})], REJECTED,
                      "creditor: Field required"),
    "invalid UETR": ([SCREEN, orjson.dumps({**_valid(), "uetr": "not-a-uuid"})], REJECTED,
                     "uetr: Input should be a valid UUID"),
    "oversized frame": ([SCREEN, orjson.dumps({**_valid(), "remittance_info": "x" * 70_000})], REJECTED,
                        "exceeds max_frame_bytes 65536"),
    "unknown verb": ([b"SCREAM", b"{}"], ERROR, "unknown verb 'SCREAM'"),
    "no transaction": ([SCREEN], ERROR, "SCREEN needs at least one transaction frame"),
    "too many transactions": ([SCREEN, *([b"{}"] * 1001)], ERROR, "1001 transactions in one request: at most 1000"),
    "not JSON, as a line": ([SCREEN_LINES, b"this is not json\n"], REJECTED, "Invalid JSON"),
    "no line": ([SCREEN_LINES, b""], ERROR, "SCREEN_LINES needs at least one transaction line"),
    "lines in two frames": ([SCREEN_LINES, b"{}", b"{}"], ERROR, "SCREEN_LINES takes one frame of transactions"),
    "too many lines": ([SCREEN_LINES, b"{}\n" * 1001], ERROR, "1001 transactions in one request: at most 1000"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_is_answered_recorded_and_the_connection_stays_healthy(sidecar, sockets, case):
    body, expected_status, message = MALFORMED[case]
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"bad", *body])
    request_id, status, *results = sockets.receive(client)
    assert (request_id, status) == (b"bad", expected_status)
    assert message in orjson.loads(results[0])["error"]
    tx = _valid()
    client.send_multipart([b"good", SCREEN, orjson.dumps(tx)])  # same connection, still fine
    request_id, status, result = sockets.receive(client)
    assert (request_id, status, orjson.loads(result)["uetr"]) == (b"good", OK, tx["uetr"])
    (dead,) = sidecar.dead_letters
    assert message in dead["reason"] and dead["origin"].startswith("zmq:127.0.0.1/")
    assert [r["uetr"] for r in sidecar.records] == [tx["uetr"]]


def test_a_frame_without_request_id_is_answered_too(sidecar, sockets):
    client = sockets.dealer(sidecar.endpoint)
    client.send_multipart([b"HELLO"])
    request_id, status, detail = sockets.receive(client)
    assert (request_id, status) == (b"", ERROR)
    assert "expected frames [request_id, verb, *transactions]" in orjson.loads(detail)["error"]


def test_fuzzed_messages_are_all_answered(tmp_path, start, sockets):
    valid = orjson.dumps(transactions(1, seed=16)[0])
    frame = st.one_of(st.binary(max_size=64), st.sampled_from([b"", SCREEN, RETRY, SCREEN_LINES, RETRY_LINES, PING,
                                                               b"{}", valid, valid + b"\n" + valid[:40], valid[:40],
                                                               valid.replace(b'"', b"'")]))
    with start(tmp_path) as sidecar:
        client = sockets.dealer(sidecar.endpoint)

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(frame, min_size=1, max_size=6))
        def answered(frames):
            request_id = uuid.uuid4().hex.encode()
            client.send_multipart([request_id, *frames])
            reply = sockets.receive(client, 3000)
            assert reply[0] == request_id or reply[0] == b""
            assert reply[1] in (OK, REJECTED, ERROR, PONG) or (reply[0] == b"" and reply[2] in (ERROR, PONG))

        answered()
        client.send_multipart([b"after", PING])
        assert sockets.receive(client)[:2] == [b"after", PONG]
    assert not sidecar.errors


def scrape(port: int) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_overload_gets_busy_at_once_and_counts_drops(tmp_path, start, sockets, port):
    metrics_port = port
    metrics = [{"plugin": "prometheus", "config": {"host": "127.0.0.1", "port": metrics_port}}]
    txs = transactions(400, seed=17)
    with start(tmp_path, {"max_in_flight": 40}, metrics=metrics) as sidecar:
        client = sockets.dealer(sidecar.endpoint)
        for i in range(0, 400, 10):
            client.send_multipart([b"%d" % i, SCREEN, *(orjson.dumps(t) for t in txs[i:i + 10])])
        statuses = [sockets.receive(client)[1] for _ in range(40)]
        busy = statuses.count(BUSY) * 10
        assert busy > 0 and statuses.count(OK) * 10 + busy == 400
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and scrape(metrics_port).get("aegis_drops_total", 0) < busy:
            time.sleep(0.05)
        figures = scrape(metrics_port)
        assert figures["aegis_drops_total"] == busy
        assert len(sidecar.records) == 400 - busy
