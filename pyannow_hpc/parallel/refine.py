"""The fidelity ladder: re-run a sweep's best surrogate points on the real simulator.

Rank 0 reads the ledger, picks the best K done tasks (``by``, default the
one-to-one F1) and rebuilds each as the sweep ran it (``LedgerData.task``,
``LedgerData.settings``); the tasks are dealt round-robin to the ranks (task i
on rank i mod size: K long, similar tasks balance best statically). Each task
runs the point twice over the same window: the sweep's surrogate (its backend,
dt, integrator and onset detector) and the real simulator (the threshold
detector on its spikes), and measures the gap:

- onset F1 and note rate of each (mir_eval one-to-one and seed any-match),
  each F1 beside its chance level (the same number of uniform random onsets);
- the correlation of muscle activity: per muscle, the Pearson correlation of
  the V envelopes (:func:`~pyannow_hpc.worm.fidelity.envelope_correlation`),
  averaged over the muscles where both traces vary (C302 has no MVL24).

Results go into the ledger's ``/refine`` (``LedgerData.refine``): attrs of the
run, and per task id every metric as ``surrogate.<key>``, ``<backend>.<key>``,
``gap.<key>``, with the real simulator's notes. The ledger owns the group, so
a resumed sweep keeps it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..music.notes import NoteSequence
from ..store.tasks import RunSettings, Task, TaskStatus
from .isolation import Outcome, TaskResult

REAL_BACKENDS = ("c302", "container")
#: ``by`` choices: metric -> True when higher is better
RANK_BY = {"f1_mireval": True, "f1_seed": True, "pitch_f1": True, "onset_loss": False}


@dataclass(frozen=True)
class RefineTask:
    """One point on both rungs of the ladder (picklable: sent to every rank)."""

    target: NoteSequence
    surrogate: RunSettings  # the sweep's own settings (its window start too)
    real_backend: str
    real_dt_ms: float
    duration_s: float
    envelope_ms: float

    def __call__(self, task: Task) -> TaskResult:
        import numpy as np

        from ..pipeline import score_notes
        from ..worm import simulate
        from ..worm.fidelity import envelope_correlation
        from ..worm.onsets import extract_notes

        s = self.surrogate
        window = self.target.window(s.window_start_s, s.window_start_s + self.duration_s)
        common = dict(model=s.model, duration_s=self.duration_s, seed=task.seed, sample_rate_hz=1000.0)
        sur = simulate(task.params, backend=s.backend, dt_ms=s.dt_ms, integrator=s.integrator, **common)
        real = simulate(task.params, backend=self.real_backend, dt_ms=self.real_dt_ms, **common)
        notes_s = extract_notes(sur, method=s.onset_method)
        notes_r = extract_notes(real, method="threshold")
        # each F1 with its nulls (shift z, uniform chance, metronome, beat ceiling)
        m_s, _ = score_notes(notes_s, window, self.duration_s, null_seed=task.seed)
        m_r, _ = score_notes(notes_r, window, self.duration_s, null_seed=task.seed)
        corr = envelope_correlation(sur.t_ms, sur.v_mV, real.t_ms, real.v_mV, self.envelope_ms)
        metrics = {f"surrogate.{k}": v for k, v in m_s.items()}
        metrics.update({f"{self.real_backend}.{k}": v for k, v in m_r.items()})
        finite = corr[~np.isnan(corr)]
        metrics.update({
            "gap.f1_mireval": m_r["f1_mireval"] - m_s["f1_mireval"],
            "gap.rate_hz": m_r["worm_rate_hz"] - m_s["worm_rate_hz"],
            "gap.corr_v_envelope": float(finite.mean()) if len(finite) else math.nan,
            "gap.n_muscles_correlated": float(len(finite)),
            # the sweep's task runner requires these two to be finite: the real rung's
            "f1_mireval": m_r["f1_mireval"],
            "onset_loss": m_r["onset_loss"],
        })
        return TaskResult(metrics, notes_r.onset_s, notes_r.pitch)


@dataclass(frozen=True)
class RefineOptions:
    """What ``pyannow-hpc refine`` was asked (validated by :func:`plan_refine`)."""

    ledger: str
    top: int = 4
    by: str = "f1_mireval"
    backend: str = "c302"
    duration_s: float | None = None  # None: the sweep's window
    dt_ms: float = 0.05
    envelope_ms: float = 50.0
    task_timeout_s: float = 3600.0


@dataclass(frozen=True)
class RefinePlan:
    fn: RefineTask
    tasks: tuple[Task, ...]
    n_ledger_tasks: int


def plan_refine(opts: RefineOptions) -> RefinePlan:
    """Rank 0: check the options, read the ledger, pick and rebuild the best tasks."""
    from ..errors import ConfigError
    from ..store.ledger import read_ledger
    from ..store.lock import check_unlocked

    if opts.top < 1:
        raise ConfigError(f"--top must be >= 1, got {opts.top}")
    for name in ("dt_ms", "envelope_ms", "task_timeout_s"):
        v = getattr(opts, name)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"--{name.replace('_', '-')} must be a finite number > 0, got {v}")
    led = read_ledger(opts.ledger)
    check_unlocked(opts.ledger)  # a sweep writing it now: say so before hours of simulation, not after
    if led.target is None:
        raise ConfigError(f"{opts.ledger} stores no target score (/target): re-run the sweep")
    settings = led.settings()
    duration = settings.duration_s if opts.duration_s is None else opts.duration_s
    if not (math.isfinite(duration) and duration > 0):
        raise ConfigError(f"--duration-s must be a finite number > 0, got {duration}")
    rows = led.best_rows(opts.by, opts.top, higher_is_better=RANK_BY[opts.by])
    if not rows:
        raise ConfigError(f"{opts.ledger} has no done task with a finite {opts.by} to refine")
    fn = RefineTask(led.target, settings, opts.backend, opts.dt_ms, duration, opts.envelope_ms)
    return RefinePlan(fn, tuple(led.task(r) for r in rows), len(led))


def write_refine(path, attrs: Mapping[str, object], outcomes: Sequence[Outcome]) -> None:
    """Merge ``outcomes`` into the ledger's ``/refine`` (by task id), atomically.

    The ledger is read again here, not kept from the plan: a long refine must
    not write back a ledger that changed while it ran. Read and write happen
    under the ledger lock, so a sweep or another refine writing at the same
    moment is a one-line LockError rather than a lost write; the write is the
    ledger's own (in memory, atomic, full-disk safe).
    """
    from ..store.ledger import read_ledger, write_ledger
    from ..store.lock import ledger_lock

    with ledger_lock(path):
        led = read_ledger(path)
        led.refine_attrs.update(attrs)
        for out in outcomes:
            led.record_refine(out.task_id, out.status, out.metrics, out.error, out.wall_s, out.onsets_s, out.pitches)
        write_ledger(path, led)


def read_refine(path) -> dict[int, dict]:
    """``{task_id: {"status", "error", metric keys..., "onsets_s", "pitches"}}`` from ``/refine``."""
    from ..store.ledger import read_ledger

    return read_ledger(path).refine


def _real_rung(record: Mapping) -> str:
    """The real simulator a record was refined on (its ``<backend>.f1_mireval`` key)."""
    return next((k.split(".")[0] for k in record if k.endswith(".f1_mireval")
                 and k.split(".")[0] not in ("surrogate", "gap")), "real")


def refine_rows(led, task_ids: Sequence[int] | None = None) -> list[dict]:
    """One labelled row per refined task of ``led`` (all, or ``task_ids``), for the
    CLI's table and the report's CSV; a failed task has its error in ``failed``."""
    from ..music.metrics import metric_label

    f1 = metric_label("f1_mireval")
    row_of = {int(t): i for i, t in enumerate(led.task_ids)}
    rows = []
    for task_id in sorted(led.refine if task_ids is None else task_ids):
        m = led.refine[task_id]
        params = led.task(row_of[task_id]).params if task_id in row_of else {}
        row = {"task": task_id, "parameters": ", ".join(f"{k}={v:.4g}" for k, v in params.items())}
        if int(m["status"]) != TaskStatus.DONE:
            rows.append({**row, "failed": str(m.get("error", ""))[:80]})
            continue
        rungs = ("surrogate", _real_rung(m))
        for rung in rungs:
            row[f"{f1}: {rung}"] = m[f"{rung}.f1_mireval"]
            # ledgers refined before the nulls were stored have NaN here
            row[f"z vs own shifts: {rung}"] = m.get(f"{rung}.shift_z", math.nan)
            row[f"uniform chance {f1} at its note count: {rung}"] = m.get(
                f"{rung}.uniform_mean", m.get(f"{rung}.chance_f1_mireval", math.nan))
            row[f"best metronome {f1} at its note count: {rung}"] = m.get(f"{rung}.metronome_f1", math.nan)
        for rung in rungs:
            row[f"note rate (1/s): {rung}"] = m[f"{rung}.worm_rate_hz"]
        row["corr(V envelope)"] = m["gap.corr_v_envelope"]
        rows.append(row)
    return rows


def run_refine(opts: RefineOptions, *, comm, log: Callable[[str], None]) -> list[Outcome] | None:
    """Collective: plan on rank 0 (:func:`~.comm.on_root`), run round-robin, write on rank 0.

    Returns every outcome on rank 0, None on the other ranks.
    """
    from ..store.provenance import utc_now
    from .comm import idle_barrier, on_root
    from .isolation import run_task

    rank, size = comm.Get_rank(), comm.Get_size()
    plan = on_root(comm, plan_refine, opts)
    s = plan.fn.surrogate
    if rank == 0:
        log(f"refine: {len(plan.tasks)} best of {plan.n_ledger_tasks} tasks by {opts.by}, {s.backend} -> "
            f"{opts.backend}, {plan.fn.duration_s:g} s each, {size} rank(s)")
    # A static round-robin split, not the sweep's dynamic scheduler: refine
    # runs a few long, similar tasks, and the scheduler's prefetch lets one
    # worker reserve two of them while another rank idles (measured: a 2-task
    # C302 sweep on 2 ranks ran both tasks on rank 1).
    done_here = [run_task(plan.fn, task, timeout_s=opts.task_timeout_s) for task in plan.tasks[rank::size]]
    idle_barrier(comm)  # ranks that finish early sleep instead of spinning in gather
    gathered = comm.gather(done_here, root=0)
    if rank != 0:
        return None
    outcomes = [o for part in gathered for o in part]
    attrs = {"backend": opts.backend, "surrogate_backend": s.backend, "model": s.model, "ranked_by": opts.by,
             "top_k": opts.top, "duration_s": plan.fn.duration_s, "dt_ms": opts.dt_ms, "surrogate_dt_ms": s.dt_ms,
             "surrogate_onset_method": s.onset_method, "onset_method": "threshold",
             "envelope_ms": opts.envelope_ms, "mpi_size": size, "updated_utc": utc_now()}
    write_refine(opts.ledger, attrs, outcomes)
    return outcomes
