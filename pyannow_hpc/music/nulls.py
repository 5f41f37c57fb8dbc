"""Null models for an onset F1: what the worm's score means (SCIENCE.md section 5).

Any onset F1 rises with the number of notes and with how evenly they are
spaced, so an F1 means nothing alone.  Each null answers one question:

- :func:`shift_null` -- the default significance test: circular time shifts of
  the worm's OWN onsets over the window (same count, same rhythm, alignment
  destroyed).  Does the worm line up with the score beyond what its own rhythm
  gives?  Shifts within +-tol of zero (mod the window) are excluded: they are
  the observation itself.
- :func:`uniform_null` -- uniform random onsets at the worm's count: the
  classic "chance" band (clustered output loses to it, even output beats it).
- :func:`refractory_null` -- uniform random onsets at the worm's count with no
  gap shorter than the worm's shortest inter-onset interval.
- :func:`metronome_at_count` -- the best metronome with the worm's note count
  (tempo and phase searched); :func:`beat_ceiling` -- a metronome on the
  score's own beat (1-4 clicks per beat, phase searched): the ceiling tempo
  alone reaches; :func:`best_metronome` -- the best metronome at any tempo.
- :func:`expected_max_z` -- the expected maximum of N null z values: what the
  best point of an N-point sweep scores by selection alone.

:func:`score_with_nulls` puts them in one :class:`AlignmentScore`
(``pyannow_hpc/music/alignment.py``); this module holds the null models.
All times are seconds on one clock; a null scores onsets in [start_s, stop_s).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .matching import f1_from_counts, f1_rows, match_counts

TOL_S = 0.05
N_SHIFTS = 500
N_UNIFORM = 500
#: notes per click tried by the beat ceiling (SCIENCE.md section 5: 1-4)
CLICKS_PER_BEAT = (1, 2, 3, 4)
#: metronome searches: tempo grid size and phase steps per period
N_PERIODS = 120
N_PHASES = 48


@dataclass(frozen=True)
class NullDistribution:
    """F1s of one null model's draws."""

    name: str
    f1: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.mean(self.f1)) if self.f1.size else 0.0

    @property
    def sd(self) -> float:
        return float(np.std(self.f1, ddof=1)) if self.f1.size > 1 else 0.0

    @property
    def sd_se(self) -> float:
        """Standard error of :attr:`sd` (normal approximation sd / sqrt(2 (n - 1)))."""
        n = self.f1.size
        return self.sd / math.sqrt(2.0 * (n - 1)) if n > 1 else float("nan")


@dataclass(frozen=True)
class Metronome:
    """The best metronome a search found: its F1, period, phase and click count."""

    f1: float
    period_s: float
    phase_s: float
    n_clicks: int


def _window(onsets_s, start_s: float, stop_s: float) -> np.ndarray:
    t = np.sort(np.asarray(onsets_s, dtype=float).ravel())
    return t[(t >= start_s) & (t < stop_s)]


def shift_values_s(length_s: float, tol_s: float = TOL_S, n_shifts: int = N_SHIFTS) -> np.ndarray:
    """``n_shifts`` evenly spaced circular shifts in (tol, length - tol): every
    shift moves each onset more than tol away from where it was (mod the window)."""
    span = length_s - 2.0 * tol_s
    if span <= 0:
        raise ValueError(f"window {length_s:g} s is too short for a shift null at tol {tol_s:g} s")
    return tol_s + span * (np.arange(n_shifts) + 0.5) / n_shifts


