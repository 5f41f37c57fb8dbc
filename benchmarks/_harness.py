"""Benchmark harness: every number is printed as a ratio against a baseline
measured in the same run, never asserted against wall-clock limits.

A benchmark module ``benchmarks/bench_<topic>.py`` defines ``run(quick: bool)
-> list[Result]``; ``benchmarks/run_all.py`` runs them all and prints one table
(and writes ``benchmarks/results.json``).
"""
from __future__ import annotations

import gc
import resource
import time
from dataclasses import asdict, dataclass
from typing import Callable


@dataclass
class Result:
    name: str  # what was measured
    value: float  # the measurement
    unit: str  # "s", "s/sim-s", "MB", "tasks/s", ...
    baseline: float | None = None  # the same quantity for the baseline, same run
    baseline_name: str = ""
    target: str = ""  # the target, in words ("< 0.5 s", ">= 27x")
    met: bool | None = None  # whether the target was met (None: no target)

    @property
    def ratio(self) -> float | None:
        """baseline / value: > 1 means faster (smaller) than the baseline."""
        if self.baseline is None or self.value == 0:
            return None
        return self.baseline / self.value

    def line(self) -> str:
        r = f"{self.ratio:8.1f}x vs {self.baseline_name}" if self.ratio is not None else ""
        t = f"  target {self.target}: {'met' if self.met else 'NOT met'}" if self.target else ""
        return f"{self.name:<48} {self.value:12.4g} {self.unit:<10} {r}{t}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def best_time(fn: Callable[[], object], repeat: int = 3, number: int = 1) -> float:
    """Best-of-``repeat`` wall time of ``number`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux: ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
