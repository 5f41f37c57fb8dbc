"""Plain-NumPy reference of the seed cell surrogate (backend ``numpy``).

One Python iteration per time step, NumPy vectorised over the 96 cells: the
"obvious" implementation, kept as the benchmark baseline (forward Euler, the
seed's scheme) and as a third, independent implementation that the C and JAX
paths are tested against.  Both integrators, the coupling, the noise stream
and the spike rule are those of native/src/surrogate.c (read its header
comment for the exact step semantics).
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import drive, models, rng
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .spikes import check_spike_settings, refractory_steps

#: kept for callers of the old names
TWO_PI = drive.TWO_PI


def drive_phases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cos(phi_j), sin(phi_j) and the neighbour count of each muscle (order DL, VL, DR, VR)."""
    ph = drive.phases(np)
    return ph.cphi, ph.sphi, drive.neighbour_count()


def n_inf(v_mV, c=None):
    c = c or models.get("pyannow").constants()
    return 1.0 / (1.0 + np.exp((c["n_half_mV"] - v_mV) * (1.0 / c["n_slope_mV"])))


def neighbour_sum(v: np.ndarray) -> np.ndarray:
    """Sum of V over segments s-1 and s+1 of the same quadrant (0 beyond the ends)."""
    return drive.neighbour_sum(np, v)


def _step(p: dict, c: dict, v, m, n, i_drive, nb_sum, nb_count, dt, euler: bool):
    """One step of either integrator from the state at its start (``c``: the model constants)."""
    minf = 1.0 / (1.0 + np.exp((p["v_half_ca_mV"] - v) * (1.0 / c["m_slope_mV"])))
    ninf = n_inf(v, c)
    x = (v - c["tau_n_mid_mV"]) * (1.0 / c["tau_n_width_mV"])
    tau_n = c["tau_n_min_ms"] + c["tau_n_amp_ms"] * np.exp(-x * x)
    g_c = p["coupling_g"]
    if euler:
        i_ion = (
            p["g_egl19"] * m * (v - c["e_ca_mV"])
            + p["g_exp2"] * n * n * (v - c["e_k_mV"])
            + p["g_nca"] * (v - c["e_na_mV"])
            + p["g_leak"] * (v - c["e_leak_mV"])
        )
        v_new = v + dt / p["c_m_uF"] * (-i_ion + i_drive + g_c * (nb_sum - nb_count * v))
        m_new = m + dt * (minf - m) * (1.0 / p["tau_ca_ms"])
        n_new = n + dt * (ninf - n) / tau_n
        return np.clip(v_new, -90.0, 80.0), np.clip(m_new, 0.0, 1.0), np.clip(n_new, 0.0, 1.0)
    gca, gk = p["g_egl19"] * m, p["g_exp2"] * n * n
    G = gca + gk + (p["g_nca"] + p["g_leak"]) + g_c * nb_count
    I = (gca * c["e_ca_mV"] + gk * c["e_k_mV"] + (p["g_nca"] * c["e_na_mV"] + p["g_leak"] * c["e_leak_mV"])
         + i_drive + g_c * nb_sum)
    v_inf = I / G
    v_new = v_inf + (v - v_inf) * np.exp(-(dt / p["c_m_uF"]) * G)
    m_new = minf + (m - minf) * math.exp(-dt / p["tau_ca_ms"])
    n_new = ninf + (n - ninf) * np.exp(-dt / tau_n)
    return v_new, m_new, n_new


DRIVE_BLOCK = 1024  # steps of drive + noise computed in one vectorised call


def _drive_block(p: dict, key, s0: int, count: int, dt: float, ph: drive.Phases) -> np.ndarray:
    """Drive current (count, 96) of steps s0 .. s0+count-1 (wave at t_s plus noise)."""
    steps = np.arange(s0, s0 + count)
    sn = drive.wave_root(np, (steps * dt)[:, None], p["drive_freq_hz"], ph, drive.pulse_width(p))
    counters = (steps.astype(np.uint64)[:, None] * np.uint64(N_MUSCLES) + np.arange(N_MUSCLES, dtype=np.uint64))
    return p["drive_amp_uA"] * sn * sn + p["noise_sd_uA"] * rng.normal_np(key, counters)


def simulate(spec: SimulationSpec) -> MuscleActivity:
    model = models.get(spec.model)
    if model.numpy_module() is not sys.modules[__name__]:
        return model.numpy_module().simulate(spec)
    model.check_spec(spec)
    c = model.constants()
    p = dict(spec.params)
    dt, k_rec, n_steps = spec.dt_ms, spec.record_every, spec.n_steps
    euler = spec.integrator == "seed_euler"
    ph, nb_count = drive.phases(np, p.get("drive_phase_rad", 0.0)), drive.neighbour_count()
    key = rng.key_np(spec.seed)
    v = np.full(N_MUSCLES, c["v_init_mV"])
    m = np.zeros(N_MUSCLES)
    n = np.full(N_MUSCLES, n_inf(c["v_init_mV"], c))
    n_samples = n_steps // k_rec + 1
    dtype = np.float32 if spec.float32 else np.float64
    rec = {name: np.empty((n_samples, N_MUSCLES), dtype=dtype) for name in (("v", "m", "n") if spec.record_gates else ("v",))}
    state = {"v": v, "m": m, "n": n}
    for name in rec:
        rec[name][0] = state[name]
    refr = refractory_steps(spec.refractory_ms, dt)
    last = np.full(N_MUSCLES, -(1 << 62), dtype=np.int64)
    spike_steps, spike_mus = [], []
    nb_sum = np.zeros(N_MUSCLES)
    for s in range(n_steps):
        if s % DRIVE_BLOCK == 0:  # the drive does not depend on the state: draw it a block at a time
            drives = _drive_block(p, key, s, min(DRIVE_BLOCK, n_steps - s), dt, ph)
        i_drive = drives[s % DRIVE_BLOCK]
        if p["coupling_g"]:
            nb_sum = neighbour_sum(v)
        v_new, m, n = _step(p, c, v, m, n, i_drive, nb_sum, nb_count, dt, euler)
        step = s + 1
        spk = (v < spec.spike_thresh_mV) & (v_new >= spec.spike_thresh_mV) & (step - last >= refr)
        if spk.any():
            j = np.nonzero(spk)[0]
            last[j] = step
            spike_steps.extend([step] * len(j))
            spike_mus.extend(j.tolist())
        v = v_new
        if step % k_rec == 0:
            state = {"v": v, "m": m, "n": n}
            for name in rec:
                rec[name][step // k_rec] = state[name]
    if not np.all(np.isfinite(v)):
        from ..errors import SimulationError

        raise SimulationError(f"the numpy surrogate blew up to NaN/inf ({spec.integrator}, dt_ms={dt:g})")
    return MuscleActivity(
        t_ms=np.arange(n_samples) * (k_rec * dt),
        v_mV=rec.pop("v"),
        spike_times_ms=np.asarray(spike_steps, dtype=np.float64) * dt,
        spike_muscle=np.asarray(spike_mus, dtype=np.int32),
        backend="numpy",
        model=spec.model,
        params=p,
        seed=spec.seed,
        traces=rec,
    )
