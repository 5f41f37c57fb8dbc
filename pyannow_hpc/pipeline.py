"""The worm-to-score pipeline every job shares: simulate -> burn-in -> notes -> scores.

``evaluate_params`` is what one sweep task, one optimiser objective, a retest
and the demo all do, so it lives in one place.  Two things happen here and
nowhere else:

- **burn-in** (``burn_in_s``): the worm is simulated ``burn_in_s`` longer and
  that first stretch is discarded before scoring.  Every run starts with ~22
  onsets in its first 0.1 s while the slow gates adapt (SCIENCE.md section 5:
  a median 34 % of a 10 s sweep window's notes); after 0.5 s the burst is gone
  (measured: 22 -> 2 -> 1 notes in the first 0.1 s after 0 / 0.5 / 1 s).
  :data:`DEFAULT_BURN_IN_S` = 2 s is two body-wave cycles down to 1 Hz (the
  default drive is 1.5 Hz).  ``burn_in_s = 0`` is the old pipeline, bit for bit.
- **nulls**: every score carries its shift null, uniform chance and metronome
  ceilings (:func:`pyannow_hpc.music.alignment.score_with_nulls`), stored as
  metrics beside the F1s.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .music.notes import NoteSequence
from .worm.activity import MuscleActivity

#: seconds simulated and discarded before scoring (config [simulation] burn_in_s)
DEFAULT_BURN_IN_S = 2.0

#: the AlignmentScore fields stored as metrics (the F1s themselves are metrics.evaluate()'s keys)
NULL_KEYS = ("n_worm", "shift_z", "shift_p", "shift_mean", "shift_sd", "shift_excess", "uniform_mean", "uniform_sd",
             "uniform_sd_se", "refractory_mean", "metronome_f1", "beat_ceiling_f1", "rank_score")


@dataclass(frozen=True)
class EvalResult:
    notes: NoteSequence  # the worm's notes, times relative to the window start (after burn-in)
    metrics: dict[str, float]  # music.metrics.evaluate() keys + NULL_KEYS
    activity: MuscleActivity | None = None  # kept only when asked (memory); burn-in removed
    score: object | None = None  # music.alignment.AlignmentScore (None with nulls=False)


def discard_burn_in(activity: MuscleActivity, burn_in_s: float) -> MuscleActivity:
    """The activity from ``burn_in_s`` on, its clock restarted at 0 (traces and spikes)."""
    if burn_in_s <= 0:
        return activity
    t0_ms = burn_in_s * 1000.0
    keep = activity.t_ms >= t0_ms - 1e-9
    spikes = activity.spike_times_ms >= t0_ms - 1e-9
    return dataclasses.replace(
        activity, t_ms=activity.t_ms[keep] - t0_ms, v_mV=activity.v_mV[keep],
        spike_times_ms=activity.spike_times_ms[spikes] - t0_ms, spike_muscle=activity.spike_muscle[spikes],
        traces={k: v[keep] for k, v in activity.traces.items()},
    )


def score_notes(notes: NoteSequence, window: NoteSequence, duration_s: float, *, nulls: bool = True,
                null_seed: int = 0, rank_by: str = "shift_excess", min_notes: int | None = None):
    """(metrics dict, AlignmentScore or None) of ``notes`` against ``window`` (both from 0)."""
    from .music.alignment import MIN_NOTES, score_with_nulls
    from .music.metrics import evaluate

    metrics = evaluate(notes, window, duration_s)
    if not nulls:
        return metrics, None
    score = score_with_nulls(notes.onset_s, window.onset_s, start_s=0.0, stop_s=duration_s, beat_s=window.beat_s,
                             beat_origin_s=window.beat_origin_s, seed=null_seed, rank_by=rank_by,
                             min_notes=MIN_NOTES if min_notes is None else min_notes)
    d = score.as_dict()
    metrics.update({k: d[k] for k in NULL_KEYS})
    return metrics, score


def simulation_spec(
    params: Mapping[str, float] | None,
    *,
    model: str | None = None,
    duration_s: float,
    dt_ms: float = 0.5,
    seed: int = 0,
    integrator: str = "exponential",
    sample_rate_hz: float | None = None,
    burn_in_s: float = DEFAULT_BURN_IN_S,
):
    """The SimulationSpec :func:`evaluate_params` runs: ``burn_in_s + duration_s`` of worm."""
    from .errors import ConfigError
    from .worm import DEFAULT_MODEL, make_spec

    if not (duration_s > 0 and np.isfinite(duration_s)):  # checked before burn-in is added to it
        raise ConfigError(f"duration_s must be a finite number > 0, got {duration_s!r}")
    if not (burn_in_s >= 0 and np.isfinite(burn_in_s)):
        raise ConfigError(f"burn_in_s must be a finite number >= 0, got {burn_in_s!r}")
    return make_spec(params, model=model or DEFAULT_MODEL, duration_s=duration_s + burn_in_s, dt_ms=dt_ms, seed=seed,
                     integrator=integrator, sample_rate_hz=sample_rate_hz)


def evaluate_params(
    params: Mapping[str, float] | None,
    *,
    target: NoteSequence,
    backend: str = "native",
    model: str | None = None,
    duration_s: float,
    dt_ms: float = 0.5,
    seed: int = 0,
    integrator: str = "exponential",
    onset_method: str | None = None,
    window_start_s: float = 0.0,
    sample_rate_hz: float | None = None,
    keep_activity: bool = False,
    burn_in_s: float = DEFAULT_BURN_IN_S,
    nulls: bool = True,
    rank_by: str = "shift_excess",
    min_notes: int | None = None,
    activity: MuscleActivity | None = None,
) -> EvalResult:
    """Simulate ``burn_in_s + duration_s`` of worm, drop the first ``burn_in_s``,
    and score the rest against the target window ``[window_start_s, window_start_s + duration_s)``.

    ``model=None`` is :data:`~pyannow_hpc.worm.DEFAULT_MODEL`; ``onset_method=None``
    is that model's natural detector (:func:`~pyannow_hpc.worm.default_onset_method`).
    ``nulls=False`` skips the null models (the metrics then hold evaluate()'s keys only).
    ``activity``: the run of :func:`simulation_spec`'s spec, already simulated (a
    batch of them went through one native call); then nothing is simulated here.
    """
    from .worm import DEFAULT_MODEL, backend_module, default_onset_method
    from .worm.onsets import extract_notes

    model = model or DEFAULT_MODEL
    onset_method = onset_method or default_onset_method(model)
    if activity is None:
        spec = simulation_spec(params, model=model, duration_s=duration_s, dt_ms=dt_ms, seed=seed,
                               integrator=integrator, sample_rate_hz=sample_rate_hz, burn_in_s=burn_in_s)
        activity = backend_module(backend).simulate(spec)
    # onsets are found on the whole run (a detector needs the trace before an
    # onset), then the burn-in's notes are dropped and the clock restarted
    notes = extract_notes(activity, method=onset_method)
    if burn_in_s > 0:
        notes = notes.window(burn_in_s, burn_in_s + duration_s)
        activity = discard_burn_in(activity, burn_in_s) if keep_activity else activity
    window = target.window(window_start_s, window_start_s + duration_s)
    metrics, score = score_notes(notes, window, duration_s, nulls=nulls, null_seed=seed, rank_by=rank_by,
                                 min_notes=min_notes)
    return EvalResult(notes=notes, metrics=metrics, activity=activity if keep_activity else None, score=score)
