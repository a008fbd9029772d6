"""The fast decoding path agrees with the model: whatever it accepts, pydantic accepts with the
same values and the same canonical JSON; what it cannot vouch for, it leaves to pydantic."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aegis import fast_decode
from aegis.decode import decode, decode_columns
from aegis.fast_decode import fast_batch, fast_row
from aegis.model import (
    _MINOR_EXPONENT,
    EARLIEST,
    LATEST,
    TRANSACTION,
    AccountIndex,
    BatchColumns,
    RawBatch,
    Transaction,
    country_code,
)
from aegis.testing.samples import german_iban, transactions

SAMPLE = transactions(1)[0]

_space = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\u0085"])


def _spaced(values):
    return st.tuples(_space, values, _space).map(lambda t: t[0] + t[1] + t[2])


def _mostly(draw, valid, tricky):
    """A valid value four times in five, else a tricky or wrong one."""
    return draw(valid if draw(st.integers(0, 4)) else tricky)


_iban = st.integers(0, 10**9).map(german_iban)
_uuids = (st.uuids().map(str),
          st.one_of(st.uuids().map(lambda u: str(u).upper()), st.uuids().map(lambda u: u.hex),
                    st.just("00000000-0000-0000-0000-000000000000"), st.just("not-a-uuid")))
_times = (
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.sampled_from([
        "2026-01-05T09:00:05Z", "2026-01-05T09:00:05.5+01:00", "2026-01-05T09:00:05-00:00", "2026-01-05T24:00:00Z",
        "2026-02-30T09:00:00Z", "2026-01-05 09:00:05Z", "2026-01-05T09:00Z", "2026-01-05T09:00:05.123456789Z",
        "2026-01-05T09:00:05+23:59", "2026-01-05T09:00:05+24:00", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999-23:59", "1700000000"])))
_amounts = (
    st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**9).map(str),
              st.integers(1, 10**6)),
    st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10, max_value=10**17).map(str),
              st.integers(-5, 10**21), st.floats(allow_nan=True), st.booleans(),
              st.sampled_from(["1e3", "0.00", "0", "007.5", " 5", "5.12345", "9999999999999999.9999"])))
_balances = (st.one_of(st.none(), _amounts[0], st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)),
             st.one_of(_amounts[1], st.decimals(allow_nan=True, places=8).map(str)))
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=150)
_names = (st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=60),
          st.one_of(_text, _spaced(st.just("Anna Schmidt"))))
_countries = (st.sampled_from(["DE", "FR", "XK", "US"]),
              st.one_of(st.sampled_from(["ZZ", "de", "DEU", ""]), _spaced(st.just("DE"))))
_accounts = (
    st.one_of(_iban, st.from_regex(r"[A-Z][A-Z0-9-]{0,30}", fullmatch=True)),
    st.one_of(st.integers(0, 10**9).map(lambda n: " ".join(german_iban(n)[i:i + 4] for i in range(0, 22, 4))),
              st.sampled_from(["DE00370400440000000001", "GB82WEST12345698765432", "", "x" * 65]),
              _spaced(st.from_regex(r"[A-Z0-9-]{1,30}", fullmatch=True)), _text))
_bics = (st.sampled_from(["COBADEFFXXX", "COBADEFF"]),
         st.sampled_from(["COBAZZFF", "cobadeffxxx", "COBADEFFXXX\n", " COBADEFF", "COBADE"]))
_births = (st.sampled_from(["1970", "1970-01", "1970-01-31"]), st.sampled_from(["1970-1-1", "१९७०", "1970-01-31\n"]))


@st.composite
def _parties(draw):
    party = {"account": _mostly(draw, *_accounts)}
    for key, values in (("name", _names), ("bic", _bics), ("country", _countries), ("date_of_birth", _births)):
        if draw(st.booleans()):
            party[key] = _mostly(draw, values[0], st.one_of(st.none(), values[1]))
    return party


@st.composite
def _transactions(draw):
    tx = {"uetr": _mostly(draw, *_uuids), "created_at": _mostly(draw, *_times),
          "amount": _mostly(draw, *_amounts),
          "currency": _mostly(draw, st.sampled_from(["EUR", "USD", "JPY", "KWD"]),
                              st.sampled_from(["XXX", "EURO", "eur", " EUR"])),
          "debtor": draw(_parties()), "creditor": draw(_parties())}
    purposes = (st.sampled_from(["SALA", "AB1"]), st.sampled_from(["ABCDE", "sala", "SAL\n", ""]))
    channels = (st.sampled_from(["TRANSFER", "CASH_OUT"]), st.one_of(_text, _spaced(st.just("X"))))
    for key, values in (("purpose", purposes), ("channel", channels),
                        ("remittance_info", (_names[0], _text)),
                        ("debtor_balance_before", _balances), ("creditor_balance_before", _balances)):
        if draw(st.booleans()):
            tx[key] = _mostly(draw, values[0], st.one_of(st.none(), values[1]))
    if draw(st.integers(0, 20)) == 0:
        tx["unexpected"] = 1
    return tx


def _model(payload) -> Transaction | None:
    try:
        if isinstance(payload, bytes):
            return TRANSACTION.validate_json(payload)
        return TRANSACTION.validate_python(payload)
    except ValueError:
        return None


def _assert_agrees(payload) -> None:
    row = fast_row(payload)
    if row is None:
        return  # left to the model: nothing to compare
    model = _model(payload)
    assert model is not None, f"fast path accepted what the model rejects: {payload!r}"
    assert row.canonical == TRANSACTION.dump_json(model, exclude_none=True)
    assert row.uetr == str(model.uetr)
    assert row.created_at == model.created_at and row.created_at.utcoffset() == model.created_at.utcoffset()
    assert row.amount == model.amount and str(row.amount) == str(model.amount)
    assert row.debtor_balance == model.debtor_balance_before
    assert (row.currency, row.channel) == (model.currency, model.channel)
    for fast, slow in ((row.debtor, model.debtor), (row.creditor, model.creditor)):
        assert (fast.account, fast.name, fast.country) == (slow.account, slow.name, slow.country)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_transactions())
def test_fast_path_accepts_only_what_the_model_accepts_with_the_same_values(tx):
    _assert_agrees(tx)
    _assert_agrees(json.dumps(tx, ensure_ascii=False).encode())  # stdlib: big ints and NaN too


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fast_path_never_accepts_garbage_the_model_refuses(blob):
    _assert_agrees(blob)


def test_well_formed_transactions_take_the_fast_path():
    """The common case must be fast: every sample transaction, as JSON or as a mapping."""
    txs = transactions(300)
    txs[0]["purpose"] = "SALA"
    txs[1]["debtor_balance_before"] = "1200.50"
    txs[2]["debtor"]["date_of_birth"] = "1970-01-31"
    txs[3]["amount"] = 125
    assert all(fast_row(orjson.dumps(t)) is not None for t in txs)
    assert all(fast_row(t) is not None for t in txs)


def test_a_batch_mixing_both_paths_keeps_order_values_and_canonical_json():
    txs = transactions(6)
    txs[1]["currency"] = " EUR"  # stripped by the model: slow path, accepted
    txs[2]["amount"] = "1e3"  # exponent: slow path, accepted as 1E+3
    txs[4]["amount"] = "-1"  # rejected by the model
    payloads = [orjson.dumps(t) for t in txs]
    assert [fast_row(p) is None for p in payloads] == [False, True, True, False, True, False]
    batch, rejects = decode(RawBatch("t", payloads, [f"f:{i}" for i in range(6)]), AccountIndex())
    assert batch.origins == ["f:0", "f:1", "f:2", "f:3", "f:5"]
    assert [r.origin for r in rejects] == ["f:4"] and "greater than 0" in rejects[0].reason
    models = [TRANSACTION.validate_json(payloads[i]) for i in (0, 1, 2, 3, 5)]
    assert batch.canonical_json() == [TRANSACTION.dump_json(m, exclude_none=True) for m in models]
    assert batch.currency[1] == "EUR" and batch.amount[2] == 1000.0 and batch.amount_minor[2] == 100_000
    assert batch.uetr == [str(m.uetr) for m in models]
    assert batch.transactions == models


_UETR = "6f1d1b5c-1c0e-4f57-9d3f-3a1c0f9b8e2a"


@pytest.mark.parametrize(("field", "value"), [
    *(("uetr", u) for u in (_UETR.upper(), _UETR.replace("-", ""), f"{{{_UETR}}}", f"urn:uuid:{_UETR}",
                            _UETR[:8] + _UETR[9:13] + "-" + _UETR[13:])),
    *(("created_at", t) for t in (
        "2026-01-05t09:00:05z", "2026-01-05 09:00:05Z", "2026-01-05T09:00:05+0100", "2026-01-05T09:00:05-00:00",
        "2026-01-05T09:00:05.1234565Z", "2026-12-31T23:59:59.9999995-01:00", "2026-01-05T09:00:05.5+0100",
        "2024-02-29T00:00:00Z", "2026-01-05T09:00:05", "2026-01-05T23:59:60Z")),
    *(("amount", a) for a in ("1E+3", "1e3", "1.00000", "0.00001", "NaN", "sNaN", "-Infinity", "+5", " 5", "1_000",
                              "\u0661\u0662", "9999999999999999.9999", "1E+16", "0E+2", 125, 10**16)),
    *(("debtor_balance_before", b) for b in ("NaN", "Infinity", "-0", " 12 ", "1_0", "1E+400", "-1.5E-9", 10**30)),
])
def test_edge_spellings_agree_with_the_model(field, value):
    """Spellings msgspec's parsers read (UUID, RFC 3339 time) or ``Decimal`` reads, near the edges."""
    tx = {**SAMPLE, field: value}
    _assert_agrees(tx)
    _assert_agrees(json.dumps(tx).encode())


