"""Scaling on paper (issue 15, item 6): rank 0's measured costs, fed to a
simulation of the scheduler's protocol with 1,000 and 10,000 ranks.

Measured here, in this process (the machine may be shared, so costs are upper bounds):

- ``a``: rank 0's cost per message besides its outcomes: an MPI self-message
  (isend + Iprobe + recv on COMM_SELF) carrying a worker request, plus the
  pickled reply chunk of tasks;
- ``b``: rank 0's cost per outcome: unpickle + unpack + record into the
  ledger through the sweep's Recorder (bench_sweep's probe, outcomes with 45
  notes and a real task's 21 metrics). Workers send a chunk's outcomes as one
  columnar OutcomeBlock: its fixed cost per block (a line through 16 and 256
  outcomes per block) joins ``a``, and ``b`` is what stays per outcome; the
  protocol before blocks (one packed tuple per outcome, all of it ``b``) is
  simulated beside it;
- ``T``: one real task (10 s window of the seed cell, native, onsets + score);
- the ledger flush cost per task held;
- pycma's ask + tell for one generation (the population optimiser's rank-0 work).

Simulated (a discrete-event model of scheduler.py's protocol: PREFETCH
requests outstanding per worker, rank 0 a single FIFO server taking ``a + k b``
per message of ``k`` outcomes, task times jittered log-normally, the real
``scheduler._chunk`` and ``scheduler.chunk_floor`` choosing the chunks):
parallel efficiency = total task time / (workers x makespan), for the old
fixed cap (chunks <= 16, 1 in the tail), adaptive chunks, and adaptive chunks
with columnar outcome blocks, at 1,000 and
10,000 ranks, for single-set tasks, batched tasks (one task = B sets) and a
population-optimiser generation (lambda sets, then rank 0's CMA update).
"""
from __future__ import annotations

import heapq
import math
import pickle
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

from _harness import Result, best_time

HERE = Path(__file__).resolve().parent


def message_cost_s(chunk: int = 16, repeats: int = 2000) -> float:
    """Rank 0's per-message work apart from outcomes: a request in, a pickled chunk of tasks out."""
    from mpi4py import MPI

    from pyannow_hpc.parallel.isolation import Task

    comm = MPI.COMM_SELF
    tasks = [Task(i, {"g_egl19": 1.0 + i, "v_half_ca_mV": -20.0, "tau_ca_ms": 15.0}, i) for i in range(chunk)]
    status = MPI.Status()

    def one():
        req = comm.isend([], dest=0, tag=1)  # the worker's request (empty: outcomes are b's)
        while not comm.Iprobe(source=MPI.ANY_SOURCE, tag=1, status=status):
            pass
        comm.recv(source=status.Get_source(), tag=1)
        req.wait()
        rep = comm.isend((0, tasks), dest=0, tag=2)  # the reply; its receive happens on a worker
        comm.recv(source=0, tag=2)
        rep.wait()

    return best_time(one, repeat=3, number=repeats)


def scatter_cost_s(chunk: int = 10, repeats: int = 2000) -> float:
    """Rank 0's opening scatter, per worker: pop its first chunk off the queue and pickle it
    (what ``comm.scatter`` does per destination before MPI moves the bytes)."""
    from pyannow_hpc.parallel.isolation import Task
    from pyannow_hpc.parallel.scheduler import _chunk

    tasks = [Task(i, {"g_egl19": 1.0 + i, "v_half_ca_mV": -20.0, "tau_ca_ms": 15.0}, i) for i in range(chunk)]

    def one():
        queue = deque(tasks)
        pickle.dumps((0, _chunk(queue, 1, 0, chunk)), pickle.HIGHEST_PROTOCOL)

    return best_time(one, repeat=3, number=repeats)


def task_cost_s() -> float:
    """One real sweep task: 10 s of the seed cell, native, onsets and score."""
    from pyannow_hpc.music.target import load_target
    from pyannow_hpc.pipeline import evaluate_params

    target = load_target(None).window(0.0, 10.0)
    fn = lambda: evaluate_params({"g_egl19": 9.0}, target=target, model="pyannow", duration_s=10.0)  # noqa: E731
    fn()
    return best_time(fn, repeat=3)


def cma_generation_s(popsize: int, dim: int = 5) -> float:
    import cma

    es = cma.CMAEvolutionStrategy(np.zeros(dim), 0.5, {"popsize": popsize, "verbose": -9, "seed": 1})

    def gen():
        xs = es.ask()
        es.tell(xs, [float(np.sum(np.square(x))) for x in xs])

    gen()
    return best_time(gen, repeat=3)


