"""Dynamic task scheduling over MPI ranks (mpi4py point-to-point, tags).

Protocol.  Every worker rank keeps ``PREFETCH`` requests outstanding: its
first chunk comes in one ``scatter`` from rank 0 (the answer to a first request
it counts as sent), it opens with ``PREFETCH - 1`` empty requests, and after
each chunk it sends the chunk's outcomes *with* its next request.  Rank 0 answers every request with a chunk
(guided self-scheduling: big chunks early, single tasks at the end, so uneven
task costs do not leave ranks idle) or ``None`` when the queue is empty.  A
worker has sent exactly ``PREFETCH + chunks received`` requests when it stops,
which is how rank 0 knows it is gone; no extra "done" message, no barrier.

Because a worker always holds the next chunk while it computes, rank 0 may
compute tasks too (``rank0_works``) without stalling anyone: its replies wait
at most one task, and the worker meanwhile works on its prefetched chunk. The
last task is never handed out as a prefetch when rank 0 works: the prefetch is
answered with ``None`` (which the worker simply counts), so two long tasks on
two ranks run one per rank instead of both on the worker.

Chunk sizes adapt to the coordinator's own cost (``chunk_max=0``): rank 0
measures what one message costs it besides its outcomes (``a``: receive,
reply, bookkeeping), what one outcome costs (``b``: unpack + record) and how
long tasks take (``T``, from the outcomes), and never hands out chunks smaller
than the ``k`` that keeps its load ``n·(a/k + b)/T`` under :data:`RHO_TARGET`
-- also in the tail, where guided scheduling alone drops to single tasks and
the message rate peaks -- unless that is more than an equal share of the tasks
left (load balance wins at the very end). With few ranks ``k`` is 1 (nothing changes).
The per-outcome term ``n·b/T`` is a ceiling no chunk size removes (docs/sweep.md),
so workers send a chunk's outcomes as one columnar
:class:`~.outcome_block.OutcomeBlock`, which rank 0 records with a few array
stores: ``b`` is what stays per outcome, the block's fixed cost joins ``a``.

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

import numpy as np

from ..store.tasks import Task, TaskStatus
from .isolation import Outcome
from .outcome_block import OutcomeBlock

TAG_REQUEST = 0x5E1
TAG_WORK = 0x5E2
PREFETCH = 2
#: how long rank 0 polls for a worker's request before it starts a task of its own (_incoming)
INCOMING_POLL_S = 0.0002
#: a lone rank's chunk for execute_chunk: enough sets to keep a few cores' batch
#: threads busy, few enough that progress and flushes stay frequent
LONE_RANK_CHUNK = 8
RHO_TARGET = 0.9  # the coordinator's busy share the adaptive chunk floor aims at (prefetch hides queueing below 1)
ADAPTIVE_CAP = 1024  # the largest adaptive chunk (rank 0 saturated by outcomes alone)
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
        if out.status == TaskStatus.DONE:
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


@dataclass(frozen=True)
class Summary:
    """Every rank's totals at one allreduce round: what the progress line shows."""

    round: int
    done: int
    failed: int
    best_loss: float
    mean_loss: float


class _Rounds:
    """Periodic non-blocking allreduces (``Iallreduce``) of every rank's RankStats.

    Collectives must be posted in the same order on every rank, but ranks here
    run freely. So rank 0 *announces* round k by stamping k on every reply it
    sends; a worker posts each announced round it has not posted yet as soon as
    a reply shows it. Rank 0 stops announcing once any worker has finished;
    every worker's last reply carries the last round, so all ranks post the same
    rounds, nobody blocks while computing, and the rounds complete at the end.
    """

    def __init__(self, comm) -> None:
        from mpi4py import MPI

        self.comm, self.MPI = comm, MPI
        self.posted = 0
        self.pending: list = []  # (round, requests, sum buffer, min buffer)
        self.latest: Summary | None = None

    def post_until(self, k: int, stats: "RankStats") -> None:
        while self.posted < k:
            self.posted += 1
            send_sum = np.array([stats.done, stats.failed, stats.loss_sum], dtype=np.float64)
            send_min = np.array([stats.best_loss], dtype=np.float64)
            got_sum, got_min = np.empty(3), np.empty(1)
            reqs = [self.comm.Iallreduce(send_sum, got_sum, op=self.MPI.SUM),
                    self.comm.Iallreduce(send_min, got_min, op=self.MPI.MIN)]
            self.pending.append((self.posted, reqs, (send_sum, send_min), got_sum, got_min))

    def poll(self) -> Summary | None:
        """The newest completed round (rounds complete in order), else None."""
        new = None
        while self.pending and self.MPI.Request.Testall(self.pending[0][1]):
            k, _, _, got_sum, got_min = self.pending.pop(0)
            done = int(got_sum[0])
            new = self.latest = Summary(k, done, int(got_sum[1]), float(got_min[0]),
                                        float(got_sum[2] / done) if done else math.nan)
        return new

    def finish(self) -> Summary | None:
        back, last = _Backoff(), None
        while self.pending:
            last = self.poll() or last
            if self.pending:
                back.sleep()
        return last


