"""Percentile bootstrap confidence intervals over evaluations (rows).

Plain resampling goes through ``scipy.stats.bootstrap`` on the row indices.
The classifier importances need a *stratified* resample (each resample keeps
the musical / non-musical counts, so no resample has a single class and the
classifiers always fit); scipy's bootstrap does not stratify, so that one loop
is written here.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

LEVEL = 0.95


def ci(n: int, statistic: Callable[[np.ndarray], np.ndarray], n_resamples: int = 200, seed: int = 0,
       level: float = LEVEL) -> np.ndarray:
    """``(m, 2)`` [low, high] of the vector ``statistic(row_indices)`` over resampled rows."""
    from scipy.stats import bootstrap

    res = bootstrap((np.arange(n),), lambda idx: np.asarray(statistic(np.asarray(idx, dtype=int)), dtype=float),
                    vectorized=False, n_resamples=int(n_resamples), confidence_level=level, method="percentile",
                    rng=np.random.default_rng(seed))
    return np.column_stack([np.atleast_1d(res.confidence_interval.low), np.atleast_1d(res.confidence_interval.high)])


def stratified_ci(strata: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], n_resamples: int = 200,
                  seed: int = 0, level: float = LEVEL) -> np.ndarray:
    """As :func:`ci`, resampling within each stratum (class) separately."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    draws = np.array([
        statistic(np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups]))
        for _ in range(int(n_resamples))
    ], dtype=float)
    tail = 100 * (1 - level) / 2
    return np.column_stack([np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)])
