"""The one place the optimiser touches the JAX cell simulators.

Both JAX cells (the seed's ``pyannow`` cell and ``boyle2008``) are reached
through their public entry points (``make_simulator``, ``theta_from``,
``THETA_NAMES``); a rename in pyannow_hpc/worm/ is a change to this file only.

:func:`trace_fn` returns ``fn(theta, seed) -> (v_mV (n_samples, 96), spike_mask)``
for ``theta`` a dict of the model's parameters (scalars or (96,) per-muscle
arrays: every channel parameter enters the step elementwise, so a per-muscle
array broadcasts through unchanged). Call it under ``jax.enable_x64(True)``.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..errors import ConfigError

#: the spike rule of SimulationSpec's defaults (threshold crossings, C rule)
SPIKE_THRESH_MV = -10.0
REFRACTORY_MS = 50.0
SAMPLE_RATE_HZ = 1000.0
JAX_MODELS = ("pyannow", "boyle2008")


def _module(model: str):
    if model == "pyannow":
        from ..worm import jax_surrogate as m
    elif model == "boyle2008":
        from ..worm import boyle2008_jax as m
    else:
        raise ConfigError(f"model {model!r} has no JAX simulator; the gradient method needs one of {', '.join(JAX_MODELS)}")
    return m


def record_every(dt_ms: float) -> int:
    return max(1, int(round(1000.0 / SAMPLE_RATE_HZ / dt_ms)))


def trace_fn(model: str, n_steps: int, dt_ms: float, integrator: str = "exponential", spikes: bool = True) -> Callable:
    m = _module(model)
    rec = record_every(dt_ms)
    if model == "pyannow":
        sim = m.make_simulator(n_steps, dt_ms, rec, integrator, False, spikes, SPIKE_THRESH_MV, REFRACTORY_MS)
    else:
        if integrator != "exponential":
            raise ConfigError("the boyle2008 cell has only the exponential integrator")
        sim = m.make_simulator(n_steps, dt_ms, rec, spikes, SPIKE_THRESH_MV, REFRACTORY_MS)

    def fn(theta, seed):
        out = sim(theta, seed)
        return out["v"], out.get("spike_mask")

    return fn


def model_theta(model: str, params: Mapping) -> dict:
    """The simulator's theta dict from a full parameter dict (values may be arrays)."""
    m = _module(model)
    extra = {}
    if model == "boyle2008":  # no IClamp step while optimising
        from ..worm.boyle2008 import NO_STEP

        extra = dict(i_step_uA=NO_STEP.amp_uA, step_start_ms=NO_STEP.start_ms, step_stop_ms=NO_STEP.stop_ms)
    return {k: params[k] if k in params else extra[k] for k in m.THETA_NAMES}


def sample_dt_ms(dt_ms: float) -> float:
    return record_every(dt_ms) * dt_ms


def seed_u64(seed: int) -> np.uint64:
    return np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