def simulate(n_workers: int, n_tasks: int, task_s: float, a_s: float, b_s: float, *, adaptive: bool,
             outcomes_per_task: int = 1, jitter: float = 0.3, latency_s: float = 5e-6, seed: int = 0,
             scatter_s: float | None = None) -> float:
    """Parallel efficiency of one schedule (rank 0 only coordinates), by discrete events.

    ``scatter_s``: rank 0's cost per worker of the opening scatter (scheduler.py: every
    worker's first chunk in one collective, a binomial tree ``ceil(log2 P)`` latencies
    deep); None: the opening requests are messages like any other (before)."""
    from pyannow_hpc.parallel.scheduler import PREFETCH, _chunk, chunk_floor

    rng = np.random.default_rng(seed)
    cost = task_s * rng.lognormal(-jitter ** 2 / 2, jitter, n_tasks)
    queue = deque(range(n_tasks))
    floor = chunk_floor(n_workers, a_s, b_s * outcomes_per_task, task_s) if adaptive else 1
    chunk_max = 0 if adaptive else 16
    server_free = 0.0
    busy_until = np.zeros(n_workers)
    end = 0.0
    if scatter_s is None:
        events = [(latency_s, w, 0) for w in range(n_workers) for _ in range(PREFETCH)]  # (arrival, worker, outcomes)
    else:
        server_free = n_workers * scatter_s
        start = server_free + latency_s * math.ceil(math.log2(n_workers + 1))
        events = [(start + latency_s, w, 0) for w in range(n_workers) for _ in range(PREFETCH - 1)]
        for w in range(n_workers):
            chunk = _chunk(queue, n_workers, chunk_max, 1) if queue else []
            busy_until[w] = start + float(cost[chunk].sum())
            if chunk:
                events.append((busy_until[w] + latency_s, w, len(chunk)))
    heapq.heapify(events)
    while events:
        t, w, k = heapq.heappop(events)
        start = max(t, server_free)
        server_free = start + a_s + k * outcomes_per_task * b_s
        if not queue:
            end = max(end, server_free)
            continue  # a None reply: the worker counts it and stops when all are back
        chunk = _chunk(queue, n_workers, chunk_max, floor)
        begin = max(server_free + latency_s, busy_until[w])
        busy_until[w] = begin + float(cost[chunk].sum())
        heapq.heappush(events, (busy_until[w] + latency_s, w, len(chunk)))
    makespan = max(end, float(busy_until.max()))
    return float(cost.sum()) / (n_workers * makespan)


def run(quick: bool = False) -> list[Result]:
    sys.path.insert(0, str(HERE))
    from bench_sweep import _ledger_write_cost, rank0_block_costs, rank0_tuple_cost_us

    a = message_cost_s(repeats=500 if quick else 2000)
    b_tuples = rank0_tuple_cost_us(n=1024 if quick else 8192) * 1e-6
    block_s, b = rank0_block_costs(n=2048 if quick else 8192)
    T = task_cost_s()
    flush_s, _ = _ledger_write_cost(1000 if quick else 10000)
    flush_per_task = flush_s / (1000 if quick else 10000)
    out = [
        Result("rank 0 per message, besides outcomes (a)", a * 1e6, "us"),
        Result("rank 0 per outcome, one packed tuple each (b before blocks)", b_tuples * 1e6, "us"),
        Result("rank 0 per outcome block, fixed part (joins a)", block_s * 1e6, "us"),
        Result("rank 0 per outcome inside a block (b)", b * 1e6, "us", baseline=b_tuples * 1e6,
               baseline_name="one packed tuple per outcome"),
        Result("one real task T (10 s window, native, scored)", T * 1e3, "ms"),
        Result("rank 0 service rate, tuples in chunks of 16: 1/(a/16 + b before)", 1.0 / (a / 16 + b_tuples), "tasks/s"),
        Result("rank 0 service rate, blocks of 16: 1/((a + block)/16 + b)", 1.0 / ((a + block_s) / 16 + b), "tasks/s"),
        Result("rank 0 saturates (rho = 1), single-set tasks: T/(a + block + b) at chunk 1", T / (a + block_s + b), "ranks"),
        Result("  ... with any chunk size, tuples: T/b before blocks (the per-outcome ceiling)", T / b_tuples, "ranks"),
        Result("  ... with any chunk size, blocks: T/b", T / b, "ranks"),
        Result("ledger flush, per task held", flush_per_task * 1e6, "us"),
    ]
    scatter_s = scatter_cost_s(repeats=500 if quick else 2000)
    out.append(Result("rank 0's opening scatter, per worker (first chunk popped + pickled)", scatter_s * 1e6, "us"))
    protocols = (  # (adaptive, a, b, opening scatter, label)
        (False, a, b_tuples, None, "fixed chunks <= 16, tuples, opening requests (before)"),
        (True, a, b_tuples, None, "adaptive chunks, tuples"),
        (True, a + block_s, b, scatter_s, "adaptive chunks, outcome blocks, opening scatter (now)"),
    )
    runs = (10,) if quick else (40, 400)  # tasks per rank: a short sweep and a long one
    for n in (1000, 10000):
        for label, B, lam in (("single-set tasks", 1, None), ("batched tasks, B = 16 sets", 16, None),
                              ("CMA generation, lambda = 4 x ranks", 1, 4 * n)):
            cma_s = cma_generation_s(lam) if lam else 0.0
            for per_rank in (runs if lam is None else (lam // n,)):
                n_tasks = n * per_rank
                for adaptive, a_s, b_s, scatter, how in protocols:
                    e = simulate(n, n_tasks, T * B, a_s, b_s, adaptive=adaptive, outcomes_per_task=B,
                                 scatter_s=scatter)
                    if lam:  # the generation ends with rank 0's ask + tell while the workers wait
                        makespan = n_tasks * T / (n * e)
                        e = n_tasks * T / (n * (makespan + cma_s))
                    tag = "" if lam else f", {per_rank} tasks ({per_rank * B} sets) per rank"
                    out.append(Result(f"efficiency at {n} ranks, {label}{tag}, {how}", e * 100, "%"))
            if lam:
                out.append(Result(f"  rank 0's CMA ask+tell for lambda = {lam}", cma_s * 1e3, "ms"))
    return out


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r.line())
