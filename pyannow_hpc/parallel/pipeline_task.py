"""The sweep's task function: one parameter set -> simulate -> onsets -> scores.

:class:`PipelineTask` is what every rank runs for a task (``pipeline.evaluate_params``
with the run's :class:`~pyannow_hpc.store.tasks.RunSettings`), one at a time or a
chunk at once through one native batch call (:meth:`PipelineTask.batch`,
used by :func:`~pyannow_hpc.parallel.isolation.run_chunk`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import SweepConfig
from ..music.notes import NoteSequence
from ..store.tasks import RunSettings
from .isolation import Task, TaskResult


def run_settings(cfg: SweepConfig) -> RunSettings:
    """What every task of ``cfg`` shares (stored in the ledger's attrs)."""
    return RunSettings.from_config(cfg)


@dataclass(frozen=True)
class PipelineTask:
    """The real task: simulate -> onsets -> metrics (``pipeline.evaluate_params``).

    ``task.params`` holds the config's fixed parameters and the task's varied
    ones; ``settings`` the rest of the recipe, as the ledger stores it.

    A frozen dataclass rather than a closure so it pickles: it is broadcast to
    every rank and sent to isolated child processes.
    """

    target: NoteSequence
    settings: RunSettings

    @classmethod
    def from_config(cls, cfg: SweepConfig, target: NoteSequence) -> "PipelineTask":
        return cls(target, run_settings(cfg))

    def __call__(self, task: Task, activity=None) -> TaskResult:
        from ..pipeline import evaluate_params

        s = self.settings
        res = evaluate_params(
            task.params, target=self.target, backend=s.backend, model=s.model,
            duration_s=s.duration_s, dt_ms=s.dt_ms, seed=task.seed, integrator=s.integrator,
            onset_method=s.onset_method, window_start_s=s.window_start_s, burn_in_s=s.burn_in_s,
            min_notes=s.min_notes, activity=activity,
        )
        return TaskResult(res.metrics, res.notes.onset_s, res.notes.pitch)

    def batch(self, tasks) -> list[TaskResult]:
        """A chunk of tasks (isolation.run_chunk): on the native backend their
        simulations go to one ``pw_simulate_batch`` call, threaded over the sets
        and bitwise the one-at-a-time runs; then each is scored as ``__call__`` would."""
        if self.settings.backend != "native":
            return [self(t) for t in tasks]
        from ..pipeline import simulation_spec
        from ..worm.native_batch import default_threads, simulate_batch

        s = self.settings
        out: list[TaskResult] = []
        step = 2 * default_threads()  # sets in memory at once: a chunk can hold hundreds of tasks
        for i in range(0, len(tasks), step):
            part = tasks[i:i + step]
            specs = [simulation_spec(t.params, model=s.model, duration_s=s.duration_s, dt_ms=s.dt_ms, seed=t.seed,
                                     integrator=s.integrator, burn_in_s=s.burn_in_s) for t in part]
            out += [self(t, act) for t, act in zip(part, simulate_batch(specs))]
        return out
