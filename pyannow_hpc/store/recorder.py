"""Rank 0's side of a sweep: outcomes into the in-memory ledger, batched
copy-on-write flushes, and the progress line (tqdm on stderr)."""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from . import ledger as L
from .tasks import TaskStatus

_DONE = int(TaskStatus.DONE)  # a plain int: the enum's attribute lookup is slow in a hot path

#: a flush may take at most this share of the run: the interval grows with the write time
FLUSH_SHARE = 0.1


def fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "n/a"


class Recorder:
    """Rank 0: outcomes -> ledger rows, batched copy-on-write flushes, progress line."""

    def __init__(self, led: L.LedgerData, path: Path, flush_every_s: float, n_todo: int, progress: bool) -> None:
        self.led, self.path = led, path
        self.row = {int(t): i for i, t in enumerate(led.task_ids)}
        self.interval = flush_every_s
        self.last_flush = time.perf_counter()
        self.dirty = 0
        self.flush_s = 0.0
        self.best = math.inf
        self.failed = 0
        self.summary = None
        self.bar = None
        if progress and n_todo:
            from tqdm import tqdm

            # in a batch log (not a terminal) one update per 30 s, not ten per second
            every_s = 0.1 if sys.stderr.isatty() else 30.0
            self.bar = tqdm(total=n_todo, unit="task", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
                            mininterval=every_s, maxinterval=max(10.0, every_s))

    def __call__(self, out) -> None:
        """Record one outcome (``parallel.isolation.Outcome``; the store does not import
        the scheduler's side, so it is typed by what it uses: task_id, status,
        metrics, error, onsets_s, pitches)."""
        self.led.record(self.row[out.task_id], out.status, out.metrics, out.error, out.onsets_s, out.pitches)
        if out.status == TaskStatus.DONE:
            self.best = min(self.best, out.metrics.get("onset_loss", math.inf))
        else:
            self.failed += 1
        self._recorded(1)

    def block(self, blk) -> None:
        """Record a worker's whole chunk (``parallel.outcome_block.OutcomeBlock``) at once.

        Python lists rather than numpy reductions for the bookkeeping: a chunk is
        1..~100 outcomes, where a ufunc call costs more than the loop."""
        rows = [self.row[t] for t in blk.task_ids.tolist()]
        self.led.record_block(rows, blk.status, blk.metric_columns(), blk.errors, blk.notes(blk.onsets_s),
                              blk.notes(blk.pitches))
        done = [s == _DONE for s in blk.status.tolist()]
        if "onset_loss" in blk.metric_keys:
            losses = blk.metrics[blk.metric_keys.index("onset_loss")].tolist()
            self.best = min([self.best] + [x for x, d in zip(losses, done) if d and x == x])  # x == x: not NaN
        self.failed += done.count(False)
        self._recorded(len(rows))

    def _recorded(self, n: int) -> None:
        self.dirty += n
        if self.bar is not None:
            if self.summary is None:  # until the first allreduce round completes
                self.bar.set_postfix_str(f"best onset_loss {fmt(self.best)}, failed {self.failed}", refresh=False)
            self.bar.update(n)
        if time.perf_counter() - self.last_flush >= self.interval:
            self.flush()

    def on_summary(self, summary) -> None:
        """An allreduce round over all ranks (scheduler.Summary) feeds the progress line."""
        self.summary = summary
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"all ranks: best onset_loss {fmt(summary.best_loss)}, mean {fmt(summary.mean_loss)}, "
                f"failed {summary.failed}", refresh=False)

    def flush(self) -> None:
        t0 = time.perf_counter()
        L.write_ledger(self.path, self.led)
        took = time.perf_counter() - t0
        self.flush_s += took
        self.dirty = 0
        self.last_flush = time.perf_counter()
        self.interval = max(self.interval, took / FLUSH_SHARE)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
