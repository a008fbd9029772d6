"""Decoding raw records into batches; every bad record is rejected with its reason."""

from __future__ import annotations

import orjson

from aegis.decode import decode
from aegis.model import AccountIndex, RawBatch
from aegis.testing.samples import transactions


def raw(payloads):
    return RawBatch("t", payloads, [f"feed.jsonl:{i + 1}" for i in range(len(payloads))])


def test_valid_json_lines_become_a_columnar_batch():
    txs = transactions(20)
    batch, rejects = decode(raw([orjson.dumps(t) for t in txs]), AccountIndex())
    assert not rejects and batch.n == 20
    assert batch.uetr == [t["uetr"] for t in txs]
    assert batch.amount.dtype.kind == "f" and batch.amount[0] == float(txs[0]["amount"])
    assert batch.amount_minor[0] == round(float(txs[0]["amount"]) * 100)
    assert batch.debtor_account.dtype.kind == "i"


def test_bad_records_are_rejected_with_reason_and_origin_rest_kept():
    txs = transactions(6)
    txs[1]["amount"] = "-5.00"
    txs[2]["currency"] = "EURO"
    txs[3]["debtor"] = {**txs[3]["debtor"], "account": "DE00370400440000000001"}
    txs[4]["uetr"] = "not-a-uuid"
    payloads = [orjson.dumps(t) for t in txs] + [b"{not json"]
    batch, rejects = decode(raw(payloads), AccountIndex())
    assert batch.uetr == [txs[0]["uetr"], txs[5]["uetr"]]
    reasons = {r.origin: r.reason for r in rejects}
    assert "amount: Input should be greater than 0" in reasons["feed.jsonl:2"]
    assert "not an ISO 4217 currency code: 'EURO'" in reasons["feed.jsonl:3"]
    assert "invalid IBAN" in reasons["feed.jsonl:4"]
    assert "uetr: Input should be a valid UUID" in reasons["feed.jsonl:5"]
    assert "Invalid JSON" in reasons["feed.jsonl:7"]
    assert rejects[0].payload == payloads[1]


def test_unknown_fields_and_missing_timezone_are_rejected():
    t = transactions(1)[0]
    bad_field = {**t, "amout": "1"}
    naive = {**t, "created_at": "2026-01-05T10:00:00"}
    batch, rejects = decode(raw([bad_field, naive]), AccountIndex())
    assert batch is None
    assert "amout: Extra inputs are not permitted" in rejects[0].reason
    assert "created_at: Input should have timezone info" in rejects[1].reason


def test_a_time_beyond_the_batch_columns_range_is_one_reject_not_a_failed_batch():
    """Columns hold int64 nanoseconds since 1970: years 1678 to 2261. A later or earlier time is
    the record's fault (as JSON, through the fast path, or as a mapping), never the batch's."""
    txs = transactions(5)
    txs[1]["created_at"] = "2262-04-12T00:00:00Z"
    txs[2]["created_at"] = "1600-01-01T00:00:00+00:00"
    txs[3]["created_at"] = "2261-12-31T23:59:59.999999Z"  # the last time that fits
    payloads = [orjson.dumps(t) for t in txs[:3]] + txs[3:]
    batch, rejects = decode(raw(payloads), AccountIndex())
    assert batch.uetr == [txs[0]["uetr"], txs[3]["uetr"], txs[4]["uetr"]]
    assert [r.origin for r in rejects] == ["feed.jsonl:2", "feed.jsonl:3"]
    assert all("outside the supported range (years 1678 to 2261)" in r.reason for r in rejects)


def test_labels_stay_aligned_after_rejects():
    txs = transactions(4)
    txs[2]["amount"] = "0"
    r = raw([orjson.dumps(t) for t in txs])
    r.labels["is_fraud"] = [0, 1, 1, 0]
    batch, rejects = decode(r, AccountIndex())
    assert batch.labels["is_fraud"].tolist() == [0, 1, 0] and len(rejects) == 1


def test_canonical_json_cut_matches_per_record_serialisation():
    from aegis.model import TRANSACTION, TRANSACTIONS, canonical_json
    txs = transactions(50)
    txs[3]["remittance_info"] = 'tricky },{"uetr":" text \\" end'
    txs[4]["debtor"]["name"] = "Quote \" and brace }"
    models = TRANSACTIONS.validate_python(txs)
    assert canonical_json(models) == [TRANSACTION.dump_json(t, exclude_none=True) for t in models]
    assert canonical_json(models[:1]) == [TRANSACTION.dump_json(models[0], exclude_none=True)]
    assert canonical_json([]) == []


def test_one_payload_is_one_record_whatever_it_contains():
    txs = transactions(3)
    two_in_one = orjson.dumps(txs[0]) + b"," + orjson.dumps(txs[1])
    batch, rejects = decode(raw([two_in_one, b"", orjson.dumps(txs[2])]), AccountIndex())
    assert batch.uetr == [txs[2]["uetr"]] and batch.origins == ["feed.jsonl:3"]
    assert [r.origin for r in rejects] == ["feed.jsonl:1", "feed.jsonl:2"]
    assert all("JSON" in r.reason for r in rejects)
