"""A parameter sweep: plan on rank 0, schedule over ranks, record in the ledger.

``run_sweep(cfg)`` is what ``pyannow-hpc sweep run.toml`` does on every rank:

1. rank 0 alone validates everything that can fail *before* work starts
   (output path, target file, an existing ledger from another config) and
   broadcasts the verdict (:func:`.comm.on_root`), so all ranks either start
   together or exit together with the same one-line error: no deadlock, no traceback;
2. the scheduler (:mod:`.scheduler`) hands tasks out dynamically; each task
   simulates, extracts onsets and scores them (:class:`.pipeline_task.PipelineTask`). The
   tasks and the task function are rebuilt from the ledger
   (``LedgerData.task(row)``, ``LedgerData.settings()``), fresh or resumed, so
   what runs is what the ledger says ran;
3. rank 0 records every outcome in the in-memory ledger and flushes it
   copy-on-write in batches (:mod:`pyannow_hpc.store.ledger`); a resumed run
   skips done tasks and recomputes pending/in-flight ones;
4. an allreduce sums what each rank did (done, failed, best and mean loss);
5. rank 0 renders the report if the config asks for it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import SweepConfig
from ..errors import ConfigError, OutputError, PyannowError
from ..music.notes import NoteSequence
from ..store import ledger as L
from ..store.recorder import Recorder
from ..store.recorder import fmt as _fmt
from ..store.tasks import TaskStatus
from .comm import idle_barrier, on_root, rank_prefix, reduce_op, world
from .isolation import Task, TaskFn, run_chunk, run_isolated, run_task
from .pipeline_task import PipelineTask, run_settings  # noqa: F401  (sweep.PipelineTask, sweep.run_settings)
from .sampling import task_table
from .scheduler import RankStats, schedule

#: rank 0 computes too up to this many ranks (docs/sweep.md: measured)
RANK0_WORKS_UP_TO = 8


@dataclass(frozen=True)
class SweepSummary:
    ledger: str
    n_tasks: int  # in this shard
    n_skipped: int  # already done when the run started (resume)
    done: int  # this run, summed over ranks (allreduce)
    failed: int
    best_loss: float
    mean_loss: float
    wall_s: float  # the whole run_sweep on rank 0 (planning, target loading, final flush)
    schedule_s: float  # the scheduling phase alone (tasks/s = done / schedule_s)
    busy_s: float  # summed task time over ranks
    size: int
    ledger_failed: int = 0  # rank 0: failed tasks in the whole ledger (earlier runs too)
    first_errors: tuple[str, ...] = ()  # rank 0: the first error of each kind (store.failures.first_errors)


def _load_target(cfg: SweepConfig) -> NoteSequence:
    from ..music.target import load_target

    return load_target(None if cfg.target in ("", "default") else cfg.target)


def _with_beat(target: NoteSequence, attrs) -> NoteSequence:
    """The ledger stores the target's notes; its beat (for the beat ceiling) is an attr."""
    beat = attrs.get("target_beat_s")
    if target is None or target.beat_s or beat is None or not math.isfinite(float(beat)):
        return target
    return dataclasses.replace(target, beat_s=float(beat))


def _check_writable(path: Path) -> None:
    """Fail now, with one line, if the ledger cannot be written (not after the first task)."""
    import os
    import tempfile

    from ..store.atomic import check_output_file, prepare_dir

    check_output_file(path)  # a device, FIFO or symlink is refused, --force or not
    prepare_dir(path.parent)
    if path.is_dir():
        raise L.LedgerError(f"ledger {path} exists but cannot be replaced (a folder)")
    try:  # the real test: create a file where the flushes will
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write the ledger {path}: {exc.strerror or exc}") from None


def _fresh_ledger(cfg: SweepConfig, target: NoteSequence, size: int) -> L.LedgerData:
    from ..store.provenance import provenance, utc_now

    ids, values, seeds, n_total = task_table(cfg)
    attrs = provenance(
        mpi_size=size, config_text=cfg.text, config_source=cfg.source, config_hash=cfg.config_hash(),
        target_name=target.name or cfg.target, target=cfg.target,
        n_tasks_total=n_total, sampler=cfg.sampler.method, sweep_seed=cfg.sampler.seed, n_samples=cfg.sampler.n_samples,
        shard=f"{cfg.shard.index}/{cfg.shard.count}", fixed_params=json.dumps(cfg.fixed_params),
        param_scales=json.dumps({p.name: p.scale for p in cfg.params}),
        rank_by=cfg.output.rank_by,
        target_beat_s=target.beat_s if target.beat_s else float("nan"),
        start_utc=utc_now(), end_utc="", n_runs=1,
        **run_settings(cfg).attrs(),  # backend, model, window, dt, integrator, onsets, burn-in, min_notes
    )
    return L.LedgerData.new(ids, cfg.param_names, values, seeds, attrs=attrs, target=target)


