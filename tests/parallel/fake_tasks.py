"""Task functions for scheduler tests: cheap, deterministic, and ones that fail
on purpose. Importable by child processes and `--task fake_tasks:NAME` when
tests/parallel is on PYTHONPATH."""
from __future__ import annotations

import math
import os
import signal
import time

import numpy as np

from pyannow_hpc.parallel.isolation import Task, TaskResult
from pyannow_hpc.errors import OutputError, SimulationError
from pyannow_hpc.store.ledger import METRIC_KEYS


def quick(task: Task) -> TaskResult:
    """Results depend on params and seed only (never on the rank)."""
    rng = np.random.default_rng(task.seed)
    n = 3 + task.task_id % 5
    onsets = np.sort(rng.uniform(0.0, 10.0, n))
    pitches = rng.integers(24, 120, n)
    x = np.array(sorted(task.params.items()), dtype=object)[:, 1].astype(float)
    metrics = {k: float(np.sum(np.sin(x * (i + 1))) + rng.random()) for i, k in enumerate(METRIC_KEYS)}
    metrics["onset_loss"] = float(np.sum(np.abs(x)) * 1e-3 + rng.random())
    return TaskResult(metrics, onsets, pitches)


def slow(task: Task) -> TaskResult:
    time.sleep(float(os.environ.get("FAKE_TASK_SLEEP_S", "0.05")))
    return quick(task)


def empty(task: Task) -> TaskResult:
    """No work at all: what the scheduler costs by itself."""
    return TaskResult({"onset_loss": 0.0})


def faulty(task: Task) -> TaskResult:
    """Task id k % 8: 1 raises, 2 SimulationError, 3 NaN metric, 4 hangs,
    5 os._exit (isolated only), 6 SIGSEGV (isolated only); others succeed."""
    kind = task.task_id % 8
    if kind == 1:
        raise ValueError(f"injected failure in task {task.task_id}")
    if kind == 2:
        raise SimulationError("membrane potential blew up to NaN at t=12.5 ms")
    if kind == 3:
        res = quick(task)
        return TaskResult({**res.metrics, "onset_loss": math.nan}, res.onsets_s, res.pitches)
    if kind == 4:
        while True:  # Python-level hang: SIGALRM or the child's kill ends it
            time.sleep(0.01)
    if kind == 5:
        os._exit(7)
    if kind == 6:
        os.kill(os.getpid(), signal.SIGSEGV)
    return quick(task)


class FaultyInProcess:
    """:func:`faulty` without the kinds that would kill the calling process (5, 6)."""

    def __call__(self, task: Task) -> TaskResult:
        return faulty(task) if task.task_id % 8 not in (5, 6) else quick(task)


def cleans_up_on_sigterm(task: Task) -> TaskResult:
    """Hangs; on SIGTERM writes ``<params['marker']>`` (its 'cleanup') and exits,
    or ignores SIGTERM when ``params['stubborn']``."""
    marker = task.params["marker"]

    def on_term(signum, frame):
        with open(marker, "w") as fh:
            fh.write("cleaned up")
        os._exit(143)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if task.params.get("stubborn") else on_term)
    time.sleep(60)
    raise AssertionError("not stopped")


def disk_full_after(n_writes: int, write):
    """``write`` (the ledger writer) that works ``n_writes`` times, then fails as a full disk would."""
    calls = []

    def flaky(path, led):
        calls.append(1)
        if len(calls) > n_writes:
            raise OutputError(f"no space left on device while writing {path}")
        return write(path, led)

    return flaky
