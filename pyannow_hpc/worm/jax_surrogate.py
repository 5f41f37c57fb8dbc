"""The seed cell surrogate in JAX (backend ``jax``): float64, differentiable,
batched.

The step is the one of native/src/surrogate.c, written with the same
operations in the same order, with the same rate constants (read from the C
field table), the same drive (:mod:`.drive`) and the same counter-based noise
(:mod:`pyannow_hpc.worm.rng`), so the C and JAX traces agree to ~1e-12
relative (tests/worm/test_backends_agree.py checks <= 1e-9 on a 10 s run).
The time loop is :func:`.jax_scan.windowed_scan`, shared with every JAX cell.

- :func:`make_simulator` returns a pure function ``fn(theta, seed) -> dict``
  of the channel/drive parameters ``theta`` (a dict of scalars): ``jax.grad``
  and ``jax.vmap`` apply to it directly.  Call it (and grad/vmap of it) inside
  ``with jax.enable_x64(True):`` -- the model needs float64 and uint64.
- :func:`simulate_batch` runs a ``(B, P)`` matrix of parameter sets with vmap.
- :func:`simulate` is the backend entry point (``SimulationSpec`` in,
  :class:`MuscleActivity` out).  Spikes use the C rule at full integration
  resolution (a per-step mask from the scan), so they equal the C spikes.

64-bit mode is switched on only inside these functions (``jax.enable_x64``),
so other JAX code in the process keeps its float32 defaults.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np

from . import drive, models, rng
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .jax_scan import windowed_scan
from .spikes import refractory_steps, spikes_from_mask

#: parameters the simulator function takes (the "pyannow" space minus ca_thresh_mV,
#: which is an onset-detector setting, not a model parameter)
THETA_NAMES = (
    "g_egl19", "v_half_ca_mV", "tau_ca_ms", "g_exp2", "g_nca", "g_leak", "c_m_uF",
    "drive_amp_uA", "drive_freq_hz", "noise_sd_uA", "coupling_g", "drive_pulse_ms", "drive_phase_rad",
)


#: the tempo knob's parameters may be left out of theta (callers written before
#: it existed): they default to the seed's drive
TEMPO_DEFAULTS = {"drive_pulse_ms": 0.0, "drive_phase_rad": 0.0}


def theta_arrays(jnp, theta, names) -> dict:
    """``theta`` as float64 scalars over ``names`` (the tempo knob's defaulted when absent)."""
    return {k: jnp.asarray(theta[k] if k in theta else TEMPO_DEFAULTS[k], jnp.float64) for k in names}


def _step_fn(dt: float, euler: bool, thresh: float, refr: int, pulse: bool):
    import jax.numpy as jnp

    c = models.get("pyannow").constants()  # rate constants: the C field table's
    count_np = drive.neighbour_count()
    inv_m_slope, inv_n_slope = 1.0 / c["m_slope_mV"], 1.0 / c["n_slope_mV"]
    inv_tau_n_width = 1.0 / c["tau_n_width_mV"]

    def step(theta, key, ph, carry, s):
        v, m, n, last = carry
        nb_count = jnp.asarray(count_np)
        t = s.astype(jnp.float64) * dt
        sn = drive.wave_root(jnp, t, theta["drive_freq_hz"], ph, theta["drive_pulse_ms"] if pulse else None)
        z = rng.normal_row(key, s.astype(jnp.uint64) * jnp.uint64(N_MUSCLES), N_MUSCLES)
        i_drive = theta["drive_amp_uA"] * sn * sn + theta["noise_sd_uA"] * z
        nb_sum = drive.neighbour_sum(jnp, v)
        g_c = theta["coupling_g"]
        minf = 1.0 / (1.0 + jnp.exp((theta["v_half_ca_mV"] - v) * inv_m_slope))
        ninf = 1.0 / (1.0 + jnp.exp((c["n_half_mV"] - v) * inv_n_slope))
        x = (v - c["tau_n_mid_mV"]) * inv_tau_n_width
        tau_n = c["tau_n_min_ms"] + c["tau_n_amp_ms"] * jnp.exp(-x * x)
        if euler:
            i_ion = (theta["g_egl19"] * m * (v - c["e_ca_mV"]) + theta["g_exp2"] * n * n * (v - c["e_k_mV"])
                     + theta["g_nca"] * (v - c["e_na_mV"]) + theta["g_leak"] * (v - c["e_leak_mV"]))
            v_new = v + (dt / theta["c_m_uF"]) * (-i_ion + i_drive + g_c * (nb_sum - nb_count * v))
            m_new = m + dt * (minf - m) * (1.0 / theta["tau_ca_ms"])
            n_new = n + dt * (ninf - n) / tau_n
            v_new = jnp.clip(v_new, -90.0, 80.0)
            m_new, n_new = jnp.clip(m_new, 0.0, 1.0), jnp.clip(n_new, 0.0, 1.0)
        else:
            gca, gk = theta["g_egl19"] * m, theta["g_exp2"] * n * n
            G = gca + gk + (theta["g_nca"] + theta["g_leak"]) + g_c * nb_count
            I = (gca * c["e_ca_mV"] + gk * c["e_k_mV"]
                 + (theta["g_nca"] * c["e_na_mV"] + theta["g_leak"] * c["e_leak_mV"]) + i_drive + g_c * nb_sum)
            v_inf = I / G
            v_new = v_inf + (v - v_inf) * jnp.exp(-(dt / theta["c_m_uF"]) * G)
            m_new = minf + (m - minf) * jnp.exp(-dt / theta["tau_ca_ms"])
            n_new = ninf + (n - ninf) * jnp.exp(-dt / tau_n)
        stepno = s.astype(jnp.int64) + 1
        spike = (v < thresh) & (v_new >= thresh) & (stepno - last >= refr)
        last = jnp.where(spike, stepno, last)
        return (v_new, m_new, n_new, last), spike

    return step


def initial_state(jnp):
    """(V, m, n) at t = 0: V = v_init, m = 0, n = n_inf(v_init) (the C kernel's start)."""
    c = models.get("pyannow").constants()
    v0 = jnp.full(N_MUSCLES, c["v_init_mV"])
    n0 = 1.0 / (1.0 + jnp.exp(-(v0 - c["n_half_mV"]) / c["n_slope_mV"]))
    return v0, jnp.zeros(N_MUSCLES), n0


@lru_cache(maxsize=32)
def make_simulator(
    n_steps: int,
    dt_ms: float,
    record_every: int = 1,
    integrator: str = "exponential",
    record_gates: bool = False,
    spikes: bool = False,
    spike_thresh_mV: float = -10.0,
    refractory_ms: float = 50.0,
    pulse: bool = False,
) -> Callable:
    """A jitted ``fn(theta, seed) -> {"v": (n_samples, 96), ["m", "n"], ["spike_mask"]}``.

    ``theta`` maps every name in :data:`THETA_NAMES` to a float64 scalar;
    ``seed`` is a uint64 scalar.  Sample ``i`` is the state after step
    ``i * record_every`` (sample 0 = the initial state), as in C.
    ``spike_mask`` (when ``spikes``) is ``(n_steps, 96)`` bool, row r = after step r+1.
    ``pulse`` compiles the tempo knob's fixed-width pulse drive (theta's
    ``drive_pulse_ms`` > 0 is its width) instead of the seed's wave, in which
    case ``drive_pulse_ms`` is ignored; ``drive_phase_rad`` shifts either.
    """
    import jax
    import jax.numpy as jnp

    step = _step_fn(dt_ms, integrator == "seed_euler", spike_thresh_mV, refractory_steps(refractory_ms, dt_ms), pulse)

    def fn(theta, seed):
        theta = theta_arrays(jnp, theta, THETA_NAMES)
        key = rng.key(jnp.asarray(seed, jnp.uint64))
        ph = drive.phases(jnp, theta["drive_phase_rad"])
        v0, m0, n0 = initial_state(jnp)
        carry0 = (v0, m0, n0, jnp.full(N_MUSCLES, -(1 << 62), jnp.int64))

        def inner(c, s):
            return step(theta, key, ph, c, s)

        record = (lambda c: (c[0], c[1], c[2])) if record_gates else (lambda c: (c[0],))
        recs, mask = windowed_scan(inner, carry0, n_steps, record_every, record, spikes)
        out = dict(zip(("v", "m", "n") if record_gates else ("v",), recs))
        if spikes:
            out["spike_mask"] = mask
        return out

    return jax.jit(fn)


def theta_from(params: Mapping[str, float]) -> dict[str, float]:
    return {k: float(params[k]) for k in THETA_NAMES}


def simulate_pyannow(spec: SimulationSpec) -> MuscleActivity:
    models.get("pyannow").check_spec(spec)
    import jax

    with jax.enable_x64(True):
        fn = make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, spec.integrator, spec.record_gates,
                            True, spec.spike_thresh_mV, spec.refractory_ms, drive.pulse_width(spec.params) is not None)
        out = jax.device_get(fn(theta_from(spec.params), np.uint64(spec.seed & 0xFFFFFFFFFFFFFFFF)))
    return activity_from_outputs(spec, out, ("m", "n"))


