"""Decoding raw records into batches; every bad record is rejected with its reason."""

from __future__ import annotations

import pickle
import random
import sys
import threading
from dataclasses import fields

import numpy as np
import orjson

from aegis.decode import decode, decode_columns
from aegis.model import (
    TRANSACTION,
    AccountIndex,
    Batch,
    BatchColumns,
    RawBatch,
    TransactionRow,
    _joined,
    _split,
)
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


def test_an_amount_whose_minor_units_overflow_the_column_is_one_reject_not_a_failed_batch():
    """Amounts are kept in minor units as int64: a currency with thousandths (KWD) cannot hold the
    largest amounts the model otherwise allows. Such a record is rejected with its reason, through
    the fast path and as a mapping; the largest that fits, and the same amount in cents, pass."""
    txs = transactions(6)
    for t in txs:
        t["currency"] = "KWD"
    txs[1]["amount"] = "9300000000000000"
    txs[2]["amount"] = "9223372036854775.807"  # 2^63 - 1 thousandths: the largest that fits
    txs[3]["amount"] = "9223372036854775.808"
    txs[4].update(amount="9300000000000000", currency="EUR")
    txs[5]["amount"] = "9300000000000000"
    payloads = [orjson.dumps(t) for t in txs[:5]] + txs[5:]
    batch, rejects = decode(raw(payloads), AccountIndex())
    assert batch.uetr == [txs[0]["uetr"], txs[2]["uetr"], txs[4]["uetr"]]
    assert batch.amount_minor[1:].tolist() == [2**63 - 1, 930000000000000000]
    assert [r.origin for r in rejects] == ["feed.jsonl:2", "feed.jsonl:4", "feed.jsonl:6"]
    assert all("minor units" in r.reason and "KWD" in r.reason for r in rejects)


def test_a_rejected_mapping_with_an_integer_beyond_64_bits_keeps_its_payload():
    """A mapping orjson cannot write (an int beyond 64 bits) is still rejected with its payload."""
    txs = transactions(2)
    txs[1]["amount"] = 2**70 + 1
    batch, rejects = decode(raw(txs), AccountIndex())
    assert batch.uetr == [txs[0]["uetr"]] and len(rejects) == 1
    assert str(2**70 + 1).encode() in rejects[0].payload and rejects[0].uetr == txs[1]["uetr"]


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


def _same_columns(a: BatchColumns, b: BatchColumns) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f.name
        elif f.name == "labels":
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x), f.name
        else:
            assert x == y and type(x) is type(y), f.name


def test_batch_columns_travel_through_pickle_unchanged():
    """A decode worker's columns as the process that scores unpickles them: the same values,
    whether a column travels joined (strings without a line feed), as a list or as ``None``."""
    txs = transactions(6)
    txs[1]["debtor"] = {k: v for k, v in txs[1]["debtor"].items() if k != "name"}  # a name missing
    txs[2]["creditor"]["name"] = "Line\nfeed"  # this column cannot be joined
    txs[3]["channel"] = "TRANSFER"
    txs[4]["debtor_balance_before"] = "12.50"
    txs[5]["creditor"]["name"] = "Ünïcödé ✓"
    columns, _ = decode_columns([orjson.dumps(t) for t in txs], [f"p/{i}\u00e9" for i in range(6)],
                                {"is_fraud": [0, 1, 0, 0, 1, 0]}, [], [0, 1, 2, 3, 0, 1])
    models = [TRANSACTION.validate_python(t) for t in transactions(3)]
    others = (BatchColumns.of(models), BatchColumns.of(models, canonical=True),  # canonical None, then set
              BatchColumns.of_rows([TransactionRow.of(models[0])], ["one"]), BatchColumns.of_rows([]))
    for cols in (columns, *others):
        for protocol in (4, pickle.HIGHEST_PROTOCOL):
            _same_columns(pickle.loads(pickle.dumps(cols, protocol=protocol)), cols)
    assert others[0].canonical is None and others[3].uetr == [] and others[3].amount.dtype == float


def test_joined_columns_round_trip():
    cases = [[], ["a"], ["", ""], ["a", "", "b"], [None, None], ["a", None], ["a\nb", "c"], ["x", b"y"],
             [b"{}", b'{"a":1}'], [b"a\nb"], ["é", "✓"]]
    for values in cases:
        assert _split(_joined(values), len(values)) == values
    assert _joined(["a", "b"]) == "a\nb" and _joined([None, None]) is None and _joined(["a\n"]) == ["a\n"]


def test_a_batch_holds_each_column_under_its_name():
    """:meth:`Batch.from_columns` passes the columns positionally: each lands in the field of its name;
    debtors and creditors, interned in one call, get the ids two calls (debtors first) would give."""
    txs = transactions(6, accounts=4)
    cols, _ = decode_columns([orjson.dumps(t) for t in txs], [f"o{i}" for i in range(6)], {"is_fraud": [0, 1] * 3},
                             [], [3, 1, 4, 1, 5, 9])
    batch = Batch.from_columns(cols, AccountIndex())
    renamed = {"debtor_account": "debtor_account_str", "creditor_account": "creditor_account_str",
               "canonical": "_canonical"}
    assert {f.name for f in fields(batch)} == {*(renamed.get(f.name, f.name) for f in fields(cols)),
                                               "debtor_account", "creditor_account", "_transactions"}
    for f in fields(cols):
        assert getattr(batch, renamed.get(f.name, f.name)) is getattr(cols, f.name), f.name
    assert batch._transactions is None
    apart = AccountIndex()
    assert batch.debtor_account.tolist() == apart.intern(cols.debtor_account).tolist()
    assert batch.creditor_account.tolist() == apart.intern(cols.creditor_account).tolist()


def test_account_ids_stay_dense_and_consistent_across_threads():
    """Known accounts are looked up without the lock while other threads add new ones (threads
    racing through the same batches): every account gets one id, ids stay dense, and every
    batch's ids name its own accounts."""
    index = AccountIndex()
    rng = random.Random(5)
    accounts = [f"ACC-{i:05d}" for i in range(4000)]
    batches = [rng.choices(accounts[:50 + 4 * i], k=rng.randint(1, 40)) for i in range(1000)]
    start = threading.Barrier(4)
    results: list[tuple[list[str], np.ndarray]] = []

    def intern(step: int) -> None:
        start.wait()
        results.extend((batch, index.intern(batch)) for batch in batches[::step])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, in the middle of a batch
    try:
        threads = [threading.Thread(target=intern, args=(step,)) for step in (1, 1, 2, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    seen = {a for batch in batches for a in batch}
    assert len(index) == len(seen) and sorted(index.intern(sorted(seen)).tolist()) == list(range(len(seen)))
    assert len(results) == 2 * 1000 + 500 + 334
    assert all(index.names(ids) == batch for batch, ids in results)