def shift_null(worm_onsets_s, target_onsets_s, *, start_s: float, stop_s: float, tol_s: float = TOL_S,
               n_shifts: int = N_SHIFTS) -> NullDistribution:
    """One-to-one F1 of the worm's onsets circularly shifted by each of
    :func:`shift_values_s` within [start_s, stop_s) (no draws in a window of 2 tol or less)."""
    w = _window(worm_onsets_s, start_s, stop_s) - start_s
    ref = _window(target_onsets_s, start_s, stop_s) - start_s
    length = stop_s - start_s
    if length <= 2.0 * tol_s:  # no shift moves a note out of its own window: no null
        return NullDistribution("shift", np.empty(0))
    shifts = shift_values_s(length, tol_s, n_shifts)
    rows = np.sort(np.mod(w[None, :] + shifts[:, None], length), axis=1)
    return NullDistribution("shift", f1_rows(rows, ref, tol_s))


def uniform_null(n_notes: int, target_onsets_s, *, start_s: float, stop_s: float, tol_s: float = TOL_S,
                 n_draws: int = N_UNIFORM, seed: int = 0) -> NullDistribution:
    """One-to-one F1 of ``n_notes`` uniform random onsets in the window, ``n_draws`` seeded draws."""
    ref = _window(target_onsets_s, start_s, stop_s)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.uniform(start_s, stop_s, (n_draws, int(n_notes))), axis=1)
    return NullDistribution("uniform", f1_rows(rows, ref, tol_s))


def min_gap_s(onsets_s) -> float:
    """The shortest inter-onset interval (0 for fewer than two onsets)."""
    t = np.sort(np.asarray(onsets_s, dtype=float).ravel())
    return float(np.min(np.diff(t))) if t.size > 1 else 0.0


