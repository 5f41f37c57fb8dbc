"""Synthetic ledgers whose answer is known, written with the sweep's own
writer (store.ledger) so that the analysis' reader is tested too."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pyannow_hpc.store.ledger import DONE, FAILED, LedgerData, write_ledger


def write_synthetic(path, names, values, metrics, *, scales=None, model="boyle2008", sampler="sobol", failed=(), pending=()):
    """A ledger with rows ``values`` (physical units) and per-row ``metrics``;
    rows in ``failed`` / ``pending`` get no metrics."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    led = LedgerData.new(np.arange(n), names, values, np.arange(n) + 1,
                         attrs={"model": model, "sampler": sampler, "backend": "native",
                                "param_scales": json.dumps(scales or {}), "duration_s": 10.0})
    for row in range(n):
        if row in pending:
            continue
        if row in failed:
            led.record(row, FAILED, error="SimulationError: synthetic")
            continue
        led.record(row, DONE, metrics={k: float(v[row]) for k, v in metrics.items()})
    write_ledger(path, led)
    return path


@pytest.fixture(scope="session")
def synthetic():
    return write_synthetic


#: the true coefficients of :func:`linear_ledger_at` (b's per decade)
LINEAR_TRUTH = {"intercept": 0.2, "a_uA": 0.5, "b_g": -0.3, "c_mV": 0.0}


def linear_ledger_at(path):
    """score = 0.2 + 0.5 a - 0.3 log10(b) + 0 c + N(0, 0.02): b is log-scaled,
    so its true slope is per decade; c does nothing."""
    rng = np.random.default_rng(3)
    n = 120
    a = rng.uniform(0.0, 1.0, n)
    b = 10 ** rng.uniform(-1.0, 1.0, n)
    c = rng.uniform(-2.0, 2.0, n)
    y = 0.2 + 0.5 * a - 0.3 * np.log10(b) + rng.normal(0, 0.02, n)
    return write_synthetic(path, ("a_uA", "b_g", "c_mV"), np.column_stack([a, b, c]),
                           {"f1_mireval": y, "onset_loss": 1 - y}, scales={"b_g": "log"})


@pytest.fixture(scope="session")
def linear_at():
    return linear_ledger_at


@pytest.fixture
def linear_ledger(tmp_path):
    return linear_ledger_at(tmp_path / "linear.h5"), LINEAR_TRUTH