class Pace:
    """Running means of rank 0's cost per message (``a``), per outcome (``b``) and of task time ``T``."""

    def __init__(self) -> None:
        self.msg_s = self.out_s = self.task_s = 0.0
        self.n_msg = self.n_out = self.n_task = 0

    def message(self, other_s: float, outcomes_s: float, n_outcomes: int) -> None:
        self.n_msg += 1
        self.msg_s += other_s
        self.n_out += n_outcomes
        self.out_s += outcomes_s

    def task(self, wall_s: float, n: int = 1) -> None:
        """``n`` tasks that took ``wall_s`` in all."""
        self.n_task += n
        self.task_s += wall_s

    def poll_s(self) -> float:
        """Rank 0's poll before a task of its own (:func:`_incoming`): 1% of the mean
        task time, at most INCOMING_POLL_S (0 until a task is measured)."""
        return min(INCOMING_POLL_S, 0.01 * self.task_s / self.n_task) if self.n_task else 0.0

    def floor(self, n_active: int, rho: float = RHO_TARGET) -> int:
        """Smallest chunk keeping rank 0's load ``n (a/k + b) / T`` <= ``rho`` (1 until measured)."""
        if not (self.n_msg and self.n_task):
            return 1
        return chunk_floor(n_active, self.msg_s / self.n_msg, self.out_s / max(self.n_out, 1),
                           self.task_s / self.n_task, rho)


def chunk_floor(n_active: int, a_s: float, b_s: float, task_s: float, rho: float = RHO_TARGET) -> int:
    """``k`` with ``n_active (a_s / k + b_s) / task_s <= rho``; :data:`ADAPTIVE_CAP` when no k does.

    1 while single tasks would not saturate rank 0 (load <= 1 at k = 1): prefetch hides a
    coordinator that is merely busy, and single tasks in the tail balance the ranks best."""
    if n_active * (a_s + b_s) <= task_s:
        return 1
    spare = rho * task_s - n_active * b_s
    if spare <= 0:
        return ADAPTIVE_CAP
    return int(min(ADAPTIVE_CAP, max(1, math.ceil(n_active * a_s / spare))))


def _chunk(queue: deque, n_active: int, chunk_max: int, floor: int = 1) -> list[Task]:
    """Guided self-scheduling: a share of what is left, between 1 and chunk_max, at least ``floor``
    (``chunk_max=0``: adaptive, up to :data:`ADAPTIVE_CAP`)."""
    guided = math.ceil(len(queue) / (2 * PREFETCH * n_active))
    if chunk_max <= 0:  # the floor, but never more than an equal share of what is left (balance first)
        k = max(1, min(16, guided), min(floor, math.ceil(len(queue) / n_active)))
    else:
        k = max(1, min(chunk_max, guided))
    return [queue.popleft() for _ in range(min(k, len(queue)))]


