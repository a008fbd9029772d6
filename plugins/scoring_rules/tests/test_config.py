"""Configuration: durations, defaults, and errors that name the field at fault."""

from __future__ import annotations

from typing import Any

import pytest
from aegis_scoring_rules.config import RulesConfig, duration_ns
from pydantic import ValidationError

from aegis.config import format_errors


def _errors(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        RulesConfig.model_validate(config)
    return format_errors(info.value)


@pytest.mark.parametrize(("text", "ns"), [("60s", 60 * 10**9), ("15m", 900 * 10**9), ("1h", 3600 * 10**9),
                                          ("24h", 86_400 * 10**9), ("7d", 7 * 86_400 * 10**9)])
def test_durations(fatf_csv, text, ns):
    config = RulesConfig.model_validate({"velocity": {"windows": [{"window": text, "max_count": 3}]},
                                         "geo": {"fatf_list": str(fatf_csv)}})
    assert config.velocity.windows[0].ns == ns == duration_ns(text)


def test_defaults(fatf_csv):
    config = RulesConfig.model_validate({"geo": {"fatf_list": str(fatf_csv)}})
    assert [w.window for w in config.velocity.windows] == ["1h", "24h"]
    assert config.velocity.ring_size == 64 and config.amount.min_history == 5
    assert config.geo.as_of is None
    assert config.geo.status_scores["increased_monitoring"] == 0.5


@pytest.mark.parametrize(("section", "where", "message"), [
    ({"velocity": {"windows": [{"window": "1x", "max_count": 3}]}}, "velocity.windows[0].window",
     "expected a duration like 60s"),
    ({"velocity": {"windows": [{"window": "0m", "max_count": 3}]}}, "velocity.windows[0].window",
     "longer than zero"),
    ({"velocity": {"windows": [{"window": "1h"}]}}, "velocity.windows[0]", "needs max_count, max_sum or both"),
    ({"velocity": {"windows": [{"window": "1h", "max_count": 0}]}}, "velocity.windows[0].max_count",
     "greater than or equal to 1"),
    ({"velocity": {"windows": [{"window": "1h", "max_sum": 5}, {"window": "1h", "max_count": 5}]}},
     "velocity", "distinct lengths"),
    ({"velocity": {"windows": []}}, "velocity.windows", "at least 1 item"),
    ({"velocity": {"ramp_from": 1.0}}, "velocity.ramp_from", "less than 1"),
    ({"velocity": {"window": "1h"}}, "velocity.window", "Extra inputs are not permitted"),
    ({"amount": {"z_start": 3, "z_full": 2}}, "amount", "z_full (2.0) must be greater than z_start (3.0)"),
    ({"amount": {"min_history": 1}}, "amount.min_history", "greater than or equal to 2"),
    ({"amount": {"large_amount": -5}}, "amount.large_amount", "greater than 0"),
    ({"geo": {"status_scores": {"increased_monitoring": 2}}}, "geo.status_scores.increased_monitoring",
     "less than or equal to 1"),
    ({"geo": {"as_of": "yesterday"}}, "geo.as_of", "valid date"),
    ({"geo": {"fatf_list": "/nonexistent/fatf.csv"}}, "geo.fatf_list", "does not point to a file"),
    ({"velocty": {}}, "velocty", "Extra inputs are not permitted"),
])
def test_invalid_config_names_the_field(fatf_csv, section, where, message):
    config: dict[str, Any] = {"geo": {"fatf_list": str(fatf_csv)}}
    for key, value in section.items():
        config[key] = {**config[key], **value} if key == "geo" else value
    errors = _errors(config)
    assert any(e.startswith(f"{where}: ") and message in e for e in errors), errors


def test_fatf_list_is_required():
    assert _errors({}) == ["geo: Field required"]
    assert _errors({"geo": {}}) == ["geo.fatf_list: Field required"]
