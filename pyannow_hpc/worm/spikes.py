"""Spike trains from membrane traces: upward threshold crossings with a
refractory time -- the same rule as the C surrogate (native/src/surrogate.c).

A spike at sample ``i`` of muscle ``j`` means ``v[i-1, j] < thresh <= v[i, j]``
and at least ``refractory_steps(refractory_ms, dt_ms)`` samples since that
muscle's previous spike.  On a full-resolution trace (one sample per
integration step, sample 0 = initial state) this gives exactly the spikes the
C and JAX surrogates report.
"""
from __future__ import annotations

import math

import numpy as np


def check_spike_settings(thresh_mV: float, refractory_ms: float) -> None:
    """Raise ConfigError naming the setting when the spike rule is given NaN/inf
    or a negative refractory time (the C kernel would only say "invalid argument")."""
    from ..errors import ConfigError

    if not math.isfinite(thresh_mV):
        raise ConfigError(f"spike_thresh_mV must be a finite voltage, got {thresh_mV!r}")
    if not (math.isfinite(refractory_ms) and refractory_ms >= 0):
        raise ConfigError(f"refractory_ms must be a finite time >= 0 ms, got {refractory_ms!r}")


def refractory_steps(refractory_ms: float, dt_ms: float) -> int:
    """Samples a muscle stays silent after a spike: ceil(refractory / dt), as in C."""
    return int(math.ceil(refractory_ms / dt_ms))


def detect_spikes(v_mV: np.ndarray, dt_ms: float, thresh_mV: float, refractory_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """Spikes of a ``(n_samples, n_muscles)`` trace sampled every ``dt_ms``.

    Returns ``(times_ms, muscle)`` sorted by time (then muscle), times being
    ``sample_index * dt_ms``.
    """
    v = np.asarray(v_mV)
    if v.ndim == 1:
        v = v[:, None]
    # candidate crossings are found vectorised; only they go through the
    # (inherently sequential) refractory filter
    cross = (v[:-1] < thresh_mV) & (v[1:] >= thresh_mV)
    idx, mus = np.nonzero(cross)
    idx = idx + 1
    refr = refractory_steps(refractory_ms, dt_ms)
    keep = np.zeros(len(idx), dtype=bool)
    last: dict[int, int] = {}
    for k, (i, j) in enumerate(zip(idx.tolist(), mus.tolist())):
        if i - last.get(j, -(1 << 62)) >= refr:
            keep[k] = True
            last[j] = i
    return idx[keep].astype(np.float64) * dt_ms, mus[keep].astype(np.int32)


def spikes_from_mask(mask: np.ndarray, dt_ms: float, first_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(times_ms, muscle)`` from a per-step boolean ``(n_steps, n_muscles)``
    spike mask whose row ``r`` is the state after step ``first_step + r``."""
    steps, mus = np.nonzero(np.asarray(mask))
    return (steps + first_step).astype(np.float64) * dt_ms, mus.astype(np.int32)