def _incoming(comm, any_source: int, status, budget_s: float) -> bool:
    """Whether a worker's request turns up within ``budget_s`` of polling.

    Rank 0 asks before it starts a task of its own. MPICH (the mpich wheel)
    moves messages only inside MPI calls: a request sent while rank 0 was busy
    with its own task can take several progress calls to surface, and with one
    Iprobe rank 0 missed it, started another task, and left that worker idle for
    a whole task (measured: 8 tasks of 45 ms on 2 ranks took 234 ms, ideal 180;
    with a 0.2 ms poll 184 ms; 32 tasks 872 -> 746 ms, ideal 720)."""
    deadline = time.perf_counter() + budget_s
    while True:
        if comm.Iprobe(source=any_source, tag=TAG_REQUEST, status=status):
            return True
        if time.perf_counter() >= deadline:
            return False


def _wait_for_all(comm, back: _Backoff) -> None:
    """Until every rank has reached the scheduler, sleeping between tests: a blocking
    collective would spin the core while another rank is still preparing, and on
    rank 0 hold off SIGTERM (Python runs signal handlers between calls, not inside one)."""
    arrived = comm.Ibarrier()
    while not arrived.Test():
        back.sleep()
    back.reset()


def _worker(comm, run_chunk: Callable[[Sequence[Task]], list[Outcome]]) -> RankStats:
    stats, back, rounds = RankStats(), _Backoff(), _Rounds(comm)
    _wait_for_all(comm, back)
    reply = comm.scatter(None, root=0)  # the answer to a first request nobody had to send
    sends = [comm.isend(None, dest=0, tag=TAG_REQUEST) for _ in range(PREFETCH - 1)]  # None: no outcomes yet
    outstanding = PREFETCH
    while outstanding:
        if reply is None:
            while not comm.Iprobe(source=0, tag=TAG_WORK):
                back.sleep()
            back.reset()
            reply = comm.recv(source=0, tag=TAG_WORK)
        (announced, chunk), reply = reply, None
        outstanding -= 1
        rounds.post_until(announced, stats)
        rounds.poll()
        if chunk is None:
            continue
        outs = run_chunk(chunk)
        for out in outs:
            stats.add(out)
        sends = [r for r in sends if not r.Test()]
        # the chunk's outcomes in columns: rank 0 records them with a few array stores
        sends.append(comm.isend(OutcomeBlock.from_outcomes(outs).pack(), dest=0, tag=TAG_REQUEST))
        outstanding += 1
    for r in sends:
        r.wait()
    rounds.finish()
    return stats


def _coordinator(comm, tasks, execute, on_outcome, on_block, on_summary, chunk_max: int, rank0_works: bool,
                 round_s: float) -> RankStats:
    from mpi4py import MPI

    size = comm.Get_size()
    stats, back = RankStats(), _Backoff()
    queue = deque(tasks)
    requests, chunks = [0] * size, [0] * size
    finished = {0}
    n_active = size if rank0_works else size - 1
    sends = []
    error: BaseException | None = None
    rounds, announced, next_round = _Rounds(comm), 0, time.perf_counter() + round_s
    pace = Pace()

    def deliver(record, item, wall_s: float, n: int) -> None:
        nonlocal error
        pace.task(wall_s, n)
        if error is None:
            try:
                record(item)
            except BaseException as exc:  # e.g. the ledger's disk is full: stop handing out work
                error = exc
                queue.clear()

    # Every worker's first chunk goes out in one scatter, as the answer to a first
    # request each worker counts as sent: served by messages, the opening PREFETCH
    # requests of P workers cost rank 0 P*PREFETCH*a before the last worker starts
    # (0.9 s at 10,000 ranks, a run's whole length when tasks are short).
    _wait_for_all(comm, back)
    first = [None] + [_chunk(queue, n_active, chunk_max, 1) if queue else None for _ in range(1, size)]
    comm.scatter([None] + [(announced, chunk) for chunk in first[1:]], root=0)
    for src in range(1, size):
        requests[src], chunks[src] = 1, int(first[src] is not None)
    status = MPI.Status()
    while len(finished) < size or (rank0_works and queue):
        served = False
        if len(finished) == 1 and time.perf_counter() >= next_round:  # no worker gone yet
            announced += 1
            rounds.post_until(announced, stats)
            next_round = time.perf_counter() + round_s
        if rounds.poll() is not None:
            on_summary(rounds.latest)
        while comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG_REQUEST, status=status):
            t0 = time.perf_counter()
            src = status.Get_source()
            packed = comm.recv(source=src, tag=TAG_REQUEST)
            requests[src] += 1
            t1 = time.perf_counter()
            n_outs = 0
            if packed is not None:
                block = OutcomeBlock.unpack(packed)
                n_outs = len(block)
                deliver(on_block, block, float(block.wall_s.sum()), n_outs)
            t2 = time.perf_counter()
            # a worker still holding an unfinished chunk is prefetching: it does not
            # get the last task while rank 0 could run it now (with as few long tasks
            # as ranks, prefetch would otherwise hand every task to one worker)
            in_flight = chunks[src] - max(0, requests[src] - PREFETCH)
            hold_back = rank0_works and in_flight > 0 and len(queue) <= 1
            chunk = _chunk(queue, n_active, chunk_max, pace.floor(n_active)) if queue and not hold_back else None
            sends.append(comm.isend((announced, chunk), dest=src, tag=TAG_WORK))
            if chunk:
                chunks[src] += 1
            elif requests[src] == PREFETCH + chunks[src]:
                finished.add(src)
            served = True
            pace.message((t1 - t0) + (time.perf_counter() - t2), t2 - t1, n_outs)
        sends = [r for r in sends if not r.Test()]
        # rank 0 starts a task of its own only once every worker holds work:
        # otherwise a worker whose first request lands just after would idle a whole task
        if rank0_works and queue and all(requests[1:]) and not _incoming(comm, MPI.ANY_SOURCE, status, pace.poll_s()):
            out = execute(queue.popleft())
            stats.add(out)
            deliver(on_outcome, out, out.wall_s, 1)
        elif served:
            back.reset()
        else:
            back.sleep()
    for r in sends:
        r.wait()
    if rounds.finish() is not None:
        on_summary(rounds.latest)
    if error is not None:
        raise error
    return stats


