"""How alike two simulations of the worm are, beyond their notes.

Used by the fidelity ladder (``pyannow-hpc refine``: the surrogate against
C302 on the same parameters). Two very different cell models can share the
slow shape of the activity while their spikes differ, so the comparison is
of V envelopes, not of traces sample by sample.
"""
from __future__ import annotations

import numpy as np


def envelope_correlation(t_a, v_a, t_b, v_b, envelope_ms: float) -> np.ndarray:
    """Per-muscle Pearson correlation of V envelopes on the common time grid.

    Both traces are interpolated onto a 1 ms grid over their common span and
    smoothed with a ``envelope_ms`` moving average (the slow shape of the
    activity, which is what two very different cell models can share).  NaN
    where a muscle is missing (C302's MVL24) or flat in either model.
    """
    from scipy.ndimage import uniform_filter1d

    t = np.arange(max(t_a[0], t_b[0]), min(t_a[-1], t_b[-1]) + 1e-9, 1.0)
    out = np.full(v_a.shape[1], np.nan)
    if len(t) < 3:
        return out
    width = max(1, int(round(envelope_ms)))
    for j in range(v_a.shape[1]):
        a = np.interp(t, t_a, np.asarray(v_a[:, j], dtype=float))
        b = np.interp(t, t_b, np.asarray(v_b[:, j], dtype=float))
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        a, b = uniform_filter1d(a, width, mode="nearest"), uniform_filter1d(b, width, mode="nearest")
        sa, sb = a.std(), b.std()
        if sa > 1e-9 and sb > 1e-9:
            out[j] = float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))
    return out
