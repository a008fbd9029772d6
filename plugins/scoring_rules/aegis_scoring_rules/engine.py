"""The rules engine: raw columns in, VELOCITY / AMOUNT / GEO scores out, no pydantic in between.

The plugin wraps it for the kernel; benchmarks call :meth:`RulesEngine.score_arrays` directly.
An engine keeps per-account state and is not thread-safe: use one engine per scoring thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aegis_scoring_rules.config import RulesConfig
from aegis_scoring_rules.kernels import score_kernel
from aegis_scoring_rules.ruleset import RuleSet
from aegis_scoring_rules.state import AccountState


@dataclass(frozen=True)
class RulesScores:
    """Scores of one batch, plus what the details need to explain them."""

    velocity: np.ndarray  # float64 in [0, 1]
    velocity_window: np.ndarray  # int64: index into config.velocity.windows of the deciding window
    velocity_count: np.ndarray  # int64: payments in that window, this one included
    velocity_sum: np.ndarray  # float64: their sum
    amount: np.ndarray  # float64 in [0, 1]
    amount_z: np.ndarray  # float64: z-score of log(amount), NaN when not scored
    amount_history: np.ndarray  # int64: earlier payments of the account
    amount_typical: np.ndarray  # float64: geometric mean of earlier amounts, NaN without history
    geo: np.ndarray  # float64 in [0, 1]
    rules: RuleSet


class RulesEngine:
    """Scores batches with numba kernels over per-account state and the active :class:`RuleSet`.

    :param config: the plugin's configuration.
    :param rules: the rule set to start with; read from ``config.geo.fatf_list`` when omitted.
    """

    def __init__(self, config: RulesConfig, rules: RuleSet | None = None):
        self.config = config
        self.rules = rules if rules is not None else RuleSet.load(config)
        self.state = AccountState(self.rules.config.velocity.ring_size)

    @property
    def effective(self) -> RulesConfig:
        """The configuration in force: the deployment's, with the thresholds file's sections."""
        return self.rules.config

    def swap(self, rules: RuleSet) -> None:
        """Make ``rules`` active; batches already being scored finish with the old set."""
        if rules.config.velocity.ring_size != self.state.ring_size:
            raise ValueError(f"ring_size {rules.config.velocity.ring_size} differs from the state's "
                             f"{self.state.ring_size}")
        self.rules = rules

    def score_arrays(self, debtor_account: np.ndarray, amount: np.ndarray, created_at_ns: np.ndarray,
                     debtor_country: np.ndarray, creditor_country: np.ndarray) -> RulesScores:
        """Score one batch given as columns (the :class:`aegis.model.Batch` dtypes), in order.

        :param debtor_account: dense account ids (int64, >= 0).
        :param amount: amounts in major units (float64, > 0).
        :param created_at_ns: payment times, ns since the Unix epoch (int64).
        :param debtor_country: packed ISO codes (:func:`aegis.model.country_code`, -1 absent).
        :param creditor_country: packed ISO codes, as above.
        """
        return self._score(self.state, self.rules, debtor_account, amount, created_at_ns, debtor_country,
                           creditor_country)

    def warm(self) -> None:
        """Compile (or load from cache) every kernel for the batch dtypes, on throwaway state."""
        state = AccountState(self.state.ring_size, capacity=2)
        self._score(state, self.rules, np.array([0, 0]), np.array([10.0, 20.0]),
                    np.array([0, 1_000_000_000]), np.array([-1, 0], dtype=np.int16),
                    np.array([0, -1], dtype=np.int16))

    def _score(self, state: AccountState, rules: RuleSet, debtor_account: np.ndarray, amount: np.ndarray,
               created_at_ns: np.ndarray, debtor_country: np.ndarray, creditor_country: np.ndarray) -> RulesScores:
        account = np.ascontiguousarray(debtor_account, dtype=np.int64)
        amount = np.ascontiguousarray(amount, dtype=np.float64)
        created = np.ascontiguousarray(created_at_ns, dtype=np.int64)
        debtor_cc = np.ascontiguousarray(debtor_country, dtype=np.int16)
        creditor_cc = np.ascontiguousarray(creditor_country, dtype=np.int16)
        n = account.shape[0]
        lengths = {len(amount), len(created), len(debtor_cc), len(creditor_cc)}
        if lengths != {n}:
            raise ValueError(f"columns differ in length: debtor_account {n}, amount {len(amount)}, "
                             f"created_at_ns {len(created)}, debtor_country {len(debtor_cc)}, "
                             f"creditor_country {len(creditor_cc)}")
        velocity = np.empty(n)
        window = np.empty(n, dtype=np.int64)
        count = np.empty(n, dtype=np.int64)
        total = np.empty(n)
        amount_score = np.empty(n)
        z = np.empty(n)
        seen = np.empty(n, dtype=np.int64)
        typical = np.empty(n)
        geo = np.empty(n)
        while True:  # at most twice: once more after growing the state for a new account id
            low, high = score_kernel(account, created, amount, debtor_cc, creditor_cc, state.accounts, state.ring,
                                     *rules.kernel_args, velocity, window, count, total, amount_score, z, seen,
                                     typical, geo)
            if low < 0:
                raise ValueError(f"debtor_account ids must be >= 0, got {low}")
            if high < state.capacity:
                break
            state.ensure(high)
        return RulesScores(velocity=velocity, velocity_window=window, velocity_count=count, velocity_sum=total,
                           amount=amount_score, amount_z=z, amount_history=seen, amount_typical=typical,
                           geo=geo, rules=rules)
