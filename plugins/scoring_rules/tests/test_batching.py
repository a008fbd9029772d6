"""How a stream is cut into batches changes no score and no explanation (the sidecar scores batches of one)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.plugin import RulesPlugin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aegis.context import Context
from aegis.model import country_code

SECOND = 1_000_000_000
COUNTRIES = [-1, *(country_code(c) for c in ("IR", "KP", "MM", "KE", "DZ", "DE", "FR"))]
CONFIGS: list[dict[str, Any]] = [
    {},
    {"velocity": {"windows": [{"window": "60s", "max_count": 3}, {"window": "1h", "max_sum": 2_000}],
                  "ring_size": 4, "ramp_from": 0.3},
     "amount": {"min_history": 2, "z_start": 0.5, "z_full": 1.5, "large_amount": 5_000}},
]

payment = st.tuples(st.integers(0, 3),  # debtor account
                    st.floats(0.01, 20_000).map(lambda x: round(x, 2)),  # amount
                    st.integers(-600, 120),  # seconds since the previous payment (negative: back-dated)
                    st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES))


def _plugin(fatf_csv, config: dict[str, Any]) -> RulesPlugin:
    plugin = RulesPlugin(RulesConfig.model_validate({**config, "geo": {"fatf_list": str(fatf_csv)}}))
    plugin.aegis_startup(Context())
    return plugin


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.sampled_from(CONFIGS), payments=st.lists(payment, min_size=1, max_size=40), data=st.data())
def test_any_batching_scores_and_explains_alike(fatf_csv, config, payments, data):
    account, amount, step, debtor, creditor = (np.array(column) for column in zip(*payments, strict=True))
    columns = {"debtor_account": account, "amount": amount, "created_at_ns": np.cumsum(step * SECOND),
               "debtor_country": debtor.astype(np.int16), "creditor_country": creditor.astype(np.int16)}
    n = len(payments)
    singly = data.draw(st.booleans(), label="one payment per batch")
    cuts = list(range(1, n)) if singly else sorted(data.draw(st.sets(st.integers(1, max(n - 1, 1))), label="cuts"))
    bounds = list(zip([0, *cuts], [*cuts, n], strict=True))

    whole = _plugin(fatf_csv, config).aegis_scoring_score(SimpleNamespace(shard=None, **columns))
    plugin = _plugin(fatf_csv, config)
    parts = [plugin.aegis_scoring_score(SimpleNamespace(shard=None, **{k: v[a:b] for k, v in columns.items()}))
             for a, b in bounds if a < b]
    for name, factor in whole.factors.items():
        np.testing.assert_array_equal(np.concatenate([p.factors[name].scores for p in parts]), factor.scores)
        assert [d for p in parts for d in p.factors[name].details] == factor.details, name
        assert all(p.versions == whole.versions for p in parts)
