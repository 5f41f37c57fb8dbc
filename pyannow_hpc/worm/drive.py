"""The body-wave drive every cell model shares, for the NumPy and JAX steps.

The Python twin of native/src/pw_drive.h (the equations are in pyannow.h,
section [drive]): the same operations in the same order, written once for
both array libraries (``xp`` is ``numpy`` or ``jax.numpy``), so the C, NumPy
and JAX steps see the same wave.  Each muscle j gets the profile
``w_j(t) = wave_root(...)**2`` in [0, 1]:

- ``drive_pulse_ms == 0`` (the seed's wave): ``max(sin(2 pi f t + phi_j), 0)**2``;
- ``drive_pulse_ms = W > 0`` (the tempo knob): one raised-cosine pulse
  ``sin(pi x)**2``, ``x = frac(f t + phi_j / 2 pi) / (f W) < 1``, per cycle, so
  the excitation per cycle does not depend on f (at W = 1/(2f) it is the seed's wave);

with ``phi_j = QUADRANT_PHASES_RAD[q] + drive_phase_rad + 2 pi s / 24``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..params import QUADRANT_PHASES_RAD
from .activity import N_MUSCLES, N_SEGMENTS

TWO_PI = 6.283185307179586476925286766559


class Phases(NamedTuple):
    cphi: object  # cos(phi_j), (96,)
    sphi: object  # sin(phi_j)
    cyc: object   # phi_j / 2 pi: the muscle's phase in cycles


def phases(xp=np, offset_rad=0.0) -> Phases:
    """The 96 muscles' wave phases, order DL, VL, DR, VR (``offset_rad`` may be a traced JAX scalar)."""
    seg = TWO_PI * np.arange(N_SEGMENTS) / N_SEGMENTS
    phi = xp.concatenate([(q + offset_rad) + seg for q in QUADRANT_PHASES_RAD])
    return Phases(xp.cos(phi), xp.sin(phi), phi / TWO_PI)


def neighbour_count() -> np.ndarray:
    """Coupled neighbours of each muscle: segments s-1 and s+1 of its quadrant (1 at the ends)."""
    s = np.arange(N_SEGMENTS)
    return np.tile((s > 0).astype(float) + (s < N_SEGMENTS - 1), 4)


def neighbour_sum(xp, v):
    """Sum of V over segments s-1 and s+1 of the same quadrant (0 beyond the ends)."""
    q = v.reshape(4, N_SEGMENTS)
    zero = xp.zeros((4, 1), v.dtype)
    return (xp.concatenate([zero, q[:, :-1]], 1) + xp.concatenate([q[:, 1:], zero], 1)).reshape(N_MUSCLES)


def wave_root(xp, t_ms, freq_hz, ph: Phases, pulse_ms=None):
    """sqrt of the drive profile w_j(t) (>= 0; broadcasts over ``t_ms``).

    ``pulse_ms=None`` is the seed's wave, a width (> 0, may be a traced JAX
    value) the fixed-width pulse: the switch is static, so a JAX simulator is
    compiled for one of the two (:func:`pulse_width` decides it from the parameters)."""
    if pulse_ms is not None:
        u = (freq_hz * 1e-3) * t_ms + ph.cyc
        p = (u - xp.floor(u)) * (1000.0 / (freq_hz * pulse_ms))
        return xp.where(p < 1.0, xp.cos(TWO_PI * (0.5 * p - 0.25)), 0.0)
    omega = TWO_PI * freq_hz * 1e-3
    return xp.maximum(xp.sin(omega * t_ms) * ph.cphi + xp.cos(omega * t_ms) * ph.sphi, 0.0)


def pulse_width(params) -> float | None:
    """The pulse width of a parameter set, or None for the seed's wave (drive_pulse_ms 0 or absent)."""
    w = float(params.get("drive_pulse_ms", 0.0))
    return w if w > 0.0 else None
