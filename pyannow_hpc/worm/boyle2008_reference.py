"""A tight-tolerance LSODA solve of one boyle2008 cell: the accuracy reference.

Written from the equations (module docstring of :mod:`.boyle2008`), not from
the C/JAX step, so it checks the integrator, not a copy of it.  No noise and no
coupling (one cell); the drive and an IClamp step are deterministic.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .boyle2008 import GATES, H_ALPHA, H_CA_HALF_MM, H_K_MM, NO_STEP, RHO_TO_MM_PER_MS_PER_UA, CurrentStep

_ORDER = ("e", "f", "p", "q", "n")


def _inf(v: float, gate: str) -> float:
    _, mid, scale, _ = GATES[gate]
    return 1.0 / (1.0 + math.exp(-(v - mid) / scale))


def rhs(t_ms: float, y: np.ndarray, p: Mapping[str, float], phase_rad: float, step: CurrentStep) -> np.ndarray:
    """d/dt of (V, e, f, p, q, n, s, [Ca]) in mV/ms, 1/ms, mM/ms."""
    v, e, f, pg, q, n, s, ca = y
    h = 1.0 + (1.0 / (1.0 + math.exp((H_CA_HALF_MM - ca) / H_K_MM)) - 1.0) * H_ALPHA
    i_ca = p["g_ca_boyle"] * e**2 * f * h * (p["e_ca_mV"] - v)
    i_k = (p["g_k_fast"] * pg**4 * q + p["g_k_slow"] * n) * (p["e_k_mV"] - v)
    i_syn = p["drive_g_syn"] * s * (p["syn_e_rev_mV"] - v)
    i_stim = step.amp_uA if step.start_ms <= t_ms < step.stop_ms else 0.0
    dv = (i_ca + i_k + p["g_leak"] * (p["e_leak_mV"] - v) + i_syn + i_stim) / p["c_m_uF"]
    dgates = [(_inf(v, g) - x) / GATES[g][0] for g, x in zip(_ORDER, (e, f, pg, q, n))]
    w = max(math.sin(2 * math.pi * p["drive_freq_hz"] * 1e-3 * t_ms + phase_rad), 0.0) ** 2
    # graded synapse, tau = (1 - s_inf)/k; the floor keeps the rate finite at the wave's crest
    ds = (w - s) * p["syn_k_per_ms"] / max(1.0 - w, 1e-9)
    dca = p["ca_rho"] * RHO_TO_MM_PER_MS_PER_UA * i_ca - ca / p["ca_decay_ms"]
    return np.array([dv, *dgates, ds, dca])


def solve(params: Mapping[str, float], t_ms: np.ndarray, *, phase_rad: float = 0.0, step: CurrentStep = NO_STEP,
          rtol: float = 1e-10) -> dict[str, np.ndarray]:
    """V (mV) and [Ca] (mM) of one cell at times ``t_ms`` (starting at 0)."""
    from scipy.integrate import solve_ivp

    v0 = params["v_init_mV"]
    y0 = np.array([v0, *(_inf(v0, g) for g in _ORDER), 0.0, 0.0])
    atol = np.array([1e-8, 1e-11, 1e-11, 1e-11, 1e-11, 1e-11, 1e-11, 1e-18])
    # the step's edges are discontinuities: integrate piecewise so LSODA does not step over them
    edges = sorted({0.0, float(t_ms[-1]), *(x for x in (step.start_ms, step.stop_ms) if 0 < x < t_ms[-1])})
    ys = []
    y = y0
    for a, b in zip(edges[:-1], edges[1:]):
        last = b == edges[-1]
        sel = t_ms[(t_ms >= a) & ((t_ms <= b) if last else (t_ms < b))]
        t_eval = sel if last else np.append(sel, b)
        sol = solve_ivp(rhs, (a, b), y, method="LSODA", t_eval=t_eval, rtol=rtol, atol=atol,
                        args=(params, phase_rad, step), max_step=1.0)
        if not sol.success:
            raise RuntimeError(f"LSODA failed: {sol.message}")
        y = sol.y[:, -1]
        ys.append(sol.y[:, : len(sel)])
    y_all = np.concatenate(ys, axis=1)
    return {"v": y_all[0], "ca_mM": y_all[7]}
