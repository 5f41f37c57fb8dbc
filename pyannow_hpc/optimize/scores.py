"""Every F1 beside its nulls: the adapter to ``music.nulls.score_with_nulls``.

The nulls helper (``music.nulls`` / ``music.alignment``: one-to-one and
any-match F1, the circular-shift null of the worm's own onsets with z and p,
uniform chance, the metronome ceiling) computes everything; this module only
picks the fields the optimiser's ledger stores.
"""
from __future__ import annotations

import numpy as np

from ..music.metrics import TOL_S

#: the fields the optimiser stores per evaluation (ledger columns)
FIELDS = ("f1", "f1_any", "shift_z", "shift_p", "uniform_mean", "uniform_sd", "metronome_f1", "beat_ceiling_f1")


def score(worm_onsets_s, target_onsets_s, *, start_s: float, stop_s: float, n_shifts: int = 200, seed: int = 0,
          tol_s: float = TOL_S) -> dict[str, float]:
    """The nulls-scored alignment of absolute onset times in [start_s, stop_s)."""
    from ..music.nulls import score_with_nulls

    res = score_with_nulls(np.asarray(worm_onsets_s, float), np.asarray(target_onsets_s, float), start_s=start_s,
                           stop_s=stop_s, tol_s=tol_s, n_shifts=n_shifts, n_uniform=n_shifts, seed=seed)
    d = res.as_dict() if hasattr(res, "as_dict") else dict(res)
    return {k: float(d.get(k, np.nan)) for k in FIELDS}