def _resume_ledger(cfg: SweepConfig, path: Path, size: int, force: bool) -> L.LedgerData | None:
    """The existing ledger, checked against ``cfg``; None when --force starts over."""
    from ..store.provenance import utc_now

    try:
        old = L.read_ledger(path)
    except L.LedgerError:
        if force:
            return None
        raise L.LedgerError(f"{path} exists but is not a readable sweep ledger; use another output.ledger, or --force to start it over") from None
    stored, now = old.attrs.get("config_hash"), cfg.config_hash()
    shard = f"{cfg.shard.index}/{cfg.shard.count}"
    if stored != now or old.attrs.get("shard", "0/1") != shard:
        if force:
            return None
        raise ConfigError(
            f"{path} was written by a different sweep (config hash {stored}, shard {old.attrs.get('shard')}; "
            f"this config: {now}, shard {shard}); use another output.ledger, or --force to start it over"
        )
    ids, values, seeds, _ = task_table(cfg)
    if not (np.array_equal(ids, old.task_ids) and np.array_equal(values, old.params) and np.array_equal(seeds, old.seeds)):
        if force:
            return None
        raise L.LedgerError(f"{path}: stored task table differs from this config's (another scipy/numpy version?); use --force")
    redo = old.status == TaskStatus.PENDING
    if cfg.scheduler.retry_failed:
        redo |= old.status == TaskStatus.FAILED
    old.reset(np.flatnonzero(redo))
    for key, value in run_settings(cfg).attrs().items():  # ledgers written before the settings were stored
        old.attrs.setdefault(key, value)
    old.attrs.update(mpi_size=size, last_start_utc=utc_now(), end_utc="", n_runs=int(old.attrs.get("n_runs", 1)) + 1)
    return old


def plan(cfg: SweepConfig, *, size: int = 1, force: bool = False) -> L.LedgerData:
    """Everything a run checks before work starts, without writing anything:
    the ledger path, an existing ledger (resume), the target. Returns the ledger
    the run would start from (``pyannow-hpc sweep --dry-run``)."""
    path = Path(cfg.output.ledger)
    _check_writable(path)
    led = _resume_ledger(cfg, path, size, force) if path.exists() else None
    target = led.target if led is not None and led.target is not None else _load_target(cfg)
    return led if led is not None else _fresh_ledger(cfg, target, size)


def describe_plan(cfg: SweepConfig, led: L.LedgerData) -> str:
    """A few lines for --dry-run: what would run, where, over which ranges."""
    c = led.counts()
    lines = [f"{cfg.source}: {len(led)} tasks (shard {cfg.shard.index}/{cfg.shard.count} of "
             f"{led.attrs.get('n_tasks_total', len(led))}, {cfg.sampler.method}, seed {cfg.sampler.seed}), "
             f"backend {cfg.backend}, model {cfg.model}, {cfg.simulation.duration_s:g} s windows from {cfg.simulation.start_s:g} s",
             f"ledger {cfg.output.ledger}: {c['done']} done, {c['failed']} failed, {c['pending']} to run",
             f"target: {led.target.name if led.target is not None else cfg.target} ({len(led.target) if led.target is not None else 0} notes)"]
    for j, p in enumerate(cfg.params):
        col = led.params[:, j]
        lines.append(f"  {p.name:<16} [{p.lower:g}, {p.upper:g}] {p.scale:<6} sampled {col.min():.4g} .. {col.max():.4g}")
    for name, value in cfg.fixed:
        lines.append(f"  {name:<16} fixed at {value:g}")
    return "\n".join(lines)


def _prepare(cfg: SweepConfig, size: int, force: bool, task_fn: TaskFn | None):
    path = Path(cfg.output.ledger)
    led = plan(cfg, size=size, force=force)
    L.remove_stale_temps(path)
    L.write_ledger(path, led)  # proves the path is writable and leaves a ledger from the start
    fn = task_fn if task_fn is not None else PipelineTask(_with_beat(led.target, led.attrs), led.settings())
    return led, fn


class Terminated(SystemExit):
    """SIGTERM during a sweep: rank 0 flushes what it has, then exits 143."""


