"""Run one sweep task so that nothing it does can stop the sweep.

:func:`run_task` runs it in this process: an exception, a NaN blow-up
(:class:`~pyannow_hpc.errors.SimulationError`) or a timeout (SIGALRM, which
interrupts Python code but not a long call inside C) becomes a *failed*
:class:`Outcome` carrying the message.

:func:`run_isolated` runs it in a child process from a ``forkserver`` (a clean
process started once, never a fork of an MPI rank with its threads and network
state) and kills it at the timeout, so a segfault, ``os._exit`` or a hang inside
NEURON or a container runtime also become failed outcomes.  The scheduler
uses it for crash-prone backends (``config.CRASH_PRONE_BACKENDS``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..limits import time_limit
from ..store.tasks import Task, TaskStatus

# Task (task_id, params, seed) is defined with the ledger's row schema in
# store/tasks.py; it is imported here because every task function takes one
__all__ = ["Task", "TaskResult", "Outcome", "TaskFn", "run_task", "run_isolated", "preload"]
DONE, FAILED = TaskStatus.DONE, TaskStatus.FAILED


@dataclass(frozen=True)
class TaskResult:
    """What a task function returns."""

    metrics: Mapping[str, float]
    onsets_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pitches: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))


@dataclass(frozen=True)
class Outcome:
    """A task's fate, as sent back to rank 0 and stored in the ledger."""

    task_id: int
    status: int  # TaskStatus.DONE or TaskStatus.FAILED
    metrics: Mapping[str, float] = field(default_factory=dict)
    onsets_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pitches: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    error: str = ""
    wall_s: float = 0.0

    def pack(self) -> tuple:
        """Plain tuple with raw bytes for the arrays: unpickles ~5x faster than the
        dataclass with its ndarrays (27 -> 6 us measured).  This was the workers'
        wire format, one tuple per outcome; the scheduler now sends a chunk as one
        columnar :class:`~.outcome_block.OutcomeBlock`, and this form stays as the
        per-outcome baseline that benchmarks/bench_sweep.py measures it against."""
        return (self.task_id, int(self.status), tuple(self.metrics.items()), self.onsets_s.tobytes(),
                self.pitches.tobytes(), self.error, self.wall_s)

    @classmethod
    def unpack(cls, t: tuple) -> "Outcome":
        """The inverse of :meth:`pack`.  It skips the frozen dataclass's ``__init__`` (one
        ``object.__setattr__`` per field) and the ``TaskStatus(...)`` call by filling the
        instance's ``__dict__`` directly: 2.3 -> ~1 us per outcome, when this was rank 0's
        per-outcome path (before outcome blocks; docs/sweep.md's scaling model).  The
        fields are exactly ``pack``'s, in order."""
        out = object.__new__(cls)
        out.__dict__.update(task_id=t[0], status=_STATUS[t[1]], metrics=dict(t[2]),
                            onsets_s=np.frombuffer(t[3], dtype=np.float64),
                            pitches=np.frombuffer(t[4], dtype=np.int16), error=t[5], wall_s=t[6])
        return out


#: int -> TaskStatus without the enum's call machinery (Outcome.unpack)
_STATUS = {int(s): s for s in TaskStatus}


TaskFn = Callable[[Task], TaskResult]
#: metrics that must be finite for a task to count as done (a NaN here means
#: the simulation blew up somewhere the backend did not notice)
FINITE_METRICS = ("onset_loss", "f1_mireval")


class TaskTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so a task's ``except Exception`` cannot swallow it."""


def _alarm(timeout_s: float):
    return time_limit(timeout_s, TaskTimeout)


def _failed(task: Task, message: str, t0: float) -> Outcome:
    return Outcome(task.task_id, FAILED, error=message[:2000], wall_s=time.perf_counter() - t0)


class _TaskCalledExit(BaseException):
    """``os._exit`` called by an in-process task (see :func:`_no_process_exit`)."""


@contextlib.contextmanager
def _no_process_exit():
    """While an in-process task runs, ``os._exit(n)`` raises instead of ending the
    rank (and the MPI job) without a word; only in the main thread and only in
    this process (a child forked by the task keeps the real one)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    real, pid = os._exit, os.getpid()

    def trapped(code=0):
        if os.getpid() != pid:
            real(code)
        raise _TaskCalledExit(code)

    os._exit = trapped
    try:
        yield
    finally:
        os._exit = real


def _outcome(task: Task, res, t0: float) -> Outcome:
    """The task's return value as an Outcome; TypeError/ValueError if it is not a TaskResult."""
    if res is None or not hasattr(res, "metrics"):
        raise TypeError(f"task returned {type(res).__name__}, expected a TaskResult")
    metrics = {str(k): float(v) for k, v in dict(res.metrics).items()}
    bad = [f"{k}={metrics[k]}" for k in FINITE_METRICS if k in metrics and not math.isfinite(metrics[k])]
    if bad:
        raise _BlowUp(f"non-finite metric {', '.join(bad)} (blow-up?)")
    return Outcome(
        task.task_id, DONE, metrics,
        np.asarray(res.onsets_s, dtype=np.float64).ravel(), np.asarray(res.pitches, dtype=np.int16).ravel(),
        wall_s=time.perf_counter() - t0,
    )


class _BlowUp(Exception):
    pass


