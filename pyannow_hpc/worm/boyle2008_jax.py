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

from . import rng
from .activity import N_MUSCLES, N_SEGMENTS, MuscleActivity, SimulationSpec
from .boyle2008 import (BOYLE2008_SPACE, GATES, H_ALPHA, H_CA_HALF_MM, H_K_MM, NO_STEP, RHO_TO_MM_PER_MS_PER_UA,
                        CurrentStep, check_boyle_spec)
from .numpy_reference import TWO_PI, drive_phases
from .jax_scan import windowed_scan
from .jax_surrogate import activity_from_outputs
from .spikes import refractory_steps

#: the space's parameters plus the IClamp step (uA/cm^2, ms), all float64 scalars
THETA_NAMES = BOYLE2008_SPACE.names + ("i_step_uA", "step_start_ms", "step_stop_ms")


def _sigmoid(jnp, v, gate):
    _, mid, scale, _ = GATES[gate]
    return 1.0 / (1.0 + jnp.exp((v - mid) * (-1.0 / scale)))  # as C: a product, not a division


def _step_fn(dt: float, thresh: float, refr: int):
    import jax.numpy as jnp

    cphi_np, sphi_np, count_np = drive_phases()
    muscles = np.arange(N_MUSCLES, dtype=np.uint64)
    decay = {g: float(np.exp(-dt / GATES[g][0])) for g in GATES}  # exp(-dt/tau_x), libm as in C

    def step(th, key, carry, s):
        v, e, f, p, q, n, syn, ca, last = carry
        cphi, sphi, nb_count = jnp.asarray(cphi_np), jnp.asarray(sphi_np), jnp.asarray(count_np)
        t = s.astype(jnp.float64) * dt
        omega = TWO_PI * th["drive_freq_hz"] * 1e-3
        i_step = jnp.where((t >= th["step_start_ms"]) & (t < th["step_stop_ms"]), th["i_step_uA"], 0.0)
        qv = v.reshape(4, N_SEGMENTS)
        zero = jnp.zeros((4, 1), v.dtype)
        nb_sum = (jnp.concatenate([zero, qv[:, :-1]], 1) + jnp.concatenate([qv[:, 1:], zero], 1)).reshape(N_MUSCLES)
        g_c = th["coupling_g"]
        # 1. gates (Rush-Larsen at V_s) and the graded synapse (drive at t_s)
        gates = []
        for name, x in (("e", e), ("f", f), ("p", p), ("q", q), ("n", n)):
            xi = _sigmoid(jnp, v, name)
            gates.append(xi + (x - xi) * decay[name])
        e1, f1, p1, q1, n1 = gates
        w = jnp.sin(omega * t) * cphi + jnp.cos(omega * t) * sphi
        w = jnp.where(w > 0.0, w * w, 0.0)
        one_m_w = 1.0 - w
        ds = jnp.where(one_m_w > 0.0, jnp.exp(-(th["syn_k_per_ms"] * dt) / jnp.maximum(one_m_w, 1e-300)), 0.0)
        syn_new = w + (syn - w) * ds
        # 2. V with the new gates (same order of operations as C)
        h = 1.0 + (1.0 / (1.0 + jnp.exp((H_CA_HALF_MM - ca) * (1.0 / H_K_MM))) - 1.0) * H_ALPHA
        p2 = p1 * p1
        gca = th["g_ca_boyle"] * e1 * e1 * f1 * h
        gk = th["g_k_fast"] * p2 * p2 * q1 + th["g_k_slow"] * n1
        gs = th["drive_g_syn"] * syn_new
        counter = s.astype(jnp.uint64) * jnp.uint64(N_MUSCLES) + jnp.asarray(muscles)
        noise = th["noise_sd_uA"] * rng.normal(key, counter)
        G = gca + gk + th["g_leak"] + gs + g_c * nb_count
        I = (gca * th["e_ca_mV"] + gk * th["e_k_mV"] + th["g_leak"] * th["e_leak_mV"] + gs * th["syn_e_rev_mV"]
             + i_step + noise + g_c * nb_sum)
        v_inf = I / G
        v_new = v_inf + (v - v_inf) * jnp.exp(-(dt / th["c_m_uF"]) * G)
        # 3. the calcium pool at the new V
        ca_inf = (th["ca_decay_ms"] * th["ca_rho"] * RHO_TO_MM_PER_MS_PER_UA) * gca * (th["e_ca_mV"] - v_new)
        ca_new = jnp.maximum(ca_inf + (ca - ca_inf) * jnp.exp(-dt / th["ca_decay_ms"]), 0.0)
        stepno = s.astype(jnp.int64) + 1
        spike = (v < thresh) & (v_new >= thresh) & (stepno - last >= refr)
        last = jnp.where(spike, stepno, last)
        return (v_new, *gates, syn_new, ca_new, last), spike

    return step


def initial_state(jnp, v_init):
    v0 = jnp.full(N_MUSCLES, v_init)
    gates = [_sigmoid(jnp, v0, g) for g in ("e", "f", "p", "q", "n")]
    zeros = jnp.zeros(N_MUSCLES)
    return (v0, *gates, zeros, zeros, jnp.full(N_MUSCLES, -(1 << 62), jnp.int64))


@lru_cache(maxsize=32)
def make_simulator(n_steps: int, dt_ms: float, record_every: int = 1, spikes: bool = False,
                   spike_thresh_mV: float = -10.0, refractory_ms: float = 50.0) -> Callable:
    """A jitted ``fn(theta, seed) -> {"v", "ca_mM": (n_samples, 96), ["spike_mask"]}``.

    Sample ``i`` is the state after step ``i * record_every`` (sample 0 = the
    initial state); ``spike_mask`` row ``r`` is the state after step ``r + 1``.
    """
    import jax
    import jax.numpy as jnp

    step = _step_fn(dt_ms, spike_thresh_mV, refractory_steps(refractory_ms, dt_ms))

    def fn(theta, seed):
        th = {k: jnp.asarray(theta[k], jnp.float64) for k in THETA_NAMES}
        key = rng.key(jnp.asarray(seed, jnp.uint64))
        carry0 = initial_state(jnp, th["v_init_mV"])

        def inner(c, s):
            return step(th, key, c, s)

        (v, ca), mask = windowed_scan(inner, carry0, n_steps, record_every, lambda c: (c[0], c[7]), spikes)
        out = {"v": v, "ca_mM": ca}
        if spikes:
            out["spike_mask"] = mask
        return out

    return jax.jit(fn)


def theta_from(params: Mapping[str, float], step: CurrentStep = NO_STEP) -> dict[str, float]:
    th = {k: float(params[k]) for k in BOYLE2008_SPACE.names}
    th.update(i_step_uA=step.amp_uA, step_start_ms=step.start_ms, step_stop_ms=step.stop_ms)
    return th


def simulate(spec: SimulationSpec, step: CurrentStep = NO_STEP) -> MuscleActivity:
    """Run the boyle2008 cell in JAX; ``step`` adds an IClamp to every cell."""
    check_boyle_spec(spec)
    import jax

    with jax.enable_x64(True):
        fn = make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, True, spec.spike_thresh_mV, spec.refractory_ms)
        out = jax.device_get(fn(theta_from(spec.params, step), np.uint64(spec.seed & 0xFFFFFFFFFFFFFFFF)))
    return activity_from_outputs(spec, out, ("ca_mM",))


__all__ = ["THETA_NAMES", "make_simulator", "simulate", "theta_from"]