def schedule(
    tasks: Sequence[Task],
    execute: Callable[[Task], Outcome],
    *,
    comm,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_block: Callable[[OutcomeBlock], None] | None = None,
    on_summary: Callable[[Summary], None] | None = None,
    chunk_max: int = 0,
    rank0_works: bool = True,
    round_s: float = 1.0,
    execute_chunk: Callable[[Sequence[Task]], list[Outcome]] | None = None,
) -> RankStats:
    """Run ``execute`` over ``tasks`` on all ranks of ``comm``; collective.

    ``tasks`` and ``on_outcome`` matter on rank 0 only (other ranks get their
    work by message); ``on_outcome`` sees every outcome, in completion order;
    ``on_summary`` gets every ``round_s`` seconds the allreduced totals of all
    ranks (:class:`Summary`). ``on_block``: takes a worker's whole chunk at once
    (an :class:`~.outcome_block.OutcomeBlock`) where ``on_outcome`` would see its
    outcomes one by one; without it a block is handed to ``on_outcome`` outcome by
    outcome. ``chunk_max``: the largest chunk, or 0 for
    adaptive chunks (see the module docstring). ``execute_chunk``: runs a whole
    chunk at once (one threaded native call for its simulations), used by the
    workers for what they are sent and by a lone rank for runs of
    :data:`LONE_RANK_CHUNK` tasks; rank 0's own tasks beside workers stay one at
    a time (it must keep serving). Returns this rank's :class:`RankStats`.
    """
    size = comm.Get_size()
    run_chunk = execute_chunk or (lambda chunk: [execute(t) for t in chunk])
    if comm.Get_rank() != 0:
        return _worker(comm, run_chunk)
    on_outcome = on_outcome or (lambda out: None)
    if size == 1:
        stats = RankStats()
        step = chunk_max or LONE_RANK_CHUNK
        for i in range(0, len(tasks), step):
            for out in run_chunk(tasks[i:i + step]):
                stats.add(out)
                on_outcome(out)
        return stats
    on_summary = on_summary or (lambda summary: None)
    if on_block is None:
        def on_block(block: OutcomeBlock) -> None:
            for out in block.outcomes():
                on_outcome(out)
    return _coordinator(comm, tasks, execute, on_outcome, on_block, on_summary, max(0, chunk_max), rank0_works,
                        round_s)
