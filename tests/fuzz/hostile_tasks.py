"""Task functions that misbehave in the ways issue 11 lists (for `--task hostile_tasks:NAME`)."""
from __future__ import annotations

import os

from pyannow_hpc.parallel.isolation import Task, TaskResult


def returns_none(task: Task):
    return None


def non_numeric(task: Task) -> TaskResult:
    return TaskResult({"onset_loss": "not a number"})


def exits_7(task: Task) -> TaskResult:
    os._exit(7)


def raises_key_error(task: Task) -> TaskResult:
    raise KeyError(f"no such muscle in task {task.task_id}")


def ok(task: Task) -> TaskResult:
    x = sum(float(v) for v in task.params.values() if isinstance(v, (int, float)))
    return TaskResult({"onset_loss": abs(x) % 1.0, "f1_mireval": 0.5}, [0.1, 0.2], [60, 62])
