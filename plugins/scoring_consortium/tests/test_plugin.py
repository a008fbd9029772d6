"""The consortium scoring plugin: valid signals flag payments, rejected ones are counted and never used,
the verification key's signature gates startup, appended lines are picked up by reload."""

from __future__ import annotations

import copy
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from aegis_scoring_consortium.feed import FeedReader

from aegis.testing.harness import PluginHarness
from aegis.testing.samples import EPOCH, german_iban, transaction

FLAGGED = "ACC-000007"


def _txs(pairs: list[tuple[int, int]], start: datetime = EPOCH) -> list[dict]:
    rng = random.Random(3)
    return [transaction(rng, start + timedelta(seconds=i), d, c) for i, (d, c) in enumerate(pairs)]


def test_valid_signal_flags_payments_to_the_creditor(tmp_path: Path, consortium) -> None:
    signal = consortium.signal(FLAGGED)
    consortium.append(signal)
    with PluginHarness("scoring", "consortium", consortium.config(), tmp_path / "state") as h:
        result = h.score(h.batch(_txs([(1, 7), (2, 8), (7, 3), (4, 7)])))
        fs = result.factors["CONSORTIUM"]
        assert fs.reason_code == "RC_CONSORTIUM_SIGNAL"
        assert fs.scores.tolist() == [1.0, 0.0, 0.0, 1.0]  # debtor 7 is an IBAN, not ACC-000007
        assert fs.details[1] is None
        assert "bank-b" in fs.details[0] and signal["signal_id"] in fs.details[0]
        assert fs.details[0].startswith("creditor named by 1 consortium signal")
        assert "blocked as creditor" in fs.details[0]
        assert result.versions["consortium_signals_version"].startswith("sha256:")


def test_a_signal_on_a_debtor_flags_payments_from_it(tmp_path: Path, consortium) -> None:
    consortium.append(consortium.signal(german_iban(5).lower(), role="debtor"))
    with PluginHarness("scoring", "consortium", consortium.config(details=False), tmp_path / "state") as h:
        fs = h.score(h.batch(_txs([(5, 1), (6, 5)]))).factors["CONSORTIUM"]
        assert fs.scores.tolist() == [1.0, 0.0] and fs.details is None


def test_rejected_signals_are_counted_and_never_used(tmp_path: Path, consortium) -> None:
    good = consortium.signal(FLAGGED)
    moved = copy.deepcopy(consortium.signal("ACC-000008"))
    moved["entity"] = consortium.signal("ACC-000009")["entity"]  # pointed at another account after signing
    forged = consortium.signal("ACC-000010")
    forged["public_inputs"][0] = "1"  # threshold lowered after signing
    old = consortium.signal("ACC-000011", issued_at=EPOCH - timedelta(days=40))
    consortium.feed.write_bytes(b"not json\n")
    consortium.append(good, moved, forged, old, good)  # the repeated line is read once
    with PluginHarness("scoring", "consortium", consortium.config(), tmp_path / "state") as h:
        plugin = h.plugin
        assert len(plugin.book) == 2  # the old one is valid: age is judged per payment, below
        assert dict(plugin.book.rejected) == {"malformed": 1, "signature": 2}
        fs = h.score(h.batch(_txs([(1, 7), (1, 8), (1, 9), (1, 10), (1, 11)]))).factors["CONSORTIUM"]
        assert fs.scores.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]  # ACC-000011's signal is 40 days older
        detail = {r.check: r.detail for r in h.host.self_test()}["consortium feeds readable; signals verified"]
        assert "2 signal(s) accepted from 1 member(s) (bank-b); 3 rejected (malformed 1, signature 2)" in detail


def test_decisions_do_not_depend_on_the_clock(tmp_path: Path, consortium) -> None:
    """A replay years later must decide as the original run did: signals are not aged by the clock,
    only by each payment's own time (issued within max_skew after it, or up to max_age before it)."""
    issued = datetime(2020, 5, 1, 12, 0, tzinfo=UTC)  # years before this test runs
    consortium.append(consortium.signal(FLAGGED, issued_at=issued))
    with PluginHarness("scoring", "consortium", consortium.config(max_age_hours=24, max_skew_seconds=300),
                       tmp_path / "state") as h:
        assert len(h.plugin.book) == 1 and not h.plugin.book.rejected
        at = [issued - timedelta(hours=1), issued - timedelta(minutes=4), issued + timedelta(hours=23),
              issued + timedelta(hours=25)]
        txs = [t for when in at for t in _txs([(1, 7)], start=when)]
        assert h.score(h.batch(txs)).factors["CONSORTIUM"].scores.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_only_the_newest_max_signals_are_kept(tmp_path: Path, consortium) -> None:
    for k, account in enumerate(("ACC-000007", "ACC-000008", "ACC-000009")):
        consortium.append(consortium.signal(account, issued_at=EPOCH - timedelta(hours=3 - k)))
    with PluginHarness("scoring", "consortium", consortium.config(max_signals=2), tmp_path / "state") as h:
        assert len(h.plugin.book) == 2
        fs = h.score(h.batch(_txs([(1, 7), (1, 8), (1, 9)]))).factors["CONSORTIUM"]
        assert fs.scores.tolist() == [0.0, 1.0, 1.0]  # the oldest (ACC-000007's) was dropped