def test_a_uetr_in_any_case_or_without_dashes_takes_the_fast_path_as_the_model_writes_it():
    for spelling in (_UETR, _UETR.upper(), _UETR.replace("-", "")):
        row = fast_row(orjson.dumps({**SAMPLE, "uetr": spelling}))
        assert row is not None and row.uetr == _UETR and row.canonical.startswith(b'{"uetr":"' + _UETR.encode())


def test_more_than_six_fractional_digits_are_left_to_the_model():
    """msgspec rounds them where the model truncates."""
    for when, micros in (("2026-01-05T09:00:05.1234565Z", 123456), ("2026-12-31T23:59:59.9999995-01:00", 999999)):
        payload = orjson.dumps({**SAMPLE, "created_at": when})
        assert fast_row(payload) is None
        assert TRANSACTION.validate_json(payload).created_at.microsecond == micros


def test_cached_parties_give_the_same_rows(monkeypatch):
    """A party is checked once, then looked up by its raw JSON; a party refused is never remembered."""
    monkeypatch.setattr(fast_decode, "_MAX_PARTIES", 3)
    txs = transactions(40, accounts=6)
    bad_iban = {**txs[0], "debtor": {**txs[0]["debtor"], "account": "DE00370400440000000001"}}
    grouped = " ".join(german_iban(7)[i:i + 4] for i in range(0, 22, 4))
    spaced = {**txs[1], "debtor": {**txs[1]["debtor"], "account": grouped}}
    assert fast_row(orjson.dumps(bad_iban)) is None and fast_row(orjson.dumps(bad_iban)) is None
    for _ in range(2):
        for tx in (*txs, spaced):
            _assert_agrees(orjson.dumps(tx))
    assert fast_row(orjson.dumps(spaced)).debtor.account == german_iban(7)
    assert 0 < len(fast_decode._PARTIES) <= 3


