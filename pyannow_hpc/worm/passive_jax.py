"""The passive cell in JAX, and its reference: the worked example of a third
cell model (docs/cell_models.md).

    C dV/dt = g_leak (E_leak - V) + g_syn w_j(t) (E_syn - V) + noise + coupling

The step is native/src/passive.c's, operation for operation: the drive profile
w_j from :mod:`.drive`, the noise from :mod:`.rng`, the time loop from
:func:`.jax_scan.windowed_scan`, the output wrapper from
:func:`.jax_surrogate.activity_from_outputs`.  Everything else a model needs
(space, entry point, checks, onsets) is its entry in :data:`.models.MODELS`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping

import numpy as np

from ..params import PASSIVE_SPACE
from . import drive, models, rng
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .jax_scan import windowed_scan
from .jax_surrogate import activity_from_outputs, theta_arrays
from .spikes import refractory_steps

MODEL = "passive"
THETA_NAMES = PASSIVE_SPACE.names


@lru_cache(maxsize=32)
def make_simulator(n_steps: int, dt_ms: float, record_every: int = 1, spikes: bool = False,
                   spike_thresh_mV: float = -10.0, refractory_ms: float = 50.0, pulse: bool = False) -> Callable:
    """A jitted ``fn(theta, seed) -> {"v": (n_samples, 96), ["spike_mask"]}`` (as jax_surrogate's)."""
    import jax
    import jax.numpy as jnp

    v_init = models.get(MODEL).constants()["v_init_mV"]
    refr = refractory_steps(refractory_ms, dt_ms)
    count = jnp.asarray(drive.neighbour_count())

    def fn(theta, seed):
        th = theta_arrays(jnp, theta, THETA_NAMES)
        key = rng.key(jnp.asarray(seed, jnp.uint64))
        ph = drive.phases(jnp, th["drive_phase_rad"])

        def step(carry, s):
            v, last = carry
            t = s.astype(jnp.float64) * dt_ms
            r = drive.wave_root(jnp, t, th["drive_freq_hz"], ph, th["drive_pulse_ms"] if pulse else None)
            gs = th["drive_g_syn"] * (r * r)
            noise = th["noise_sd_uA"] * rng.normal_row(key, s.astype(jnp.uint64) * jnp.uint64(N_MUSCLES), N_MUSCLES)
            G = th["g_leak"] + gs + th["coupling_g"] * count
            I = th["g_leak"] * th["e_leak_mV"] + gs * th["syn_e_rev_mV"] + noise + th["coupling_g"] * drive.neighbour_sum(jnp, v)
            v_inf = I / G
            v_new = v_inf + (v - v_inf) * jnp.exp(-(dt_ms / th["c_m_uF"]) * G)
            stepno = s.astype(jnp.int64) + 1
            spike = (v < spike_thresh_mV) & (v_new >= spike_thresh_mV) & (stepno - last >= refr)
            return (v_new, jnp.where(spike, stepno, last)), spike

        carry0 = (jnp.full(N_MUSCLES, v_init), jnp.full(N_MUSCLES, -(1 << 62), jnp.int64))
        (v,), mask = windowed_scan(step, carry0, n_steps, record_every, lambda c: (c[0],), spikes)
        return {"v": v, "spike_mask": mask} if spikes else {"v": v}

    return jax.jit(fn)


def theta_from(params: Mapping[str, float]) -> dict[str, float]:
    return {k: float(params[k]) for k in THETA_NAMES}


def simulate(spec: SimulationSpec) -> MuscleActivity:
    models.get(MODEL).check_spec(spec)
    import jax

    with jax.enable_x64(True):
        fn = make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, True, spec.spike_thresh_mV,
                            spec.refractory_ms, drive.pulse_width(spec.params) is not None)
        out = jax.device_get(fn(theta_from(spec.params), np.uint64(spec.seed & 0xFFFFFFFFFFFFFFFF)))
    return activity_from_outputs(spec, out)


def reference_solve(params: Mapping[str, float], t_ms: np.ndarray, *, muscles=slice(None), rtol: float = 1e-10) -> dict:
    """LSODA of the passive ODE (no noise, no coupling): V (len(t), n_cells), from the equation above."""
    from scipy.integrate import solve_ivp

    ph = drive.phases(np, params.get("drive_phase_rad", 0.0))
    ph = drive.Phases(ph.cphi[muscles], ph.sphi[muscles], ph.cyc[muscles])
    pulse = drive.pulse_width(params)
    p = params

    def rhs(t, v):
        w = drive.wave_root(np, t, p["drive_freq_hz"], ph, pulse) ** 2
        return (p["g_leak"] * (p["e_leak_mV"] - v) + p["drive_g_syn"] * w * (p["syn_e_rev_mV"] - v)) / p["c_m_uF"]

    v0 = np.full(len(ph.cphi), models.get(MODEL).constants()["v_init_mV"])
    sol = solve_ivp(rhs, (0.0, float(t_ms[-1])), v0, method="LSODA", rtol=rtol, atol=rtol, t_eval=t_ms, max_step=1.0)
    if not sol.success:
        raise RuntimeError(f"LSODA failed: {sol.message}")
    return {"v": sol.y.T}
