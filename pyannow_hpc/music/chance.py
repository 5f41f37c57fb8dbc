"""The chance level of an onset F1: what notes at random times would score.

Superseded for scoring by :mod:`pyannow_hpc.music.nulls` (uniform chance with
the sd's own SE, the shift null, metronome ceilings), which every job now uses;
kept for callers of ``chance_f1`` (it also gives the any-match chance level).

Any onset F1 rises with the number of notes played (more guesses, more hits),
so a worm's score means little until it is set against notes at random times
at the worm's own rate. Here: uniform random onsets, the same count as the
worm's notes, scored against the same target window, over ``n_draws`` seeded
draws. A worm whose F1 does not clear this band has learnt no timing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import TOL_S, f1_mireval, musical_f1
from .notes import NoteSequence


@dataclass(frozen=True)
class ChanceF1:
    n_notes: int
    f1_mireval_mean: float
    f1_mireval_sd: float
    f1_seed_mean: float
    f1_seed_sd: float
    n_draws: int

    def describe(self) -> str:
        return (f"chance at {self.n_notes} random onsets ({self.n_draws} draws): "
                f"F1 (mir_eval one-to-one) {self.f1_mireval_mean:.3f} ± {self.f1_mireval_sd:.3f}, "
                f"F1 (seed any-match) {self.f1_seed_mean:.3f} ± {self.f1_seed_sd:.3f}")


def chance_f1(n_notes: int, target: NoteSequence, duration_s: float, tol_s: float = TOL_S,
              n_draws: int = 20, seed: int = 0) -> ChanceF1:
    """F1 of ``n_notes`` uniform random onsets in [0, duration_s) against ``target``."""
    rng = np.random.default_rng(seed)
    ref = target.window(0.0, duration_s).onset_s
    one, anym = [], []
    for _ in range(n_draws):
        est = np.sort(rng.uniform(0.0, duration_s, int(n_notes)))
        one.append(f1_mireval(est, ref, tol_s)[0])
        anym.append(musical_f1(est, ref, tol_s)[0])
    return ChanceF1(int(n_notes), float(np.mean(one)), float(np.std(one)), float(np.mean(anym)),
                    float(np.std(anym)), n_draws)