def refractory_draws(n_notes: int, gap_s: float, start_s: float, stop_s: float, n_draws: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(n_draws, n) onsets uniform over all trains in [start, stop) with every gap >= ``gap_s``.

    Exact: n sorted uniforms on the shortened line [0, L - (n-1) gap], the k-th
    pushed right by k gaps (a bijection onto the gap-constrained set).  A gap
    that cannot fit is capped at L / n (the trains become near-metronomes).
    """
    n = int(n_notes)
    length = stop_s - start_s
    gap = min(gap_s, length / max(n, 1)) if n > 1 else 0.0
    free = length - (n - 1) * gap
    u = np.sort(rng.uniform(0.0, free, (n_draws, n)), axis=1)
    return start_s + u + gap * np.arange(n)[None, :]


def refractory_null(n_notes: int, gap_s: float, target_onsets_s, *, start_s: float, stop_s: float,
                    tol_s: float = TOL_S, n_draws: int = N_UNIFORM, seed: int = 0) -> NullDistribution:
    """One-to-one F1 of random trains with the worm's count and minimum gap (:func:`refractory_draws`)."""
    ref = _window(target_onsets_s, start_s, stop_s)
    rows = refractory_draws(n_notes, gap_s, start_s, stop_s, n_draws, np.random.default_rng(seed))
    rows = np.minimum(rows, np.nextafter(stop_s, start_s))  # float rounding must not leave the window
    return NullDistribution("refractory", f1_rows(rows, ref, tol_s))


_CHUNK_CELLS = 4_000_000  # rows x clicks built at once: bounds memory on floods


def _best(periods, phases, counts, ref, tol_s, start_s, notes_per_click: int = 1) -> Metronome:
    """The best of the metronomes ``phases[r] + k * periods[r]``, k < counts[r],
    each click playing ``notes_per_click`` notes at once."""
    if len(ref) == 0 or counts.size == 0 or counts.max() <= 0:
        return Metronome(0.0, float("nan"), float("nan"), 0)
    width = int(counts.max())
    per_chunk = max(1, _CHUNK_CELLS // (width * notes_per_click))
    best_f1, best_r = -1.0, 0
    for a in range(0, counts.size, per_chunk):
        sl = slice(a, a + per_chunk)
        k = np.arange(width)[None, :]
        rows = np.where(k < counts[sl, None], phases[sl, None] + k * periods[sl, None], np.inf)
        rows = np.repeat(rows, notes_per_click, axis=1)
        n = counts[sl] * notes_per_click
        f1 = f1_from_counts(match_counts(rows, ref, tol_s, n), n, len(ref))
        b = int(np.argmax(f1))
        if f1[b] > best_f1:
            best_f1, best_r = float(f1[b]), a + b
    return Metronome(best_f1, float(periods[best_r]), float(phases[best_r] - start_s),
                     int(counts[best_r] * notes_per_click))


def metronome_at_count(n_notes: int, target_onsets_s, *, start_s: float, stop_s: float, tol_s: float = TOL_S,
                       n_periods: int = N_PERIODS, n_phases: int = N_PHASES) -> Metronome:
    """The best ``n_notes``-click metronome in the window, tempo and phase searched.

    Periods run from 2 tol (closer clicks share one target's window) to
    L / n (the clicks fill the window); for each period the first click's
    phase takes ``n_phases`` steps over every start that keeps all clicks inside.
    """
    ref = _window(target_onsets_s, start_s, stop_s)
    return _metronome_at_count(int(n_notes), ref.tobytes(), float(start_s), float(stop_s), float(tol_s),
                               int(n_periods), int(n_phases))


# The metronome nulls depend only on the target window and a few numbers, not on
# the worm's onsets (metronome_at_count: on its note count), and their search is
# most of a scored task's time (a sweep task of 10 s: ~60 of ~80 ms); a sweep or
# a generation scores hundreds of worms on one window, so each process keeps the
# last few hundred answers.  Keyed by the window's bytes: equal windows, equal answer.
@functools.lru_cache(maxsize=512)
def _metronome_at_count(n: int, ref_bytes: bytes, start_s: float, stop_s: float, tol_s: float, n_periods: int,
                        n_phases: int) -> Metronome:
    ref = np.frombuffer(ref_bytes, dtype=np.float64)
    length = stop_s - start_s
    if n <= 0:
        return Metronome(0.0, float("nan"), float("nan"), 0)
    p_max = length / n
    periods = np.unique(np.geomspace(min(2.0 * tol_s, p_max), p_max, n_periods)) if n > 1 else np.array([length])
    slack = length - (n - 1) * periods  # room for the first click: [0, slack)
    frac = (np.arange(n_phases) + 0.5) / n_phases
    per = np.repeat(periods, n_phases)
    ph = start_s + (slack[:, None] * frac[None, :]).ravel()
    return _best(per, ph, np.full(per.size, n), ref, tol_s, start_s)


def _filling_metronomes(periods_s, start_s, stop_s, n_phases, origin_s=None):
    """Clicks at each period filling the window, phases on a grid (plus the
    beat grid through ``origin_s`` when given)."""
    length = stop_s - start_s
    frac = np.arange(n_phases) / n_phases
    per = np.repeat(periods_s, n_phases)
    ph = start_s + (np.asarray(periods_s)[:, None] * frac[None, :]).ravel()
    if origin_s is not None:  # the score's own grid: the first grid point at or after start
        grid = origin_s + np.ceil((start_s - origin_s) / np.asarray(periods_s) - 1e-9) * periods_s
        per, ph = np.concatenate([per, periods_s]), np.concatenate([ph, grid])
    counts = np.floor((start_s + length - ph) / per - 1e-12).astype(np.int64) + 1
    return per, ph, np.maximum(counts, 0)


def beat_ceiling(beat_s: float, target_onsets_s, *, start_s: float, stop_s: float, tol_s: float = TOL_S,
                 notes_per_click=CLICKS_PER_BEAT, origin_s: float = 0.0,
                 n_phases: int = N_PHASES) -> dict[int, Metronome]:
    """For each k in ``notes_per_click``: the best metronome at the score's beat
    playing k notes on every click (a k-note chord: one-to-one matching lets it
    meet k target notes of a chord), on the score's own grid through
    ``origin_s`` or any of ``n_phases`` other phases.  What tempo alone reaches."""
    ref = _window(target_onsets_s, start_s, stop_s)
    return dict(_beat_ceiling(float(beat_s), ref.tobytes(), float(start_s), float(stop_s), float(tol_s),
                              tuple(int(k) for k in notes_per_click), float(origin_s), int(n_phases)))


@functools.lru_cache(maxsize=128)  # as _metronome_at_count: a function of the target window alone
def _beat_ceiling(beat_s: float, ref_bytes: bytes, start_s: float, stop_s: float, tol_s: float,
                  notes_per_click: tuple, origin_s: float, n_phases: int) -> tuple:
    ref = np.frombuffer(ref_bytes, dtype=np.float64)
    per, ph, counts = _filling_metronomes(np.array([beat_s]), start_s, stop_s, n_phases, origin_s)
    return tuple((k, _best(per, ph, counts, ref, tol_s, start_s, k)) for k in notes_per_click)


def best_metronome(target_onsets_s, *, start_s: float, stop_s: float, tol_s: float = TOL_S,
                   min_period_s: float | None = None, max_period_s: float = 2.0,
                   n_periods: int = N_PERIODS, n_phases: int = N_PHASES) -> Metronome:
    """The best metronome at any tempo (periods from ``min_period_s``, default tol, to 2 s)."""
    ref = _window(target_onsets_s, start_s, stop_s)
    periods = np.geomspace(min_period_s or tol_s, min(max_period_s, stop_s - start_s), n_periods)
    per, ph, counts = _filling_metronomes(periods, start_s, stop_s, n_phases)
    return _best(per, ph, counts, ref, tol_s, start_s)


def expected_max_z(n: int) -> float:
    """E[max of n independent standard-normal z values]: the score the best of
    an n-point sweep reaches by selection alone (about sqrt(2 ln n) for large n;
    2.97 for 448).  Computed by quadrature of x * d/dx Phi(x)^n."""
    from scipy import integrate, stats

    n = int(n)
    if n < 1:
        raise ValueError("expected_max_z needs n >= 1")
    if n == 1:
        return 0.0
    dens = lambda x: x * n * stats.norm.pdf(x) * math.exp((n - 1) * stats.norm.logcdf(x))  # noqa: E731
    value, _ = integrate.quad(dens, -10.0, 12.0, limit=200, points=[math.sqrt(2 * math.log(n))])
    return float(value)


def empirical_p(observed: float, null_f1: np.ndarray) -> float:
    """One-sided p = (1 + #{null >= observed}) / (1 + n): never 0, valid for any n."""
    null_f1 = np.asarray(null_f1, dtype=float)
    if null_f1.size == 0:
        return float("nan")
    return float((1 + np.count_nonzero(null_f1 >= observed - 1e-12)) / (1 + null_f1.size))


def z_score(observed: float, null: NullDistribution, n_worm: int, n_target: int) -> float:
    """(observed - null mean) / null sd, the sd floored at half of one match's
    F1 step, 1 / (n_worm + n_target): a null that cannot move the F1 by one
    match (a flood, a train shorter than the shifts' reach) gives no evidence,
    so z stays near 0 instead of dividing by rounding noise."""
    if null.f1.size == 0:
        return float("nan")
    if n_worm + n_target == 0:
        return 0.0
    sd = max(null.sd, 1.0 / (n_worm + n_target))
    return float((observed - null.mean) / sd)


def __getattr__(name):  # score_with_nulls / AlignmentScore live in alignment.py (one concept per module)
    if name in ("score_with_nulls", "AlignmentScore", "rank_score", "MIN_NOTES"):
        from . import alignment

        return getattr(alignment, name)
    raise AttributeError(name)


__all__ = [
    "TOL_S", "N_SHIFTS", "N_UNIFORM", "CLICKS_PER_BEAT", "NullDistribution", "Metronome", "shift_values_s",
    "shift_null", "uniform_null", "min_gap_s", "refractory_draws", "refractory_null", "metronome_at_count",
    "beat_ceiling", "best_metronome", "expected_max_z", "empirical_p", "z_score",
    "score_with_nulls", "AlignmentScore", "rank_score", "MIN_NOTES",
]
