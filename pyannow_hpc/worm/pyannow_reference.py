"""A tight-tolerance LSODA solve of the seed cell: the accuracy reference.

Written from the equations of SCIENCE.md section 1 with the model's constants
(the C field table's), not from the C/JAX step, so it checks the integrator,
not a copy of it.  Independent cells, no noise, no coupling, the seed's wave.
(tests/worm/conftest.py keeps a second reference with the constants typed in
from SCIENCE.md, which also checks the C table's values.)
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from . import drive, models


def rhs(t_ms: float, y: np.ndarray, p: Mapping[str, float], c: Mapping[str, float], phi: np.ndarray) -> np.ndarray:
    """d/dt of (V, m, n) for len(phi) cells, mV/ms and 1/ms."""
    k = len(phi)
    v, m, n = y[:k], y[k:2 * k], y[2 * k:]
    i_drive = p["drive_amp_uA"] * np.maximum(np.sin(2 * np.pi * p["drive_freq_hz"] * 1e-3 * t_ms + phi), 0.0) ** 2
    i_ion = (p["g_egl19"] * m * (v - c["e_ca_mV"]) + p["g_exp2"] * n**2 * (v - c["e_k_mV"])
             + p["g_nca"] * (v - c["e_na_mV"]) + p["g_leak"] * (v - c["e_leak_mV"]))
    m_inf = 1 / (1 + np.exp(-(v - p["v_half_ca_mV"]) / c["m_slope_mV"]))
    n_inf = 1 / (1 + np.exp(-(v - c["n_half_mV"]) / c["n_slope_mV"]))
    tau_n = c["tau_n_min_ms"] + c["tau_n_amp_ms"] * np.exp(-(((v - c["tau_n_mid_mV"]) / c["tau_n_width_mV"]) ** 2))
    return np.concatenate([(-i_ion + i_drive) / p["c_m_uF"], (m_inf - m) / p["tau_ca_ms"], (n_inf - n) / tau_n])


def solve(params: Mapping[str, float], t_ms: np.ndarray, *, muscles=slice(None), rtol: float = 1e-10) -> dict:
    """V (len(t), n_cells) of the chosen muscles at times ``t_ms`` (starting at 0)."""
    from scipy.integrate import solve_ivp

    c = models.get("pyannow").constants()
    phi = (drive.phases(np, params.get("drive_phase_rad", 0.0)).cyc * drive.TWO_PI)[muscles]
    k = len(phi)
    v0 = c["v_init_mV"]
    y0 = np.concatenate([np.full(k, v0), np.zeros(k), np.full(k, 1 / (1 + np.exp(-(v0 - c["n_half_mV"]) / c["n_slope_mV"])))])
    sol = solve_ivp(rhs, (0.0, float(t_ms[-1])), y0, method="LSODA", rtol=rtol, atol=rtol, t_eval=t_ms,
                    args=(params, c, phi))
    if not sol.success:
        raise RuntimeError(f"LSODA failed: {sol.message}")
    return {"v": sol.y[:k].T}
