"""The boyle2008 cell in JAX: float64, differentiable, vmappable.

The step is native/src/boyle2008.c's, written with the same operations in the
same order, with the same counter-based noise (:mod:`.rng`) and the same
spike rule (a per-step mask), so the C and JAX traces agree to ~1e-12
(tests/boyle/test_boyle_native_vs_jax.py checks <= 1e-9 on 10 s with noise).
The time loop (windows of ``record_every`` steps, sample 0 = initial state)
is :func:`.jax_scan.windowed_scan`, with the seed cell's conventions.

:func:`make_simulator` returns a jitted ``fn(theta, seed) -> dict`` of the
parameters in :data:`THETA_NAMES` (call it inside ``with
jax.enable_x64(True):``); :func:`simulate` is the backend entry point.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping

import numpy as np

from . import drive, models, rng
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .boyle2008 import BOYLE2008_SPACE, GATE_POWERS, NO_STEP, CurrentStep
from .jax_scan import windowed_scan
from .jax_surrogate import activity_from_outputs, theta_arrays
from .spikes import refractory_steps

#: the space's parameters plus the IClamp step (uA/cm^2, ms), all float64 scalars
THETA_NAMES = BOYLE2008_SPACE.names + ("i_step_uA", "step_start_ms", "step_stop_ms")


def _constants() -> dict[str, float]:
    return models.get("boyle2008").constants()  # the gate table: the C field table's


def _sigmoid(jnp, v, gate, c):
    return 1.0 / (1.0 + jnp.exp((v - c[f"{gate}_mid_mV"]) * (-1.0 / c[f"{gate}_scale_mV"])))  # as C: a product


def _step_fn(dt: float, thresh: float, refr: int, pulse: bool):
    import jax.numpy as jnp

    c = _constants()
    count_np = drive.neighbour_count()
    decay = {g: float(np.exp(-dt / c[f"{g}_tau_ms"])) for g in GATE_POWERS}  # exp(-dt/tau_x), libm as in C
    h_alpha, h_ca_half, h_inv_k, rho_unit = c["h_alpha"], c["h_ca_half_mM"], 1.0 / c["h_k_mM"], c["rho_unit"]

    def step(th, key, ph, carry, s):
        v, e, f, p, q, n, syn, ca, last = carry
        nb_count = jnp.asarray(count_np)
        t = s.astype(jnp.float64) * dt
        i_step = jnp.where((t >= th["step_start_ms"]) & (t < th["step_stop_ms"]), th["i_step_uA"], 0.0)
        nb_sum = drive.neighbour_sum(jnp, v)
        g_c = th["coupling_g"]
        # 1. gates (Rush-Larsen at V_s) and the graded synapse (drive at t_s)
        gates = []
        for name, x in (("e", e), ("f", f), ("p", p), ("q", q), ("n", n)):
            xi = _sigmoid(jnp, v, name, c)
            gates.append(xi + (x - xi) * decay[name])
        e1, f1, p1, q1, n1 = gates
        r = drive.wave_root(jnp, t, th["drive_freq_hz"], ph, th["drive_pulse_ms"] if pulse else None)
        w = r * r
        one_m_w = 1.0 - w
        # the double where: the untaken branch must see a harmless denominator, or its
        # cotangent exp(-c/m) c/m^2 = 0 * inf is NaN and reverse mode returns NaN
        # (1 - w > 0 is at least 2^-53 here, so C's max(1 - w, 1e-300) never binds)
        pos = one_m_w > 0.0
        ds = jnp.where(pos, jnp.exp(-(th["syn_k_per_ms"] * dt) / jnp.where(pos, one_m_w, 1.0)), 0.0)
        syn_new = w + (syn - w) * ds
        # 2. V with the new gates (same order of operations as C)
        h = 1.0 + (1.0 / (1.0 + jnp.exp((h_ca_half - ca) * h_inv_k)) - 1.0) * h_alpha
        p2 = p1 * p1
        gca = th["g_ca_boyle"] * e1 * e1 * f1 * h
        gk = th["g_k_fast"] * p2 * p2 * q1 + th["g_k_slow"] * n1
        gs = th["drive_g_syn"] * syn_new
        noise = th["noise_sd_uA"] * rng.normal_row(key, s.astype(jnp.uint64) * jnp.uint64(N_MUSCLES), N_MUSCLES)
        G = gca + gk + th["g_leak"] + gs + g_c * nb_count
        I = (gca * th["e_ca_mV"] + gk * th["e_k_mV"] + th["g_leak"] * th["e_leak_mV"] + gs * th["syn_e_rev_mV"]
             + i_step + noise + g_c * nb_sum)
        v_inf = I / G
        v_new = v_inf + (v - v_inf) * jnp.exp(-(dt / th["c_m_uF"]) * G)
        # 3. the calcium pool at the new V
        ca_inf = (th["ca_decay_ms"] * th["ca_rho"] * rho_unit) * gca * (th["e_ca_mV"] - v_new)
        ca_new = jnp.maximum(ca_inf + (ca - ca_inf) * jnp.exp(-dt / th["ca_decay_ms"]), 0.0)
        stepno = s.astype(jnp.int64) + 1
        spike = (v < thresh) & (v_new >= thresh) & (stepno - last >= refr)
        last = jnp.where(spike, stepno, last)
        return (v_new, *gates, syn_new, ca_new, last), spike

    return step


def initial_state(jnp, v_init):
    c = _constants()
    v0 = jnp.full(N_MUSCLES, v_init)
    gates = [_sigmoid(jnp, v0, g, c) for g in ("e", "f", "p", "q", "n")]
    zeros = jnp.zeros(N_MUSCLES)
    return (v0, *gates, zeros, zeros, jnp.full(N_MUSCLES, -(1 << 62), jnp.int64))


@lru_cache(maxsize=32)
def make_simulator(n_steps: int, dt_ms: float, record_every: int = 1, spikes: bool = False,
                   spike_thresh_mV: float = -10.0, refractory_ms: float = 50.0, pulse: bool = False) -> Callable:
    """A jitted ``fn(theta, seed) -> {"v", "ca_mM": (n_samples, 96), ["spike_mask"]}``.

    Sample ``i`` is the state after step ``i * record_every`` (sample 0 = the
    initial state); ``spike_mask`` row ``r`` is the state after step ``r + 1``.
    ``pulse``: the tempo knob's fixed-width pulse drive (width theta's
    ``drive_pulse_ms``) instead of the seed's wave (as in jax_surrogate).
    """
    import jax
    import jax.numpy as jnp

    step = _step_fn(dt_ms, spike_thresh_mV, refractory_steps(refractory_ms, dt_ms), pulse)

    def fn(theta, seed):
        th = theta_arrays(jnp, theta, THETA_NAMES)
        key = rng.key(jnp.asarray(seed, jnp.uint64))
        ph = drive.phases(jnp, th["drive_phase_rad"])
        carry0 = initial_state(jnp, th["v_init_mV"])

        def inner(c, s):
            return step(th, key, ph, c, s)

        (v, ca), mask = windowed_scan(inner, carry0, n_steps, record_every, lambda c: (c[0], c[7]), spikes)
        out = {"v": v, "ca_mM": ca}
        if spikes:
            out["spike_mask"] = mask
        return out

    return jax.jit(fn)


def theta_from(params: Mapping[str, float], step: CurrentStep = NO_STEP) -> dict[str, float]:
    th = {k: float(params[k]) for k in BOYLE2008_SPACE.names}
    th.update(step.extras())
    return th


def simulate(spec: SimulationSpec, step: CurrentStep = NO_STEP) -> MuscleActivity:
    """Run the boyle2008 cell in JAX; ``step`` adds an IClamp to every cell."""
    models.get("boyle2008").check_spec(spec)
    import jax

    with jax.enable_x64(True):
        fn = make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, True, spec.spike_thresh_mV, spec.refractory_ms,
                            drive.pulse_width(spec.params) is not None)
        out = jax.device_get(fn(theta_from(spec.params, step), np.uint64(spec.seed & 0xFFFFFFFFFFFFFFFF)))
    return activity_from_outputs(spec, out, ("ca_mM",) if spec.record_traces else ())


__all__ = ["THETA_NAMES", "make_simulator", "simulate", "theta_from"]
