"""The chance level beside an analysed F1: what uniform random onsets at each
evaluation's own note count score on the same target window
(:func:`pyannow_hpc.music.chance.chance_f1`). Any onset F1 rises with the note
count, so a cluster's mean F1 is shown next to its members' mean chance F1."""
from __future__ import annotations

import numpy as np

from ..music.chance import chance_f1

#: random draws per distinct note count (the chance level's sd is ~0.02 at 20)
N_DRAWS = 20
#: score keys with a chance level, and the ChanceF1 field that holds it
_FIELDS = {"f1_mireval": "f1_mireval_mean", "f1": "f1_mireval_mean", "f1_seed": "f1_seed_mean", "f1_any": "f1_seed_mean"}
#: the one-to-one F1's uniform chance as the nulls store it beside each score (scores branch, optimiser)
STORED = "uniform_mean"


def per_row(des) -> np.ndarray | None:
    """(n,) chance F1 of each evaluation, or None when the score is no F1 or the
    ledger has neither a stored chance column nor the target, window and note rate."""
    field = _FIELDS.get(des.score.key)
    if field == "f1_mireval_mean" and STORED in des.metrics:
        return np.asarray(des.metrics[STORED], dtype=float)
    if field is None or "worm_rate_hz" not in des.metrics:
        return None
    out = np.full(des.n, np.nan)
    cache: dict[tuple[int, int], float] = {}  # (source, note count) -> chance: counts repeat a lot
    for i in range(des.n):
        src = des.sources[int(des.source_index[i])] if des.sources else None
        if src is None or src.target is None or src.window_s[1] <= 0:
            return None
        start, dur = src.window_s
        count = int(round(des.metrics["worm_rate_hz"][i] * dur))
        key = (int(des.source_index[i]), count)
        if key not in cache:
            target = src.target.window(start, start + dur)
            cache[key] = getattr(chance_f1(count, target, dur, n_draws=N_DRAWS), field)
        out[i] = cache[key]
    return out
