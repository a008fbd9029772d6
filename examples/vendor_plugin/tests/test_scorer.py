"""The denylist scorer's own behaviour, through the real loading path (entry point, Config, startup)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from aegis._loading import find_plugin
from aegis.decide import DecisionConfig, decide
from aegis.errors import PluginLoadError
from aegis.model import Decision
from aegis.testing import PluginHarness
from aegis.testing.samples import EPOCH, german_iban, transaction, transactions

SAMPLE = Path(__file__).resolve().parents[1] / "denylist.csv"
# (debtor, creditor) as sample account numbers: german_iban(debtor) pays ACC-<creditor>.
PAYMENTS = [
    (7, 1),    # debtor DE73…0007 listed
    (1, 13),   # creditor ACC-000013 listed
    (2, 2),    # neither listed
    (21, 31),  # both listed
]


def payments() -> list[dict]:
    rng = random.Random(5)
    return [transaction(rng, EPOCH + timedelta(seconds=i), debtor, creditor)
            for i, (debtor, creditor) in enumerate(PAYMENTS)]


def replace(path: Path, text: str) -> None:
    staged = path.with_suffix(".tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


@pytest.fixture
def accounts_csv(tmp_path) -> Path:
    path = tmp_path / "denylist.csv"
    shutil.copyfile(SAMPLE, path)
    return path


def started(accounts_csv: Path, tmp_path: Path, **options: object) -> PluginHarness:
    return PluginHarness("scoring", "denylist", {"accounts_csv": str(accounts_csv), **options}, tmp_path / "state")


@pytest.fixture
def harness(accounts_csv, tmp_path) -> Iterator[PluginHarness]:
    with started(accounts_csv, tmp_path) as h:
        yield h


def test_installed_under_the_vendors_own_distribution_name():
    plugin = find_plugin("scoring", "denylist")
    assert (plugin.distribution, plugin.value) == ("acme-aegis-denylist", "acme_denylist.plugin:DenylistScorer")


@pytest.mark.parametrize(("match", "expected"), [
    ("both", [1, 1, 0, 1]),
    ("debtor", [1, 0, 0, 1]),
    ("creditor", [0, 1, 0, 1]),
])
def test_matches_the_configured_side(accounts_csv, tmp_path, match, expected):
    with started(accounts_csv, tmp_path, match=match) as h:
        result = h.score(h.batch(payments()))
    factor = result.factors["DENYLIST"]
    assert factor.reason_code == "RC_DENYLISTED_ACCOUNT"
    assert factor.scores.tolist() == expected
    assert factor.hard_block.tolist() == [bool(e) for e in expected]
    assert [d is not None for d in factor.details] == [bool(e) for e in expected]


def test_details_name_account_side_and_reason(harness):
    details = harness.score(harness.batch(payments())).factors["DENYLIST"].details
    assert details[0].startswith(f"debtor account {german_iban(7)} is denylisted: mule account confirmed by "
                                 f"internal investigation (listed 2025-11-03 by fincrime-ops@acme.example")
    assert details[1].startswith("creditor account ACC-000013 is denylisted: beneficiary of confirmed "
                                 "invoice-redirection fraud")
    assert details[2] is None
    debtor_part, creditor_part = details[3].split("; ")
    assert debtor_part.startswith(f"debtor account {german_iban(21)} is denylisted: account takeover")
    assert creditor_part.startswith("creditor account ACC-000031 is denylisted: mule network")


def test_spaced_iban_on_the_list_matches_the_compact_iban_of_a_payment(accounts_csv, tmp_path):
    iban = german_iban(2)
    spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    accounts_csv.write_text(f"account,reason,listed_at,listed_by\n{spaced},mule,2025-11-03,ops\n")
    with started(accounts_csv, tmp_path) as h:
        assert h.score(h.batch(payments())).factors["DENYLIST"].scores.tolist() == [0, 0, 1, 0]


def test_hard_block_blocks_whatever_the_weight(harness):
    batch = harness.batch(payments())
    result = harness.score(batch)
    decisions = decide(batch, [("scoring[0] (denylist)", result)], DecisionConfig(weights={"DENYLIST": 0.0}))
    assert decisions.decision.tolist() == [Decision.BLOCK, Decision.BLOCK, Decision.CLEAR, Decision.BLOCK]
    assert decisions.reason_code == ["RC_DENYLISTED_ACCOUNT", "RC_DENYLISTED_ACCOUNT", "RC_CLEAR",
                                     "RC_DENYLISTED_ACCOUNT"]
    record = decisions.record(1)
    assert "ACC-000013" in record["explanation"]["DENYLIST"]
    assert record["versions"]["denylist_version"] == result.versions["denylist_version"]


def test_without_hard_block_only_the_weighted_score_counts(accounts_csv, tmp_path):
    with started(accounts_csv, tmp_path, hard_block=False) as h:
        batch = h.batch(payments())
        result = h.score(batch)
    assert result.factors["DENYLIST"].hard_block is None
    default_weight = decide(batch, [("denylist", result)], DecisionConfig())  # DENYLIST weighs 0.5
    assert default_weight.decision.tolist() == [Decision.INVESTIGATE, Decision.INVESTIGATE, Decision.CLEAR,
                                                Decision.INVESTIGATE]
    weightless = decide(batch, [("denylist", result)], DecisionConfig(weights={"DENYLIST": 0.0}))
    assert set(weightless.decision.tolist()) == {Decision.CLEAR}


def test_version_is_the_hash_of_the_file(harness, accounts_csv):
    versions = harness.score(harness.batch(payments())).versions
    assert versions == {"denylist_version": "sha256:" + hashlib.sha256(accounts_csv.read_bytes()).hexdigest()[:16]}


def test_reload_without_change_reports_nothing(harness, accounts_csv):
    assert harness.host.reload() == []
    os.utime(accounts_csv)  # touched, same bytes
    assert harness.host.reload() == []


def test_reload_swaps_in_a_changed_list(harness, accounts_csv):
    before = harness.score(harness.batch(payments())).versions["denylist_version"]
    replace(accounts_csv, accounts_csv.read_text() + f"{german_iban(2)},newly listed,2026-01-05,ops\n")
    [report] = harness.host.reload()
    assert report.ok and report.old_version == before and report.new_version != before
    assert (report.plugin, report.artefact, report.summary) == ("scoring[0] (denylist)", str(accounts_csv),
                                                                 "9 accounts")
    result = harness.score(harness.batch(payments()))
    assert result.factors["DENYLIST"].scores.tolist() == [1, 1, 1, 1]
    assert result.versions["denylist_version"] == report.new_version


def test_reload_refuses_a_bad_list_and_keeps_the_old_one(harness, accounts_csv):
    before = harness.score(harness.batch(payments())).versions["denylist_version"]
    replace(accounts_csv, "account,reason,listed_at,listed_by\nDE00370400440000000002,typo,2026-01-05,ops\n")
    [report] = harness.host.reload()
    assert not report.ok and report.old_version == before and report.new_version is None
    assert f"{accounts_csv}:2: account 'DE00370400440000000002'" in report.error
    result = harness.score(harness.batch(payments()))
    assert result.versions["denylist_version"] == before
    assert result.factors["DENYLIST"].scores.tolist() == [1, 1, 0, 1]
    assert harness.host.reload() == [], "the same bad file is reported once, not at every interval"
    replace(accounts_csv, f"account,reason,listed_at,listed_by\n{german_iban(2)},fixed,2026-01-05,ops\n")
    [fixed] = harness.host.reload()
    assert fixed.ok and fixed.old_version == before
    assert harness.score(harness.batch(payments())).factors["DENYLIST"].scores.tolist() == [0, 0, 1, 0]


def test_reload_keeps_the_list_when_the_file_disappears(harness, accounts_csv):
    accounts_csv.unlink()
    [report] = harness.host.reload()
    assert not report.ok and "No such file" in report.error and str(accounts_csv) in report.error
    assert harness.score(harness.batch(payments())).factors["DENYLIST"].scores.tolist() == [1, 1, 0, 1]


def test_bad_list_at_startup_fails_naming_plugin_and_line(accounts_csv, tmp_path):
    accounts_csv.write_text("account,reason,listed_at,listed_by\nACC-1,mule,yesterday,ops\n")
    with pytest.raises(PluginLoadError) as excinfo, started(accounts_csv, tmp_path):
        pass
    message = str(excinfo.value)
    assert "scoring[0] (denylist)" in message and "acme-aegis-denylist 0.1.0" in message
    assert f"{accounts_csv}:2: account ACC-1: listed_at 'yesterday'" in message


@pytest.mark.parametrize("match", ["both", "debtor", "creditor"])
@pytest.mark.parametrize("hard_block", [True, False])
def test_self_test_checks_the_configured_side(accounts_csv, tmp_path, match, hard_block):
    with started(accounts_csv, tmp_path, match=match, hard_block=hard_block) as h:
        results = h.host.self_test()
    assert [(r.check, r.ok) for r in results] == [
        ("denylist loaded", True), (f"listed account is matched on side {match!r}", True)]
    assert "8 accounts" in results[0].detail


def test_large_batch_agrees_with_a_per_payment_oracle(harness):
    batch = harness.batch(transactions(2000, seed=3))
    scores = harness.score(batch).factors["DENYLIST"].scores
    listed = {german_iban(7), german_iban(21), german_iban(42), "ACC-000013", "ACC-000031"}
    expected = np.array([t.debtor.account in listed or t.creditor.account in listed for t in batch.transactions])
    assert np.array_equal(scores.astype(bool), expected) and expected.any()
