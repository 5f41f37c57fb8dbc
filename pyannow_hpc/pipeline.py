"""The worm-to-score pipeline every job shares: simulate -> notes -> metrics.

``evaluate_params`` is what one sweep task, one optimiser objective and the
demo all do, so it lives in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .music.notes import NoteSequence
from .worm.activity import MuscleActivity


@dataclass(frozen=True)
class EvalResult:
    notes: NoteSequence  # the worm's notes, times relative to the window start
    metrics: dict[str, float]  # pyannow_hpc.music.metrics.evaluate() keys
    activity: MuscleActivity | None = None  # kept only when asked (memory)


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
) -> EvalResult:
    """Simulate ``duration_s`` of worm and score it against the target window
    ``[window_start_s, window_start_s + duration_s)``.

    ``model=None`` is :data:`~pyannow_hpc.worm.DEFAULT_MODEL`; ``onset_method=None``
    is that model's natural detector (:func:`~pyannow_hpc.worm.default_onset_method`).
    """
    from .music.metrics import evaluate
    from .worm import DEFAULT_MODEL, default_onset_method, simulate

    model = model or DEFAULT_MODEL
    onset_method = onset_method or default_onset_method(model)
    from .worm.onsets import extract_notes

    activity = simulate(
        params,
        backend=backend,
        model=model,
        duration_s=duration_s,
        dt_ms=dt_ms,
        seed=seed,
        integrator=integrator,
        sample_rate_hz=sample_rate_hz,
    )
    notes = extract_notes(activity, method=onset_method)
    window = target.window(window_start_s, window_start_s + duration_s)
    metrics = evaluate(notes, window, duration_s)
    return EvalResult(notes=notes, metrics=metrics, activity=activity if keep_activity else None)