@pytest.mark.parametrize("times", [
    ("1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00.000001+01:00", "2026-01-05T09:00:05.123457-23:59"),
    ("2261-12-31T23:59:59.999999Z", "1678-01-01T00:00:00Z", "2262-01-01T00:59:59.999999+01:00"),
])
def test_nanosecond_columns_are_the_timestamps_in_whole_microseconds(times):
    """Vectorised, and still exact at both ends of the range the model accepts (years 1678 to 2261)."""
    txs = [{**t, "created_at": when} for t, when in zip(transactions(3), times, strict=True)]
    batch, rejects = decode(RawBatch("t", [orjson.dumps(t) for t in txs], ["a", "b", "c"]), AccountIndex())
    assert not rejects
    assert batch.created_at_ns.tolist() == [int(t.created_at.timestamp() * 1_000_000) * 1000
                                            for t in batch.transactions]


@pytest.mark.parametrize("bound", [EARLIEST, LATEST])
def test_times_at_the_ends_of_the_range_agree_with_the_model(bound):
    """The fast path checks the range on rounded nanoseconds: a time it takes is within the model's
    range, in any zone; one at a bound or a few microseconds off may be left to the model."""
    for minutes in (0, 61, -1439, 1439):
        zone = timezone(timedelta(minutes=minutes))
        for micros in (-1_000_001, -1001, -3, -2, -1, 0, 1, 2, 3, 1001, 1_000_001):
            when = (bound + timedelta(microseconds=micros)).astimezone(zone).isoformat(timespec="microseconds")
            tx = {**SAMPLE, "created_at": when}
            _assert_agrees(tx)
            _assert_agrees(orjson.dumps(tx))
            if abs(micros) > 1000:  # clearly inside or outside: taken exactly when inside
                assert (fast_row(tx) is not None) == (micros > 0 if bound is EARLIEST else micros < 0), when