def run_task(fn: TaskFn, task: Task, timeout_s: float = math.inf) -> Outcome:
    """Run ``fn(task)`` here; any failure becomes a failed :class:`Outcome`.

    That includes what the task returns: None or a non-numeric metric is a
    failed task, not an exception in the scheduler that aborts the MPI job.
    """
    t0 = time.perf_counter()
    try:
        with _alarm(timeout_s), _no_process_exit():
            return _outcome(task, fn(task), t0)
    except TaskTimeout:
        return _failed(task, f"TimeoutError: task ran past its {timeout_s:g} s limit", t0)
    except _BlowUp as exc:
        return _failed(task, f"SimulationError: {exc}", t0)
    except _TaskCalledExit as exc:
        return _failed(task, f"SystemExit: task called os._exit({exc.args[0]}) (its process would have exited with status {exc.args[0]})", t0)
    except Exception as exc:  # the point: one bad task must not stop the sweep
        return _failed(task, f"{type(exc).__name__}: {exc}", t0)


def run_chunk(fn: TaskFn, tasks, timeout_s: float = math.inf) -> list[Outcome]:
    """A chunk of tasks here, through ``fn.batch(tasks)`` when the task function has
    one (the sweep's: one native call for the chunk), else one :func:`run_task` each.

    Any failure of the batch (a set that blows up, a bad result, the chunk's
    time limit of ``timeout_s`` per task) reruns the chunk one task at a time, so
    exactly the bad task is marked failed, with its own error.
    """
    batch = getattr(fn, "batch", None)
    if batch is None or len(tasks) < 2:
        return [run_task(fn, t, timeout_s) for t in tasks]
    t0 = time.perf_counter()
    try:
        with _alarm(timeout_s * len(tasks)), _no_process_exit():
            outs = [_outcome(t, r, t0) for t, r in zip(tasks, batch(tasks), strict=True)]
    except (Exception, _TaskCalledExit, TaskTimeout):  # noqa: BLE001  which task it was: the per-task path says
        return [run_task(fn, t, timeout_s) for t in tasks]
    per_task_s = (time.perf_counter() - t0) / len(tasks)
    return [dataclasses.replace(o, wall_s=per_task_s) for o in outs]


_CTX = None
#: imported once by the fork server, so each task's child starts with them loaded
#: (mir_eval alone costs seconds: it imports scipy.stats)
PRELOAD = ["numpy", "pyannow_hpc.parallel.isolation"]


def preload(modules) -> None:
    """Add modules for the fork server to import once (before the first isolated task)."""
    PRELOAD.extend(m for m in modules if m not in PRELOAD)


def _context():
    """The forkserver context, started on first use with :data:`PRELOAD` imported."""
    global _CTX
    if _CTX is None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _CTX = ctx
    return _CTX


def _child(payload: bytes, task: Task, conn) -> None:
    """In the child: unpickle the task function here (an import error becomes the
    task's error message, not a traceback on stderr and "exited with status 1")."""
    try:
        try:
            fn = pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001
            out = _failed(task, f"{type(exc).__name__}: cannot load the task function in the child: {exc}",
                          time.perf_counter())
        else:
            out = run_task(fn, task)
        try:
            conn.send(out)
        except Exception as exc:  # noqa: BLE001  an unpicklable result
            conn.send(_failed(task, f"{type(exc).__name__}: cannot send the task's result: {exc}", time.perf_counter()))
    finally:
        conn.close()


#: seconds a timed-out child gets after SIGTERM before SIGKILL: the C302 and
#: container backends use it to kill their own process group (jNeuroML,
#: NEURON, docker) and remove their task folder; SIGKILL would orphan those
TERM_GRACE_S = 5.0


def _stop(proc) -> None:
    proc.terminate()
    proc.join(TERM_GRACE_S)
    if proc.is_alive():
        proc.kill()
        proc.join()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code} before reporting a result"


def run_isolated(fn: TaskFn, task: Task, timeout_s: float = math.inf) -> Outcome:
    """Run ``fn(task)`` in a child process; crash, hang or exception -> failed Outcome.

    ``fn`` and the task must be picklable (a module-level function or a
    dataclass instance such as :class:`~pyannow_hpc.parallel.pipeline_task.PipelineTask`).
    """
    t0 = time.perf_counter()
    try:
        payload = pickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001
        return _failed(task, f"{type(exc).__name__}: the task function cannot be sent to a child process: {exc}", t0)
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(payload, task, send), daemon=True)
    try:
        proc.start()
    except Exception as exc:
        return _failed(task, f"cannot start child process: {type(exc).__name__}: {exc}", t0)
    send.close()  # our copy: EOF on `recv` as soon as the child dies
    outcome = None
    try:
        wait_s = None if not math.isfinite(timeout_s) else timeout_s
        if recv.poll(wait_s):
            try:
                outcome = recv.recv()
            except (EOFError, OSError):
                outcome = None  # died before sending: described below
        else:
            _stop(proc)
            return _failed(task, f"TimeoutError: task ran past its {timeout_s:g} s limit (child killed)", t0)
    finally:
        recv.close()
    proc.join(5.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if outcome is None:
        return _failed(task, f"SimulationError: task process {_describe_exit(proc.exitcode)}", t0)
    return outcome
