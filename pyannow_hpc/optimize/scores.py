"""Every F1 beside its nulls: the adapter to ``music.nulls.score_with_nulls``.

The nulls helper (one-to-one and any-match F1, the circular-shift null of the
worm's own onsets with z and p, uniform chance, the metronome ceiling) is
being written on another branch at the same time; until it lands,
:func:`_fallback` computes the same fields the same way (documented there) so
that the optimiser runs and its tests pass.  Delete the fallback once
``pyannow_hpc.music.nulls`` is on main.
"""
from __future__ import annotations

import numpy as np

from ..music.metrics import TOL_S, f1_mireval, musical_f1

#: the fields the optimiser stores per evaluation (ledger columns)
FIELDS = ("f1", "f1_any", "shift_z", "shift_p", "uniform_mean", "uniform_sd", "metronome_f1", "beat_ceiling_f1")


def score(worm_onsets_s, target_onsets_s, *, start_s: float, stop_s: float, n_shifts: int = 200, seed: int = 0,
          tol_s: float = TOL_S) -> dict[str, float]:
    """The nulls-scored alignment of absolute onset times in [start_s, stop_s)."""
    try:
        from ..music.nulls import score_with_nulls
    except ImportError:
        score_with_nulls = _fallback
    res = score_with_nulls(np.asarray(worm_onsets_s, float), np.asarray(target_onsets_s, float), start_s=start_s,
                           stop_s=stop_s, tol_s=tol_s, n_shifts=n_shifts, n_uniform=n_shifts, seed=seed)
    d = res.as_dict() if hasattr(res, "as_dict") else dict(res)
    return {k: float(d.get(k, np.nan)) for k in FIELDS}


class _Score(dict):
    def as_dict(self) -> dict:
        return dict(self)


def _fallback(worm, target, *, start_s, stop_s, beat_s=None, tol_s=TOL_S, n_shifts=500, n_uniform=500, seed=0):
    """Shift null: the worm's onsets circularly shifted by uniform offsets within
    the window (its own rhythm kept, its alignment destroyed); z = (F1 - mean)/sd,
    p = (1 + #null >= F1)/(1 + n).  Uniform: as many uniform random onsets.
    Metronome: as many evenly spaced onsets at the best of 50 phases (the ceiling
    of a worm that keeps only its note count)."""
    dur = stop_s - start_s
    w = np.sort(worm[(worm >= start_s) & (worm < stop_s)]) - start_s
    t = np.sort(target[(target >= start_s) & (target < stop_s)]) - start_s
    rng = np.random.default_rng(seed)
    f1 = f1_mireval(w, t, tol_s)[0]
    shifted = [f1_mireval(np.sort((w + s) % dur), t, tol_s)[0] for s in rng.uniform(0, dur, n_shifts)]
    uni = [f1_mireval(np.sort(rng.uniform(0, dur, len(w))), t, tol_s)[0] for _ in range(n_uniform)]
    sd = float(np.std(shifted))
    n = len(w)
    metro = 0.0
    if n:
        period = dur / n
        metro = max(f1_mireval(np.arange(n) * period + ph, t, tol_s)[0] for ph in np.linspace(0, period, 50, endpoint=False))
    return _Score(f1=f1, f1_any=musical_f1(w, t, tol_s)[0], shift_z=(f1 - np.mean(shifted)) / sd if sd > 0 else 0.0,
                  shift_p=(1 + np.sum(np.asarray(shifted) >= f1)) / (1 + n_shifts), uniform_mean=float(np.mean(uni)),
                  uniform_sd=float(np.std(uni)), metronome_f1=metro, beat_ceiling_f1=np.nan)