# -- a batch at once: fast_batch and the columns cut from its rows ------------------------------------


def _expected_columns(models: list[Transaction]) -> dict[str, list]:
    """The columns of validated models, worked out one by one as the model's values say."""
    return {
        "uetr": [str(m.uetr) for m in models],
        "created_at_ns": [int(m.created_at.timestamp() * 1_000_000) * 1000 for m in models],
        "amount": [float(m.amount) for m in models],
        "amount_minor": [int(m.amount.scaleb(_MINOR_EXPONENT.get(m.currency, 2))) for m in models],
        "currency": [m.currency for m in models],
        "debtor_account": [m.debtor.account for m in models],
        "creditor_account": [m.creditor.account for m in models],
        "debtor_country": [country_code(m.debtor.country) for m in models],
        "creditor_country": [country_code(m.creditor.country) for m in models],
        "debtor_balance_before": [float("nan") if m.debtor_balance_before is None else float(m.debtor_balance_before)
                                  for m in models],
        "debtor_name": [m.debtor.name for m in models],
        "creditor_name": [m.creditor.name for m in models],
        "channel": [m.channel for m in models],
        "canonical": [TRANSACTION.dump_json(m, exclude_none=True) for m in models],
    }


_DTYPES = {"created_at_ns": np.int64, "amount": np.float64, "amount_minor": np.int64, "debtor_country": np.int16,
           "creditor_country": np.int16, "debtor_balance_before": np.float64}


def _assert_columns(columns: BatchColumns, expected: dict[str, list]) -> None:
    for name, values in expected.items():
        column = getattr(columns, name)
        if name in _DTYPES:
            assert column.dtype == _DTYPES[name], name
            assert np.array_equal(column, np.array(values, dtype=_DTYPES[name]), equal_nan=True), name
        else:
            assert column == values, name


def _fits_the_columns(model: Transaction) -> bool:
    """Minor units that fit int64 (an amount near 10**16 in a currency of three places does not)."""
    return int(model.amount.scaleb(_MINOR_EXPONENT.get(model.currency, 2))) < 2**63


_spellings = st.sampled_from(["as is", "upper", "hex", "braces", "urn", "ascii", "35+37"])


def _respelt(tx: dict, how: str) -> dict:
    uetr = tx["uetr"]
    if not isinstance(uetr, str) or len(uetr) != 36:
        return tx
    spelt = {"as is": uetr, "upper": uetr.upper(), "hex": uetr.replace("-", ""), "braces": f"{{{uetr}}}",
             "urn": f"urn:uuid:{uetr}", "ascii": uetr[:-1] + "\u0663", "35+37": uetr[:-1]}[how]
    return {**tx, "uetr": spelt}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_transactions(), _spellings), min_size=1, max_size=8))
def test_a_batch_takes_what_fast_row_takes_and_gives_the_models_columns(drawn):
    """The batch path (UETRs read as strings, checked all at once) takes exactly the payloads
    :func:`fast_row` takes, and every column is the model's value."""
    payloads = [json.dumps(_respelt(tx, how), ensure_ascii=False).encode() for tx, how in drawn]
    if len(payloads) > 1 and drawn[0][1] == "35+37":  # next to a 37-character one
        payloads[1] = payloads[1].replace(b'"uetr": "', b'"uetr": "a', 1)
    rows = fast_batch(payloads)
    assert [row is None for row in rows] == [fast_row(p) is None for p in payloads]
    models = [_model(p) for p in payloads]
    assume(all(_fits_the_columns(m) for m in models if m is not None))
    origins = [f"o{i}" for i in range(len(payloads))]
    columns, rejects = decode_columns(payloads, origins, {"label": list(range(len(payloads)))}, [])
    kept = [i for i, m in enumerate(models) if m is not None]
    assert [r.origin for r in rejects] == [origins[i] for i in range(len(payloads)) if i not in kept]
    if not kept:
        assert columns is None
        return
    _assert_columns(columns, _expected_columns([models[i] for i in kept]))
    assert columns.origins == [origins[i] for i in kept] and columns.labels["label"].tolist() == kept


