"""Small MuscleActivity objects shaped like each backend's output (helpers for tests/learn)."""
from __future__ import annotations

import numpy as np
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.worm.activity import MuscleActivity


def body_wave_activity(duration_s: float = 6.0, rate_hz: float = 1000.0, freq_hz: float = 1.5, missing: int | None = None,
                       missing_as: str = "nan", seed: int = 0) -> MuscleActivity:
    """A travelling wave over 96 slots (head to tail), noise, and threshold spikes; optionally one
    slot missing the way C302 leaves MVL24 out (NaN column or zeros)."""
    rng = np.random.default_rng(seed)
    t_ms = np.arange(int(duration_s * rate_hz)) * (1000.0 / rate_hz)
    seg = np.tile(np.arange(24), 4)
    quad = np.repeat([0.0, np.pi, 0.05, np.pi + 0.05], 24)
    phase = 2 * np.pi * freq_hz * t_ms[:, None] / 1000.0 + quad[None, :] + 2 * np.pi * seg[None, :] / 24
    v = -40.0 + 30.0 * np.sin(phase) + rng.normal(0, 1.0, (len(t_ms), 96))
    up = (v[1:] >= -15.0) & (v[:-1] < -15.0)
    k, m = np.nonzero(up)
    order = np.argsort(t_ms[k + 1], kind="stable")
    sp_t, sp_m = t_ms[k + 1][order], m[order]
    if missing is not None:
        v[:, missing] = np.nan if missing_as == "nan" else 0.0
        keep = sp_m != missing
        sp_t, sp_m = sp_t[keep], sp_m[keep]
    return MuscleActivity(t_ms=t_ms, v_mV=v.astype(np.float32), spike_times_ms=sp_t, spike_muscle=sp_m,
                          backend="synthetic", model="test", params={"drive_freq_hz": freq_hz}, seed=seed)


def rhythm_target(duration_s: float = 6.0, ioi_s: float = 0.3, seed: int = 1) -> NoteSequence:
    rng = np.random.default_rng(seed)
    onsets = np.arange(0.1, duration_s - 0.1, ioi_s) + rng.uniform(-0.03, 0.03, int(np.ceil((duration_s - 0.2) / ioi_s)))
    return NoteSequence.from_arrays(onsets, rng.integers(40, 90, len(onsets)), name="rhythm")