@contextlib.contextmanager
def _terminate_as_exception(active: bool):
    """Turn SIGTERM into an exception on rank 0, so the ledger gets one last flush
    (Slurm sends SIGTERM, then SIGKILL KillWait seconds later)."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        raise Terminated(128 + signum)

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _warm_up(cfg: SweepConfig) -> None:
    """Import what the first task would (backend, native library, onsets, metrics)."""
    try:
        from .. import pipeline  # noqa: F401
        from ..music import metrics  # noqa: F401
        from ..worm import backend_module, onsets  # noqa: F401
        import mir_eval  # noqa: F401  (0.3 s of scipy.stats, imported lazily by metrics)

        backend_module(cfg.backend)
    except Exception:  # noqa: BLE001  a real problem shows up, with its message, in the tasks
        pass


def _render_report(cfg: SweepConfig, log, progress: bool) -> None:
    """The one place a sweep calls the reporter (written separately; optional)."""
    try:
        from ..report.render import render
    except ImportError:
        log("report skipped: pyannow_hpc.report.render is not available in this install")
        return
    out = render(cfg.output.ledger, cfg.report_dir, top_k=cfg.output.top_k, progress=progress)
    log(f"report: {out}")


def run_sweep(
    cfg: SweepConfig,
    *,
    comm=None,
    task_fn: TaskFn | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> SweepSummary:
    """Run (or resume) the sweep described by ``cfg`` on every rank of ``comm``."""
    comm = comm or world()
    rank, size = comm.Get_rank(), comm.Get_size()
    log = log or (lambda msg: print(f"{rank_prefix(comm) if rank else ''}{msg}", file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    if rank != 0 and task_fn is None:
        _warm_up(cfg)  # overlaps with rank 0's planning instead of delaying the first task
    # rank 0 keeps the ledger; the others get the task function (or rank 0's error)
    led, fn = on_root(comm, _prepare, cfg, size, force, task_fn, share=lambda prepared: (None, prepared[1]))
    isolate, timeout_s = cfg.isolate_tasks, cfg.scheduler.task_timeout_s
    if isolate and task_fn is None:
        from ..worm import BACKENDS
        from .isolation import preload

        preload(["pyannow_hpc.pipeline", "pyannow_hpc.music.metrics", "mir_eval", "pyannow_hpc.worm.onsets", BACKENDS[cfg.backend]])
    execute = functools.partial(run_isolated if isolate else run_task, fn, timeout_s=timeout_s)
    # in-process chunks go through the task's batch entry (one threaded native call per chunk)
    execute_chunk = None if isolate else functools.partial(run_chunk, fn, timeout_s=timeout_s)
    rank0_works = cfg.scheduler.rank0_works
    if rank0_works == "auto":
        rank0_works = size <= RANK0_WORKS_UP_TO
    chunk_max = cfg.scheduler.chunk_size  # 0: adaptive chunks (scheduler.Pace)

    tasks, recorder, n_skipped = [], None, 0
    if rank == 0:
        todo = np.flatnonzero(led.status == TaskStatus.PENDING)
        n_skipped = len(led) - len(todo)
        # a task sees every parameter that differs from the model default: fixed + varied
        tasks = [led.task(int(i)) for i in todo]
        if n_skipped:
            log(f"resuming {cfg.output.ledger}: {n_skipped} of {len(led)} tasks already recorded, {len(tasks)} to run")
        log(f"sweep: {len(tasks)} tasks on {size} rank(s) ({'rank 0 works too' if rank0_works or size == 1 else 'rank 0 coordinates'}), "
            f"backend {cfg.backend}{', isolated' if isolate else ''}")
        recorder = Recorder(led, Path(cfg.output.ledger), cfg.output.flush_every_s, len(tasks), progress)
    error = None
    t_sched = time.perf_counter()
    try:
        with _terminate_as_exception(rank == 0):
            stats = schedule(tasks, execute, comm=comm, on_outcome=recorder, execute_chunk=execute_chunk,
                             on_block=recorder.block if recorder is not None else None,
                             on_summary=recorder.on_summary if recorder is not None else None,
                             chunk_max=chunk_max, rank0_works=rank0_works)
    except PyannowError as exc:  # rank 0's ledger write failed: workers are drained; still meet them below
        error, stats = exc, RankStats()
    except BaseException:
        # SIGTERM (Slurm's time limit, scancel), Ctrl-C, a bug: keep what came back
        if recorder is not None and recorder.dirty:
            try:
                recorder.flush()
            except Exception:  # noqa: BLE001  the last good flush is still on disk
                pass
            c = recorder.led.counts()
            log(f"stopped: {c['done']} done, {c['failed']} failed, {c['pending']} pending in {cfg.output.ledger}; "
                "run the same command to resume")
        raise
    finally:
        if recorder is not None:
            recorder.close()

    sched_s = time.perf_counter() - t_sched
    idle_barrier(comm)
    # everyone's totals: what each rank did, summed; the best loss, minimised
    sums = comm.allreduce(np.array([stats.done, stats.failed, stats.busy_s, stats.loss_sum]), op=reduce_op(comm, "sum"))
    best = comm.allreduce(stats.best_loss, op=reduce_op(comm, "min"))
    wall = time.perf_counter() - t0
    if rank != 0:
        log(f"ran {stats.done + stats.failed} tasks ({stats.failed} failed), busy {stats.busy_s:.2f} s of {sched_s:.2f} s scheduling")
    done, failed = int(sums[0]), int(sums[1])
    summary = SweepSummary(cfg.output.ledger, len(tasks) + n_skipped, n_skipped, done, failed, float(best),
                           float(sums[3] / done) if done else math.nan, wall, sched_s, float(sums[2]), size)
    # rank 0's epilogue (a ledger error from the run, the last flush, the report)
    # fails every rank with its error, or none; every rank gets the final summary
    return on_root(comm, _finish, cfg, led, recorder, summary, error, log, progress)


def _finish(cfg: SweepConfig, led: L.LedgerData, recorder: Recorder, summary: SweepSummary,
            error: BaseException | None, log, progress: bool) -> SweepSummary:
    """Rank 0, after the last task: the final flush, the summary line, the report;
    returns ``summary`` with the whole ledger's failure count and first errors."""
    from ..store.failures import first_errors
    from ..store.provenance import utc_now

    if error is not None:  # the ledger write that failed mid-run (workers were drained)
        raise error
    if not np.any(led.status == TaskStatus.PENDING):
        led.attrs["end_utc"] = utc_now()
    recorder.flush()
    c = led.counts()
    s = summary = dataclasses.replace(summary, ledger_failed=c["failed"], first_errors=first_errors(led))
    log(f"sweep done: {s.done} ok, {s.failed} failed this run ({c['done']} done, {c['failed']} failed, "
        f"{c['pending']} pending in the ledger); best onset_loss {_fmt(s.best_loss)}, mean {_fmt(s.mean_loss)}; "
        f"{s.wall_s:.2f} s wall ({s.schedule_s:.2f} s scheduling, tasks busy {s.busy_s:.2f} s over {s.size} rank(s)), "
        f"ledger flushes {recorder.flush_s:.3f} s -> {cfg.output.ledger}")
    log(_best_ranked_line(cfg, led))
    if cfg.output.report and cfg.shard.count > 1:
        # one shard's report would show a fraction of the sweep: the merge
        # step (scripts/slurm/merge.sbatch) renders the whole one
        log(f"report skipped for shard {cfg.shard.index}/{cfg.shard.count}: run `pyannow-hpc report` on the merged ledger")
    elif cfg.output.report:
        _render_report(cfg, log, progress)
    return summary