def test_signal_expires_for_payments_made_after_max_age(tmp_path: Path, consortium) -> None:
    issued = datetime.now(UTC) - timedelta(hours=1)
    consortium.append(consortium.signal(FLAGGED, issued_at=issued))
    with PluginHarness("scoring", "consortium", consortium.config(max_age_hours=2), tmp_path / "state") as h:
        txs = _txs([(1, 7)], start=issued + timedelta(minutes=30)) + _txs([(1, 7)], start=issued + timedelta(hours=3))
        assert h.score(h.batch(txs)).factors["CONSORTIUM"].scores.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("tamper", ["signature", "key"])
def test_verification_key_signature_mismatch_stops_startup(tmp_path: Path, consortium, tamper: str) -> None:
    target = consortium.root / ("verification_key.sig" if tamper == "signature" else "verification_key.bin")
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(Exception, match=r"verification_key\.sig does not verify"):
        with PluginHarness("scoring", "consortium", consortium.config(), tmp_path / "state"):
            pass


def test_unknown_member_key_file_and_short_key_stop_startup(tmp_path: Path, consortium) -> None:
    (consortium.root / "bad.pem").write_text("not a key")
    config = consortium.config(members={"bank-c": str(consortium.root / "bad.pem")})
    with pytest.raises(Exception, match=r"member bank-c's key .* is not a PEM public key"):
        with PluginHarness("scoring", "consortium", config, tmp_path / "state"):
            pass
    with pytest.raises(Exception, match="pseudonym_key has 5 characters"):
        with PluginHarness("scoring", "consortium", consortium.config(pseudonym_key="short"), tmp_path / "s2"):
            pass


@pytest.mark.parametrize("background", [False, True], ids=["inline", "worker process"])
def test_appended_lines_are_picked_up_by_reload(tmp_path: Path, consortium, background: bool) -> None:
    feeds_dir = consortium.feed.parent
    with PluginHarness("scoring", "consortium", consortium.config(feeds=[str(feeds_dir)],
                                                                  verify_in_background=background),
                       tmp_path / "state") as h:
        batch = h.batch(_txs([(1, 7), (1, 8)]))
        assert h.score(batch).factors["CONSORTIUM"].scores.tolist() == [0.0, 0.0]
        assert h.host.reload() == []
        signal = consortium.signal(FLAGGED)
        line = consortium.feed.read_bytes()
        consortium.append(signal, path=feeds_dir / "bank-b-2.jsonl")  # a new file in a feed directory
        reports = []
        deadline = time.monotonic() + 60
        while not any(r.ok and r.new_version != r.old_version for r in reports) and time.monotonic() < deadline:
            reports += h.host.reload()
            time.sleep(0.05)
        assert [r.ok for r in reports] == [True], reports
        assert "+1 signal(s)" in reports[0].summary
        assert h.score(batch).factors["CONSORTIUM"].scores.tolist() == [1.0, 0.0]
        assert consortium.feed.read_bytes() == line


def test_feed_reader_hands_out_complete_new_lines_once(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_bytes(b'{"a": 1}\n{"b"')
    reader = FeedReader([feed])
    assert [x.data for x in reader.poll().lines] == [b'{"a": 1}']
    assert reader.poll().lines == []
    with open(feed, "ab") as f:
        f.write(b': 2}\n\n{"c": 3}\n')
    assert [(x.origin.rsplit(":", 1)[1], x.data) for x in reader.poll().lines] == [("2", b'{"b": 2}'),
                                                                                 ("4", b'{"c": 3}')]
    feed.write_bytes(b'{"z": 0}\n')  # rewritten, not appended: read from the top again
    assert [x.data for x in reader.poll().lines] == [b'{"z": 0}']
    missing = FeedReader([tmp_path / "absent.jsonl"])
    first = missing.poll().errors
    assert len(first) == 1 and "absent.jsonl: cannot read feed" in first[0]
    assert missing.poll().errors == [] and missing.errors() == first  # reported once, listed until it appears


def test_scores_are_zero_without_signals(tmp_path: Path, consortium) -> None:
    with PluginHarness("scoring", "consortium", consortium.config(), tmp_path / "state") as h:
        fs = h.score(h.batch(_txs([(1, 7)] * 3))).factors["CONSORTIUM"]
        assert np.array_equal(fs.scores, np.zeros(3))
