"""A tight-tolerance reference solve of the seed cell, written from the
equations of SCIENCE.md section 1 (not from the package's code)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

E_CA, E_K, E_NA, E_L = 60.0, -80.0, 50.0, -65.0
PHASES = (0.0, np.pi, 0.05, np.pi + 0.05)


def reference_solve(t_eval_ms, *, g_egl19=8.0, v_half=-20.0, tau_ca=15.0, g_exp2=5.0, g_nca=0.8, g_leak=0.05,
                    c_m=1.0, amp=12.0, freq_hz=1.5, muscles=slice(None)):
    """LSODA (rtol = atol = 1e-10) of the independent cells, noise off; V (len(t), n)."""
    phi = np.concatenate([q + 2 * np.pi * np.arange(24) / 24 for q in PHASES])[muscles]
    n = len(phi)
    omega = 2 * np.pi * freq_hz * 1e-3

    def rhs(t, y):
        v, m, k = y[:n], y[n:2 * n], y[2 * n:]
        drive = amp * np.maximum(np.sin(omega * t + phi), 0.0) ** 2
        i_ion = g_egl19 * m * (v - E_CA) + g_exp2 * k**2 * (v - E_K) + g_nca * (v - E_NA) + g_leak * (v - E_L)
        m_inf = 1 / (1 + np.exp(-(v - v_half) / 6.5))
        n_inf = 1 / (1 + np.exp(-(v + 15) / 12))
        tau_n = 20 + 50 * np.exp(-(((v + 15) / 25) ** 2))
        return np.concatenate([(-i_ion + drive) / c_m, (m_inf - m) / tau_ca, (n_inf - k) / tau_n])

    y0 = np.concatenate([np.full(n, -65.0), np.zeros(n), np.full(n, 1 / (1 + np.exp(-(-65 + 15) / 12)))])
    sol = solve_ivp(rhs, (0.0, float(t_eval_ms[-1])), y0, method="LSODA", rtol=1e-10, atol=1e-10, t_eval=t_eval_ms)
    assert sol.success, sol.message
    return sol.y[:n].T


@pytest.fixture(scope="session")
def reference():
    return reference_solve
