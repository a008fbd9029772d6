"""Fixtures for the model plugin tests: the shipped weights, a started plugin, payment builders."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aegis_scoring_model.config import default_weights_path

from aegis.testing import samples
from aegis.testing.harness import PluginHarness

REPO = Path(__file__).resolve().parents[3]
DATA = (REPO / ".." / "shared" / "data").resolve()
PAYSIM = DATA / "fraud" / "paysim"
HOUR = 3_600_000_000_000
CHANNELS = ["TRANSFER", "CASH_OUT", "CASH_IN", "PAYMENT", None, "SEPA"]


def _stream(n: int, seed: int, accounts: int = 12) -> tuple:
    """A random stream that exercises every branch: ring wrap, repeats, out-of-order times, balances."""
    rng = np.random.default_rng(seed)
    debtor = rng.integers(0, accounts, n)
    creditor = rng.integers(0, accounts, n)
    amount = np.round(np.exp(rng.normal(6, 2, n)), 2)
    amount[rng.random(n) < 0.1] = 1000.0 * rng.integers(1, 20)
    amount[rng.random(n) < 0.05] = 9_500.0
    times = np.cumsum(rng.integers(0, 3 * HOUR, n))
    times[rng.random(n) < 0.05] -= HOUR  # a few payments dated before earlier ones
    balance = np.where(rng.random(n) < 0.3, np.nan, np.round(amount * rng.choice([0.5, 1.0, 1.5, -1.0], n), 2))
    channels = [CHANNELS[k] for k in rng.integers(0, len(CHANNELS), n)]
    return debtor, creditor, amount, times, balance, channels


@pytest.fixture
def random_stream() -> Callable[..., tuple]:
    """``random_stream(n, seed)``: engine columns (debtor, creditor, amount, times, balance, channels)."""
    return _stream


@pytest.fixture
def weights_file(tmp_path: Path) -> Path:
    """A private copy of the shipped weights file (tests replace it)."""
    path = tmp_path / "model_weights.json"
    path.write_bytes(default_weights_path().read_bytes())
    return path


@pytest.fixture
def start_model(tmp_path: Path, weights_file: Path) -> Iterator[Callable[..., PluginHarness]]:
    """``start_model(details=False, ...)``: the plugin loaded by entry point, reading ``weights_file``, started."""
    numbers = itertools.count()
    with ExitStack() as stack:
        def start(**config: Any) -> PluginHarness:
            return stack.enter_context(PluginHarness("scoring", "model", {"weights": str(weights_file), **config},
                                                     tmp_path / f"state{next(numbers)}"))
        yield start


@pytest.fixture
def payment() -> Callable[..., dict]:
    """``payment(debtor, creditor, amount, minutes, balance=None, channel=None)``: one valid payment mapping;
    account ``k`` is the same IBAN whether it pays or is paid."""
    rng = random.Random(5)

    def build(debtor: int, creditor: int, amount: float, minutes: float, balance: float | None = None,
              channel: str | None = None) -> dict:
        tx = samples.transaction(rng, samples.EPOCH + timedelta(minutes=minutes), debtor, creditor,
                                 amount=f"{amount:.2f}", currency="EUR")
        tx["creditor"]["account"] = samples.german_iban(creditor)  # one account id, whichever side it is on
        if balance is not None:
            tx["debtor_balance_before"] = f"{balance:.2f}"
        if channel is not None:
            tx["channel"] = channel
        return tx

    return build