def _best_ranked_line(cfg: SweepConfig, led: L.LedgerData) -> str:
    """The sweep's best point by its ranking score (not onset_loss, which silence wins), with its nulls."""
    from ..report.tables import rank_label, rank_tasks

    n_notes = np.array([len(o) for o in led.onsets_s])
    best = rank_tasks(led.metrics, led.status, cfg.output.rank_by, 1, n_notes, cfg.output.min_notes)
    if not len(best):
        return "best by rank score: no done task"
    r, m = int(best[0]), led.metrics
    get = lambda k: float(m[k][r]) if k in m else math.nan  # noqa: E731
    return (f"best by {cfg.output.rank_by} ({rank_label(cfg.output.rank_by, cfg.output.min_notes)}): task "
            f"{int(led.task_ids[r])}, {int(n_notes[r])} notes, F1 (mir_eval one-to-one) {get('f1_mireval'):.3f}, "
            f"z vs its own shifts {get('shift_z'):+.2f}, uniform chance {get('uniform_mean'):.3f}, "
            f"best metronome at its count {get('metronome_f1'):.3f}")


def replace_output(cfg: SweepConfig, ledger: str) -> SweepConfig:
    """``cfg`` writing to another ledger (the CLI's ``--out``)."""
    return dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=ledger))