def test_uetrs_checked_at_once_agree_with_the_parser():
    """Only 36 lowercase hex digits and dashes pass as they stand; the rest are read again."""
    uetr = "6f1d1b5c-1c0e-4f57-9d3f-3a1c0f9b8e2a"
    assert fast_decode._misspelt([uetr] * 3) == []
    assert fast_decode._misspelt([uetr[:-1], uetr + "a"]) == [0, 1]  # the same bytes in all, lines of 36
    assert fast_decode._misspelt([uetr, uetr.upper(), uetr.replace("-", ""), uetr[:-1] + "\u0663", ""]) == [1, 2, 3, 4]
    assert fast_decode._misspelt([uetr.replace("-", "\n", 1)]) == [0]
    payloads = [orjson.dumps({**SAMPLE, "uetr": u}) for u in (uetr, uetr.upper(), uetr.replace("-", ""),
                                                              f"{{{uetr}}}", uetr[:8] + "-" + uetr[8:])]
    rows = fast_batch(payloads)
    assert [row is None for row in rows] == [False, False, False, True, True]
    assert [row[0] for row in rows[:3]] == [uetr] * 3
    assert all(row[-1].startswith(b'{"uetr":"' + uetr.encode() + b'"') for row in rows[:3])


def test_times_and_amounts_are_remembered_while_that_pays(monkeypatch):
    """A bounded cache that a stream of values never seen again turns off (emptied), and that tries
    again after a rest; the rows are the model's whichever way they were read."""
    kept = fast_decode._TIMES_KEPT
    for name, value in (("size", 8), ("window", 40), ("rest", 100), ("on", True), ("rows", 0), ("remembered", 0)):
        monkeypatch.setattr(kept, name, value)
    monkeypatch.setattr(fast_decode._AMOUNTS_KEPT, "size", 8)
    fast_decode._TIMES.clear()
    txs = transactions(400, accounts=10)
    batches = [[orjson.dumps(t) for t in txs[i:i + 10]] for i in range(0, 400, 10)]

    def decoded(batch):
        rows = fast_batch(batch)
        assert len(fast_decode._TIMES) <= 8 and len(fast_decode._AMOUNTS) <= 8
        for payload, row in zip(batch, rows, strict=True):
            model = TRANSACTION.validate_json(payload)
            assert row[1][1] == model.created_at and row[2][2] == model.amount
            assert row[-1] == TRANSACTION.dump_json(model, exclude_none=True)
        return rows

    for batch in batches[:4]:  # new times only: remembered, then the window shows they did not pay
        decoded(batch)
    assert not kept.on and not fast_decode._TIMES
    for batch in batches[4:14]:  # resting: nothing remembered
        decoded(batch)
        assert not fast_decode._TIMES
    assert kept.on
    for _ in range(12):  # the same five times again and again: found, so kept on
        decoded(batches[20][:5])
    assert kept.on and len(fast_decode._TIMES) == 5 and kept.rows == 20
    fast_decode._TIMES.clear()
    fast_decode._AMOUNTS.clear()


def test_columns_of_other_minor_units_and_balances_agree_on_both_paths():
    txs = transactions(8)
    for i, (currency, amount, balance) in enumerate((("JPY", "1250", None), ("KWD", "12.345", "0.5"),
                                                     ("EUR", 125, "-1200.50"), ("BHD", "0.0001", 7))):
        txs[i] |= {"currency": currency, "amount": amount, "debtor_balance_before": balance}
        txs[i + 4] |= {"currency": f" {currency}", "amount": amount, "debtor_balance_before": balance}  # the model's
    payloads = [orjson.dumps(t) for t in txs]
    assert [r is None for r in fast_batch(payloads)] == [False] * 4 + [True] * 4
    columns, rejects = decode_columns(payloads, [str(i) for i in range(8)], {}, [])
    assert not rejects
    _assert_columns(columns, _expected_columns([TRANSACTION.validate_json(p) for p in payloads]))
    assert columns.amount_minor.tolist()[:4] == [1250, 12345, 12500, 0]