def simulate(spec: SimulationSpec) -> MuscleActivity:
    """The JAX backend: the seed cell here, any other model through its
    :class:`~.models.CellModel`'s JAX module."""
    if spec.model == "pyannow":
        return simulate_pyannow(spec)
    return models.get(spec.model).jax_module().simulate(spec)


def activity_from_outputs(spec: SimulationSpec, out: Mapping[str, np.ndarray], trace_names: Sequence[str] = ()) -> MuscleActivity:
    """Wrap a simulator's outputs (``v``, ``spike_mask`` and ``trace_names`` that
    are present) as a MuscleActivity; NaN/inf in V is a SimulationError."""
    v = np.asarray(out["v"])
    if not np.all(np.isfinite(v)):
        from ..errors import SimulationError

        raise SimulationError(f"the {spec.model} JAX surrogate blew up to NaN/inf ({spec.integrator}, dt_ms={spec.dt_ms:g})")
    dtype = np.float32 if spec.float32 else np.float64
    times, mus = spikes_from_mask(out["spike_mask"], spec.dt_ms)
    return MuscleActivity(
        t_ms=np.arange(v.shape[0]) * (spec.record_every * spec.dt_ms),
        v_mV=v.astype(dtype, copy=False),
        spike_times_ms=times,
        spike_muscle=mus,
        backend="jax",
        model=spec.model,
        params=dict(spec.params),
        seed=spec.seed,
        traces={k: np.asarray(out[k]).astype(dtype, copy=False) for k in trace_names if k in out},
    )


