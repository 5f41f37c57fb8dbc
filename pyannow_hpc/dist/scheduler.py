"""Dynamic task scheduling over MPI ranks (mpi4py point-to-point, tags).

Protocol.  Every worker rank keeps ``PREFETCH`` requests outstanding: it opens
with ``PREFETCH`` empty requests, and after each chunk it sends the chunk's
outcomes *with* its next request.  Rank 0 answers every request with a chunk
(guided self-scheduling: big chunks early, single tasks at the end, so uneven
task costs do not leave ranks idle) or ``None`` when the queue is empty.  A
worker has sent exactly ``PREFETCH + chunks received`` requests when it stops,
which is how rank 0 knows it is gone; no extra "done" message, no barrier.

Because a worker always holds the next chunk while it computes, rank 0 may
compute tasks too (``rank0_works``) without stalling anyone: its replies wait
at most one task, and the worker meanwhile works on its prefetched chunk.

Waiting uses ``Iprobe`` with a short exponential back-off sleep instead of a
blocking receive: MPICH's blocking calls spin a core at 100%, which on a
shared or oversubscribed node would steal the very CPU the tasks need.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

from ..store.ledger import DONE
from .isolation import Outcome, Task

TAG_REQUEST = 0x5E1
TAG_WORK = 0x5E2
PREFETCH = 2
_SLEEP_MIN_S, _SLEEP_MAX_S = 20e-6, 2e-3


@dataclass
class RankStats:
    """What one rank did; summed over ranks with an allreduce at the end."""

    done: int = 0
    failed: int = 0
    busy_s: float = 0.0
    loss_sum: float = 0.0
    best_loss: float = math.inf

    def add(self, out: Outcome, loss_key: str = "onset_loss") -> None:
        self.busy_s += out.wall_s
        if out.status == DONE:
            self.done += 1
            loss = out.metrics.get(loss_key, math.nan)
            if math.isfinite(loss):
                self.loss_sum += loss
                self.best_loss = min(self.best_loss, loss)
        else:
            self.failed += 1


class _Backoff:
    def __init__(self) -> None:
        self.s = _SLEEP_MIN_S

    def reset(self) -> None:
        self.s = _SLEEP_MIN_S

    def sleep(self) -> None:
        time.sleep(self.s)
        self.s = min(self.s * 2, _SLEEP_MAX_S)


def _chunk(queue: deque, n_active: int, chunk_max: int) -> list[Task]:
    """Guided self-scheduling: a share of what is left, between 1 and chunk_max."""
    k = max(1, min(chunk_max, math.ceil(len(queue) / (2 * PREFETCH * n_active))))
    return [queue.popleft() for _ in range(min(k, len(queue)))]


def _worker(comm, execute: Callable[[Task], Outcome]) -> RankStats:
    stats, back = RankStats(), _Backoff()
    sends = [comm.isend([], dest=0, tag=TAG_REQUEST) for _ in range(PREFETCH)]
    outstanding = PREFETCH
    while outstanding:
        while not comm.Iprobe(source=0, tag=TAG_WORK):
            back.sleep()
        back.reset()
        chunk = comm.recv(source=0, tag=TAG_WORK)
        outstanding -= 1
        if chunk is None:
            continue
        outs = []
        for task in chunk:
            out = execute(task)
            stats.add(out)
            outs.append(out.pack())
        sends = [r for r in sends if not r.Test()]
        sends.append(comm.isend(outs, dest=0, tag=TAG_REQUEST))
        outstanding += 1
    for r in sends:
        r.wait()
    return stats


def _coordinator(comm, tasks: Sequence[Task], execute, on_outcome, chunk_max: int, rank0_works: bool) -> RankStats:
    from mpi4py import MPI

    size = comm.Get_size()
    stats, back = RankStats(), _Backoff()
    queue = deque(tasks)
    requests, chunks = [0] * size, [0] * size
    finished = {0}
    n_active = size if rank0_works else size - 1
    sends = []
    error: BaseException | None = None

    def deliver(out: Outcome) -> None:
        nonlocal error
        if error is None:
            try:
                on_outcome(out)
            except BaseException as exc:  # e.g. the ledger's disk is full: stop handing out work
                error = exc
                queue.clear()

    status = MPI.Status()
    while len(finished) < size or (rank0_works and queue):
        served = False
        while comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=status):
            src = status.Get_source()
            outs = comm.recv(source=src, tag=TAG_REQUEST)
            requests[src] += 1
            for packed in outs:
                deliver(Outcome.unpack(packed))
            chunk = _chunk(queue, n_active, chunk_max) if queue else None
            sends.append(comm.isend(chunk, dest=src, tag=TAG_WORK))
            if chunk:
                chunks[src] += 1
            elif requests[src] == PREFETCH + chunks[src]:
                finished.add(src)
            served = True
        sends = [r for r in sends if not r.Test()]
        # rank 0 starts a task of its own only once every worker holds work:
        # otherwise a worker whose first request lands just after would idle a whole task
        if rank0_works and queue and all(requests[1:]):
            out = execute(queue.popleft())
            stats.add(out)
            deliver(out)
        elif served:
            back.reset()
        else:
            back.sleep()
    for r in sends:
        r.wait()
    if error is not None:
        raise error
    return stats


def schedule(
    tasks: Sequence[Task],
    execute: Callable[[Task], Outcome],
    *,
    comm,
    on_outcome: Callable[[Outcome], None] | None = None,
    chunk_max: int = 16,
    rank0_works: bool = True,
) -> RankStats:
    """Run ``execute`` over ``tasks`` on all ranks of ``comm``; collective.

    ``tasks`` and ``on_outcome`` matter on rank 0 only (other ranks get their
    work by message); ``on_outcome`` sees every outcome, in completion order.
    Returns this rank's :class:`RankStats`.
    """
    size = comm.Get_size()
    if comm.Get_rank() != 0:
        return _worker(comm, execute)
    on_outcome = on_outcome or (lambda out: None)
    if size == 1:
        stats = RankStats()
        for task in tasks:
            out = execute(task)
            stats.add(out)
            on_outcome(out)
        return stats
    return _coordinator(comm, tasks, execute, on_outcome, max(1, chunk_max), rank0_works or size == 1)
