"""Reading requests from frames: every malformed shape is a ProtocolError with a clear message,
and nothing else ever escapes the reader (hypothesis)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from aegis_ingress_socket.protocol import KEEP_BYTES, Limits, ProtocolError, evidence, parse_request, split_envelope
from aegis_ingress_socket.replies import ReplayCache, record_result
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.client.wire import PING, RETRY, RETRY_LINES, SCREEN, SCREEN_LINES
from aegis.decide import DecisionConfig, decide
from aegis.decode import decode
from aegis.model import AccountIndex, FactorScores, RawBatch, ScoreResult
from aegis.testing.samples import transactions

LIMITS = Limits(max_records=3, max_frame_bytes=300)


def test_screen_request_is_read():
    request = parse_request([b"id-1", SCREEN, b'{"a":1}', b'{"b":2}'], LIMITS)
    assert (request.request_id, request.verb, request.payloads, request.retry) == (
        b"id-1", SCREEN, [b'{"a":1}', b'{"b":2}'], False)
    assert parse_request([b"id-2", RETRY, b"{}"], LIMITS).retry


def test_lines_request_is_read_line_by_line():
    request = parse_request([b"id-1", SCREEN_LINES, b'{"a":1}\n{"b":2}\n'], LIMITS)
    assert (request.payloads, request.lines, request.retry) == ([b'{"a":1}', b'{"b":2}'], True, False)
    assert parse_request([b"id-1", SCREEN_LINES, b'{"a":1}\n\n{"c":3}'], LIMITS).payloads == [
        b'{"a":1}', b"", b'{"c":3}']  # an empty line in between is a transaction (the intake rejects it)
    again = parse_request([b"id-2", RETRY_LINES, b"{}"], LIMITS)
    assert again.retry and again.lines and again.payloads == [b"{}"]
    assert not parse_request([b"id-3", SCREEN, b"{}"], LIMITS).lines


def test_ping_forms():
    assert parse_request([b"hc", PING], LIMITS).request_id == b"hc"
    bare = parse_request([PING], LIMITS)
    assert bare.bare_ping and bare.verb == PING


@pytest.mark.parametrize(("body", "message", "echo"), [
    ([], "empty message", b""),
    ([b"SCREEN"], "1 frame", b""),
    ([b"", SCREEN, b"{}"], "empty request id", b""),
    ([b"x" * 65, SCREEN, b"{}"], "request id of 65 bytes", b""),
    ([b"r", b"HELLO", b"{}"], "unknown verb 'HELLO': expected SCREEN, RETRY, SCREEN_LINES, RETRY_LINES or PING",
     b"r"),
    ([b"r", PING, b"{}"], "PING takes no further frames", b"r"),
    ([b"r", SCREEN], "SCREEN needs at least one transaction frame", b"r"),
    ([b"r", SCREEN, b"{}", b"{}", b"{}", b"{}"], "4 transactions in one request: at most 3", b"r"),
    ([b"r", SCREEN_LINES], "SCREEN_LINES takes one frame of transactions, one per line; got 0 frames", b"r"),
    ([b"r", RETRY_LINES, b"{}", b"{}"], "RETRY_LINES takes one frame of transactions, one per line; got 2 frames",
     b"r"),
    ([b"r", SCREEN_LINES, b""], "SCREEN_LINES needs at least one transaction line", b"r"),
    ([b"r", SCREEN_LINES, b"{}\n{}\n{}\n{}\n"], "4 transactions in one request: at most 3", b"r"),
])
def test_malformed_requests_name_the_problem(body, message, echo):
    with pytest.raises(ProtocolError) as excinfo:
        parse_request(body, LIMITS)
    assert message in str(excinfo.value)
    assert excinfo.value.request_id == echo


def test_oversized_frame_is_a_record_reject_not_a_protocol_error():
    request = parse_request([b"r", SCREEN, b"{}", b"x" * 301], LIMITS)
    assert request.oversized == [(1, "transaction frame of 301 bytes exceeds max_frame_bytes 300")]
    packed = parse_request([b"r", SCREEN_LINES, b"{}\n" + b"x" * 301], LIMITS)
    assert packed.oversized == [(1, "transaction line of 301 bytes exceeds max_frame_bytes 300")]


def test_envelope_keeps_the_req_delimiter():
    assert split_envelope([b"peer", b"", b"id", PING]) == ([b"peer", b""], [b"id", PING])
    assert split_envelope([b"peer", b"id", PING]) == ([b"peer"], [b"id", PING])


def test_evidence_is_bounded():
    kept = evidence([b"a" * 10_000, b"b"])
    assert len(kept) == KEEP_BYTES and kept.startswith(b"aaa")


def test_a_stored_record_is_answered_as_its_first_reply():
    batch, _ = decode(RawBatch("t", transactions(3, seed=5), ["a", "b", "c"]), AccountIndex())
    geo = FactorScores(np.array([0.0, 1.0, 0.5]), "RC_HIGH_RISK_GEO", details=[None, "KP", None])
    decisions = decide(batch, [("rules", ScoreResult({"GEO": geo}, versions={"rules_version": "v1"}))],
                       DecisionConfig())
    for line, summary in zip(decisions.lines(), decisions.summaries(), strict=True):
        stored = {**orjson.loads(line), "chain": {"seq": 1, "prev": "0" * 64, "hash": "1" * 64}}
        assert record_result(stored) == summary  # a RETRY after a restart gets the same bytes


def test_replay_cache_answers_a_repeated_uetr_with_the_first_result_and_stays_bounded():
    cache = ReplayCache(2)
    assert cache.remember(["a", "b"], [b"A1", b"B1"]) == [b"A1", b"B1"]
    assert cache.remember(["a", "c"], [b"A2", b"C1"]) == [b"A1", b"C1"]
    assert len(cache) == 2 and cache.get("a") is None  # oldest evicted
    assert cache.remember(["d", "d"], [b"D1", b"D2"]) == [b"D1", b"D1"]


frames = st.lists(st.one_of(st.binary(max_size=80), st.sampled_from([b"", PING, SCREEN, RETRY, SCREEN_LINES,
                                                                    RETRY_LINES, b"{}", b"{}\n{}", b"r1"])),
                  max_size=8)


@settings(max_examples=400, deadline=None)
@given(frames)
def test_reader_never_fails_other_than_with_a_protocol_error(body):
    try:
        request = parse_request(body, LIMITS)
    except ProtocolError as exc:
        assert str(exc)
        return
    assert request.verb in (PING, SCREEN, RETRY, SCREEN_LINES, RETRY_LINES)
    assert len(request.payloads) <= LIMITS.max_records
    assert request.verb == PING or request.payloads
