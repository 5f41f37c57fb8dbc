"""One onset F1 with every null beside it, and the score that ranks runs.

:func:`score_with_nulls` is what every printed or stored F1 goes through (demo,
sweep, retest, progression, refine, the optimiser): the mir_eval one-to-one F1
and the seed's any-match F1, the worm's own circular-shift null (z and
empirical p), uniform and refractory-matched chance at the worm's note count,
the best metronome at that count and the score's beat ceiling.

Ranking (:func:`rank_score`, default ``rank_by = "shift_excess"``): the
one-to-one F1 minus the mean F1 of the worm's own circular shifts -- the F1
the worm earns by WHERE its notes fall, beyond what its note count and rhythm
give -- with a stated minimum note count (:data:`MIN_NOTES` in the scored
window; fewer rank last, -inf).  Measured on the mazurka (10 s and 30 s
windows, tests/music/test_alignment.py's trains): a beat metronome 0.17-0.46
(1-3 notes per click); uniform random trains at its count 0.004-0.007 on
average, at most 0.05-0.10 over 30 draws; an every-step flood 0.000 and a
100 notes/s random flood 0.002; silence -inf.  The alternatives, both
available:

- ``"f1"`` (one-to-one F1, same minimum): a moderate flood wins it -- in a
  16-point boyle2008 sweep a 103 notes/s point ranked first with F1 0.224,
  which is exactly uniform chance at its count (recall 1, precision 0.13);
- ``"shift_z"`` (z against the shifts, same minimum): dividing by the null's
  sd caps the z of a periodic train near 2 (its shifts realign once per
  period; a beat metronome scored z 1.6-2.0, p 0.002) while 30 uniform draws
  reached z 2.0-2.9, so chance outranks the beat.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from . import nulls as N

#: fewer notes than this in the scored window rank last
MIN_NOTES = 10
RANK_BY = ("shift_excess", "f1", "shift_z")

#: as_dict() key -> human label (every table prints these)
LABELS = {
    "n_worm": "worm notes",
    "n_target": "target notes",
    "f1": "F1 (mir_eval one-to-one, ±{tol} ms)",
    "f1_any": "F1 (seed any-match, ±{tol} ms)",
    "shift_z": "z vs worm's own shifts",
    "shift_p": "p (shift null, one-sided)",
    "shift_mean": "shift-null F1 mean",
    "shift_excess": "F1 above worm's own shifts (F1 − shift-null mean)",
    "shift_sd": "shift-null F1 sd",
    "uniform_mean": "uniform chance F1",
    "uniform_sd": "uniform chance F1 sd",
    "uniform_sd_se": "uniform sd's SE",
    "refractory_mean": "refractory-matched chance F1",
    "metronome_f1": "best metronome F1 at worm's count",
    "beat_ceiling_f1": "beat metronome ceiling F1 (1-4 notes per click)",
    "rank_score": "rank score",
}


@dataclass(frozen=True)
class AlignmentScore:
    n_worm: int
    n_target: int
    f1: float  # mir_eval one-to-one
    precision: float
    recall: float
    f1_any: float  # the seed's any-match F1
    shift_z: float
    shift_p: float
    shift_mean: float
    shift_sd: float
    uniform_mean: float
    uniform_sd: float
    uniform_sd_se: float
    refractory_mean: float
    refractory_gap_s: float
    metronome_f1: float
    metronome_period_s: float
    beat_s: float | None
    beat_ceiling_f1: float | None
    beat_ceiling_per_click: tuple  # ((notes per click, F1), ...)
    tol_s: float
    start_s: float
    stop_s: float
    n_shifts: int
    n_uniform: int
    min_notes: int
    rank_by: str = "shift_excess"

    @property
    def shift_excess(self) -> float:
        """F1 minus the shift null's mean F1: what the notes' placement earns."""
        return float(self.f1 - self.shift_mean) if self.shift_p == self.shift_p else float("nan")

    @property
    def rank_score(self) -> float:
        return rank_score(self, self.min_notes, self.rank_by)

    def as_dict(self) -> dict[str, float]:
        """Flat, labelled-by-name keys (see :data:`LABELS`) for ledgers and tables;
        None becomes NaN so every value is a float or int."""
        d = asdict(self)
        per_click = d.pop("beat_ceiling_per_click")
        d.pop("rank_by")
        out = {k: (float("nan") if v is None else v) for k, v in d.items()}
        for k, f in per_click:
            out[f"beat_ceiling_f1_{k}_per_click"] = f
        out["shift_excess"] = self.shift_excess
        out["rank_score"] = self.rank_score
        return out

    def summary(self) -> str:
        """Two lines for a terminal: the F1 and every null beside it, labelled."""
        tol = f"±{self.tol_s * 1000:g} ms"
        beat = ("n/a (no beat known)" if self.beat_ceiling_f1 is None else
                f"{self.beat_ceiling_f1:.3f} (beat {self.beat_s:.3f} s, "
                + ", ".join(f"{k}/click {f:.2f}" for k, f in self.beat_ceiling_per_click) + ")")
        return (f"F1 (mir_eval one-to-one, {tol}) {self.f1:.3f} [{self.n_worm} worm / {self.n_target} target notes]; "
                f"F1 (seed any-match, {tol}) {self.f1_any:.3f}\n"
                f"  vs worm's own shifts: z {self.shift_z:+.2f}, p {self.shift_p:.3f} "
                f"(mean {self.shift_mean:.3f} ± {self.shift_sd:.3f}, {self.n_shifts} shifts; F1 above them "
                f"{self.shift_excess:+.3f}); "
                f"uniform chance {self.uniform_mean:.3f} ± {self.uniform_sd:.3f} (sd ± {self.uniform_sd_se:.3f}); "
                f"refractory-matched {self.refractory_mean:.3f}; "
                f"best metronome at {self.n_worm} notes {self.metronome_f1:.3f}; beat ceiling {beat}")


def label(key: str, tol_s: float = N.TOL_S) -> str:
    return LABELS.get(key, key).format(tol=f"{tol_s * 1000:g}")


def rank_score(score: AlignmentScore, min_notes: int = MIN_NOTES, rank_by: str = "shift_excess") -> float:
    """The number runs are ranked by (higher is better); -inf below ``min_notes``."""
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {RANK_BY}, got {rank_by!r}")
    if score.n_worm < min_notes:
        return -math.inf
    return float({"shift_excess": score.shift_excess, "shift_z": score.shift_z, "f1": score.f1}[rank_by])


def score_with_nulls(worm_onsets_s, target_onsets_s, *, start_s: float, stop_s: float, beat_s: float | None = None,
                     tol_s: float = N.TOL_S, n_shifts: int = N.N_SHIFTS, n_uniform: int = N.N_UNIFORM,
                     seed: int = 0, min_notes: int = MIN_NOTES, beat_origin_s: float = 0.0,
                     rank_by: str = "shift_excess") -> AlignmentScore:
    """Score the worm's onsets in [start_s, stop_s) against the target's, with every null.

    Onsets are seconds on one clock (the target's): window a run that started
    at ``window_start_s`` by passing its onsets + window_start_s, or pass both
    relative to the window with ``start_s=0``.  ``beat_s``: the score's beat
    period (``NoteSequence.beat_s``), with its grid through ``beat_origin_s``.
    """
    from .metrics import f1_mireval, musical_f1

    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by must be one of {RANK_BY}, got {rank_by!r}")
    w = N._window(worm_onsets_s, start_s, stop_s)
    ref = N._window(target_onsets_s, start_s, stop_s)
    f, p, r = f1_mireval(w, ref, tol_s)
    shift = N.shift_null(w, ref, start_s=start_s, stop_s=stop_s, tol_s=tol_s, n_shifts=n_shifts)
    uni = N.uniform_null(len(w), ref, start_s=start_s, stop_s=stop_s, tol_s=tol_s, n_draws=n_uniform, seed=seed)
    gap = N.min_gap_s(w)
    refr = N.refractory_null(len(w), gap, ref, start_s=start_s, stop_s=stop_s, tol_s=tol_s,
                             n_draws=n_uniform, seed=seed + 1)
    met = N.metronome_at_count(len(w), ref, start_s=start_s, stop_s=stop_s, tol_s=tol_s)
    per_click: tuple = ()
    ceiling = None
    if beat_s is not None and beat_s > 0:
        found = N.beat_ceiling(beat_s, ref, start_s=start_s, stop_s=stop_s, tol_s=tol_s, origin_s=beat_origin_s)
        per_click = tuple((k, m.f1) for k, m in found.items())
        ceiling = max(m.f1 for m in found.values())
    return AlignmentScore(
        n_worm=int(len(w)), n_target=int(len(ref)), f1=f, precision=p, recall=r,
        f1_any=musical_f1(w, ref, tol_s)[0],
        shift_z=N.z_score(f, shift, len(w), len(ref)), shift_p=N.empirical_p(f, shift.f1),
        shift_mean=shift.mean, shift_sd=shift.sd,
        uniform_mean=uni.mean, uniform_sd=uni.sd, uniform_sd_se=uni.sd_se,
        refractory_mean=refr.mean, refractory_gap_s=gap,
        metronome_f1=met.f1, metronome_period_s=met.period_s,
        beat_s=None if beat_s is None else float(beat_s), beat_ceiling_f1=ceiling, beat_ceiling_per_click=per_click,
        tol_s=float(tol_s), start_s=float(start_s), stop_s=float(stop_s), n_shifts=int(n_shifts),
        n_uniform=int(n_uniform), min_notes=int(min_notes), rank_by=rank_by,
    )


def f1_table_with_nulls(worm, target, duration_s: float, tolerances_s=(0.025, 0.05, 0.1), seed: int = 0,
                        **kw) -> list[dict]:
    """:func:`pyannow_hpc.music.metrics.f1_table`'s rows (notes from 0), each with
    its nulls at that tolerance beside the F1s, labelled."""
    from .metrics import f1_table

    rows = f1_table(worm, target, tolerances_s)
    for row, tol in zip(rows, tolerances_s):
        s = score_with_nulls(worm.onset_s, target.onset_s, start_s=0.0, stop_s=duration_s, beat_s=target.beat_s,
                             beat_origin_s=target.beat_origin_s, tol_s=tol, seed=seed, **kw)
        row.update(null_columns(s))
    return rows


def null_columns(s: AlignmentScore) -> dict[str, float]:
    """The nulls of one score as labelled table columns (tolerance in the row)."""
    return {
        "z vs worm's own shifts": s.shift_z,
        "F1 above own shifts": s.shift_excess,
        "p (shift null)": s.shift_p,
        "uniform chance F1 (one-to-one)": s.uniform_mean,
        "uniform chance sd": s.uniform_sd,
        "refractory-matched chance F1": s.refractory_mean,
        "best metronome F1 at worm's count": s.metronome_f1,
        "beat ceiling F1 (1-4 notes per click)": float("nan") if s.beat_ceiling_f1 is None else s.beat_ceiling_f1,
    }


def z_distribution_summary(z_values) -> dict[str, float]:
    """What a sweep's z values look like beside selection alone: count, quartiles,
    max, and the expected max of that many null draws."""
    z = np.asarray([v for v in np.asarray(z_values, dtype=float).ravel() if math.isfinite(v)])
    if z.size == 0:
        return {"n": 0}
    q = np.percentile(z, [0, 25, 50, 75, 100])
    return {"n": int(z.size), "min": q[0], "q25": q[1], "median": q[2], "q75": q[3], "max": q[4],
            "mean": float(z.mean()), "expected_max_null": N.expected_max_z(z.size)}


__all__ = ["MIN_NOTES", "RANK_BY", "LABELS", "AlignmentScore", "label", "rank_score", "score_with_nulls",
           "f1_table_with_nulls", "null_columns", "z_distribution_summary"]