def simulate_batch(
    param_matrix: np.ndarray,
    names: Sequence[str] = THETA_NAMES,
    *,
    base: Mapping[str, float] | None = None,
    duration_s: float = 1.0,
    dt_ms: float = 0.5,
    sample_rate_hz: float = 1000.0,
    integrator: str = "exponential",
    seeds: np.ndarray | int = 0,
) -> np.ndarray:
    """V traces ``(B, n_samples, 96)`` float64 of ``B`` parameter sets, one vmap.

    Row ``b`` of ``param_matrix`` gives the values of ``names``; the other
    parameters come from ``base`` (default: the space defaults).  Every row is
    validated (:meth:`ParameterSpace.validate`).  ``seeds``: one per row, or one for all.
    """
    import jax
    import jax.numpy as jnp

    from . import make_spec

    pm = np.asarray(param_matrix, dtype=np.float64)
    if pm.ndim != 2 or pm.shape[1] != len(names):
        from ..errors import ConfigError

        raise ConfigError(f"param_matrix must have shape (B, {len(names)}) for names {tuple(names)}, got {pm.shape}")
    specs = [make_spec({**(base or {}), **dict(zip(names, row))}, model="pyannow", duration_s=duration_s,
                       dt_ms=dt_ms, sample_rate_hz=sample_rate_hz, integrator=integrator) for row in pm]
    spec = specs[0]
    seeds = np.broadcast_to(np.asarray(seeds, dtype=np.uint64), (len(pm),))
    with jax.enable_x64(True):
        pulse = {drive.pulse_width(s.params) is not None for s in specs}
        if len(pulse) > 1:
            from ..errors import ConfigError

            raise ConfigError("simulate_batch: all rows must use the same drive (drive_pulse_ms all 0 or all > 0)")
        fn = make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, integrator, pulse=pulse.pop())
        theta = {k: jnp.asarray([s.params[k] for s in specs], jnp.float64) for k in THETA_NAMES}
        out = jax.vmap(fn)(theta, jnp.asarray(seeds))
        return np.asarray(jax.device_get(out["v"]))


__all__ = ["THETA_NAMES", "activity_from_outputs", "make_simulator", "simulate", "simulate_batch", "theta_from"]
