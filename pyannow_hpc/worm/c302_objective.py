"""C302 as an optimiser's objective: a picklable ``loss(params)`` on short windows.

The optimiser's population and Bayesian modes (and the fidelity ladder's
last rung) need the real network as a black box: parameters in, one number
out.  NEURON costs seconds per simulated second (docs/openworm.md,
"Numbers"), so the window is short (0.5-1 s is the intended range) and each
call is a full, isolated C302 run (:mod:`.c302_backend`: its own task
directory, the compiled-mechanism and network-template caches shared
between calls and between MPI ranks)::

    from pyannow_hpc.music.target import load_target
    from pyannow_hpc.worm.c302_objective import C302Objective

    f = C302Objective(load_target(None), model="boyle2008", duration_s=0.5)
    f.search_params()                        # ('g_ca_boyle', 'g_k_slow', ...)
    loss = f({"g_ca_boyle": 1.2})            # onset_loss, lower is better
    res = f.evaluate({"g_ca_boyle": 1.2})    # EvalResult: notes + every metric

Only parameters C302 can apply may differ from their defaults
(:func:`.c302_params.check_mappable`: a one-line ``ConfigError`` otherwise,
unless ``ignore_unmapped``).  A failed run raises ``SimulationError`` unless
``failure_loss`` is set, in which case the call returns that value (a
population optimiser can rank it last and go on).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Mapping

from ..errors import ConfigError, SimulationError
from ..music.notes import NoteSequence
from .c302_params import MAPPINGS, check_mappable, detector_threshold

#: the intended window range (NEURON: ~6-8 s of wall time per simulated second)
SHORT_WINDOW_S = (0.05, 5.0)


@dataclass(frozen=True)
class C302Objective:
    """``loss = objective(params)`` on C302 over ``[window_start_s, window_start_s + duration_s)``."""

    target: NoteSequence
    model: str = "boyle2008"
    duration_s: float = 0.5
    dt_ms: float = 0.05  # NEURON's fixed step
    window_start_s: float = 0.0
    # no warm-up by default, unlike the surrogate pipeline's 2 s: C1's muscles on C302
    # fire one burst at ~70-120 ms and are silent after it (docs/openworm.md), and a
    # burn-in costs NEURON as much as the window itself per simulated second
    burn_in_s: float = 0.0
    metric: str = "onset_loss"  # any key of music.metrics.evaluate(); lower is better unless maximise
    maximise: bool = False  # True for F1-like metrics: the call returns -metric
    seed: int = 0
    ignore_unmapped: bool = False
    failure_loss: float | None = None  # returned for a failed run instead of raising

    def __post_init__(self) -> None:
        if self.model not in MAPPINGS:
            raise ConfigError(f"C302 objective: no parameter mapping for model {self.model!r}; known: {', '.join(MAPPINGS)}")
        lo, hi = SHORT_WINDOW_S
        if not (isinstance(self.duration_s, (int, float)) and lo <= self.duration_s <= hi):
            raise ConfigError(f"C302 objective: duration_s must lie in [{lo:g}, {hi:g}] s (NEURON costs seconds "
                              f"per simulated second), got {self.duration_s!r}")
        if not (0 < self.dt_ms <= 0.1):
            raise ConfigError(f"C302 objective: dt_ms must lie in (0, 0.1] ms, got {self.dt_ms!r}")
        if self.failure_loss is not None and math.isnan(self.failure_loss):
            raise ConfigError("C302 objective: failure_loss must be a number (not NaN) or None")

    def search_params(self) -> tuple[str, ...]:
        """The parameters worth searching on C302: those with a channel counterpart
        (the detector threshold is left out: it changes the reading, not the network)."""
        thresh = detector_threshold(self.model)
        seen: list[str] = []
        for m in MAPPINGS[self.model]:
            if m.ours != thresh and m.ours not in seen:
                seen.append(m.ours)
        return tuple(seen)

    def evaluate(self, params: Mapping[str, float]):
        """One C302 run scored against the target window: a :class:`~pyannow_hpc.pipeline.EvalResult`
        whose metrics also hold ``wall_s`` (the run's wall time)."""
        from ..pipeline import EvalResult, evaluate_params

        check_mappable(self.model, params, ignore_unmapped=self.ignore_unmapped)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            if self.ignore_unmapped:  # already said: the caller asked for them to be ignored
                warnings.simplefilter("ignore", UserWarning)
            res = evaluate_params(params, target=self.target, backend="c302", model=self.model,
                                  duration_s=self.duration_s, dt_ms=self.dt_ms, seed=self.seed,
                                  onset_method="threshold", window_start_s=self.window_start_s,
                                  burn_in_s=self.burn_in_s)
        metrics = dict(res.metrics, wall_s=time.perf_counter() - t0)
        return EvalResult(notes=res.notes, metrics=metrics)

    def __call__(self, params: Mapping[str, float]) -> float:
        try:
            value = float(self.evaluate(params).metrics[self.metric])
        except SimulationError:
            if self.failure_loss is None:
                raise
            return float(self.failure_loss)
        return -value if self.maximise else value
