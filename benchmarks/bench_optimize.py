"""The learning loop's cost (issue 16 section 4), as ratios measured in one run.

- seconds per learning-loop iteration (10 s of boyle2008 worm + loss + gradient
  + Adam update, one core): forward mode (jacfwd, one tangent per free value)
  and reverse mode, against a central finite-difference gradient through the
  native C simulator (2d + 1 runs) measured here, and the seed's quoted 678 s;
- evaluations to reach the same loss (0.9 x the start's) for gradient, cmaes,
  nelder-mead and bo on one 2 s problem (median over seeds).
- population-mode parallel efficiency at 2 ranks: a CMA-ES run under
  ``mpiexec -n 1`` and ``-n 2``, timed by the ledger's per-iteration wall
  times (the loop alone, not Python/JAX start-up).
Not measured here (yet): the allreduce share of a 2-rank gradient step.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from _harness import Result, best_time

SEED_QUOTED_S = 678.0

PROBLEM = """method = "{method}"
backend = "{backend}"
model = "boyle2008"
[params]
g_ca_boyle = {{ range = [0.3, 1.5], scale = "log" }}
g_k_slow = {{ range = [0.2, 1.5], scale = "log" }}
drive_freq_hz = {{ range = [1.2, 1.8] }}
time_offset_s = {{ range = [-0.25, 0.25] }}
[simulation]
duration_s = {duration}
burn_in_s = 0.5
[budget]
max_iterations = {iters}
seed = {seed}
[gradient]
optimizer = "adam"
learning_rate = 0.05
mode = "{mode}"
[cmaes]
popsize = 6
[bo]
n_startup = 6
batch_size = 1
[evaluate]
n_shifts = 10
metrics_every = 1000
[output]
ledger = "{ledger}"
"""


def _cfg(**kw):
    from pyannow_hpc.optimize.config import loads_config

    d = dict(method="gradient", backend="jax", duration=10.0, iters=3, seed=0, mode="forward", ledger="/tmp/bench_opt.h5")
    d.update(kw)
    return loads_config(PROBLEM.format(**d))


def _iteration_times() -> list[Result]:
    from pyannow_hpc.music.target import load_target
    from pyannow_hpc.optimize.gradient import GradientMethod
    from pyannow_hpc.optimize.objective import Problem
    from pyannow_hpc.parallel.comm import SerialComm

    target = load_target(None)
    times = {}
    for mode in ("forward", "reverse"):
        pb = Problem(_cfg(mode=mode), target)
        m = GradientMethod(pb, SerialComm())
        st = m.initial_state()
        st, _ = m.step(st, 0)  # compile
        holder = {"st": st}

        def one():
            holder["st"], _ = m.step(holder["st"], 1)

        times[mode] = best_time(one, repeat=3)
    pbn = Problem(dataclasses.replace(_cfg(), backend="native", method="cmaes"), target)
    u0 = pbn.space.start_unit()
    h = 1e-3

    def fd():
        for j in range(pbn.space.dim):
            for s in (-h, h):
                u = u0.copy()
                u[j] += s
                pbn.evaluate(pbn.space.values(u), pbn.windows[0], with_nulls=False)
        pbn.evaluate(pbn.space.values(u0), pbn.windows[0], with_nulls=False)

    t_fd = best_time(fd, repeat=2)
    return [
        Result("gradient iteration, forward mode (jacfwd)", times["forward"], "s", t_fd, "FD through native C",
               "<= 0.2 s", times["forward"] <= 0.2),
        Result("gradient iteration, reverse mode", times["reverse"], "s", times["forward"], "forward mode"),
        Result("gradient iteration, forward mode vs seed", times["forward"], "s", SEED_QUOTED_S, "seed's quoted 678 s"),
        Result("FD gradient through native C (2d+1 runs)", t_fd, "s"),
    ]


def _evals_to_reach(quick: bool) -> list[Result]:
    from pyannow_hpc.optimize.runner import run
    from pyannow_hpc.parallel.comm import SerialComm

    seeds = (0,) if quick else (0, 1, 2)
    budgets = {"gradient": 15, "cmaes": 6, "nelder-mead": 60, "bo": 40}
    out = []
    counts = {}
    for method, iters in budgets.items():
        backend = "jax" if method == "gradient" else "native"
        per_seed = []
        for seed in seeds:
            cfg = _cfg(method=method, backend=backend, duration=2.0, iters=iters, seed=seed,
                       ledger=f"/tmp/bench_opt_{method}_{seed}.h5")
            led = run(cfg, comm=SerialComm(), progress=False, force=True)
            loss = led.column("loss")
            goal = 0.9 * loss[0]
            hit = np.flatnonzero(np.minimum.accumulate(loss) <= goal)
            per_seed.append(float(hit[0] + 1) if len(hit) else np.inf)
        counts[method] = float(np.median(per_seed))
    for method, n in counts.items():
        out.append(Result(f"evaluations to 0.9 x start loss: {method}", n, "evals", counts["nelder-mead"], "nelder-mead"))
    return out


SCHEDULE_PROBE = """
import time
from mpi4py import MPI
from pyannow_hpc.parallel.scheduler import schedule
from pyannow_hpc.parallel.isolation import Outcome, Task
from pyannow_hpc.store.tasks import TaskStatus
comm = MPI.COMM_WORLD
def execute(t):
    t0 = time.perf_counter(); time.sleep(0.045)
    return Outcome(t.task_id, TaskStatus.DONE, {{"onset_loss": 0.0}}, wall_s=time.perf_counter() - t0)
best = 1e9
for _ in range(3):
    comm.Barrier(); t0 = time.perf_counter()
    schedule([Task(i, {{}}, 0) for i in range({n})], execute, comm=comm, chunk_max=1)
    best = min(best, time.perf_counter() - t0)
if comm.Get_rank() == 0:
    print(best)
"""


def _schedule_makespan() -> list[Result]:
    """The scheduler alone: n sleeping 45 ms tasks on 2 ranks (no CPU contention),
    makespan against the ideal n x 45 ms / 2 -- what a generation loses to the protocol."""
    import subprocess
    import sys
    from pathlib import Path

    mpiexec = Path(sys.executable).with_name("mpiexec")
    out = []
    for n in (8, 32):
        got = subprocess.run([str(mpiexec), "-n", "2", sys.executable, "-c", SCHEDULE_PROBE.format(n=n)], check=True,
                             capture_output=True, text=True).stdout.split()
        ideal = n * 0.045 / 2
        out.append(Result(f"scheduler makespan, {n} sleeping 45 ms tasks, 2 ranks", float(got[-1]), "s", ideal, "ideal"))
    return out


def _population_efficiency(quick: bool) -> list[Result]:
    """CMA-ES generations of 8 and 32 ten-second candidates on 1 and 2 ranks (one
    thread each). The first generation carries each rank's one-time warm-up
    (lazy imports of the scoring stack, ~2 s), so the steady state is the
    generations after it; the per-task slowdown at 2 ranks (both cores busy)
    separates what the machine costs from what the scheduler costs."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from pyannow_hpc.optimize import ledger as LG

    mpiexec = Path(sys.executable).with_name("mpiexec")
    out = []
    with tempfile.TemporaryDirectory() as d:
        for popsize in (8,) if quick else (8, 32):
            led = {}
            for n in (1, 2):
                cfg = Path(d) / f"pop{popsize}_{n}.toml"
                text = PROBLEM.format(method="cmaes", backend="native", duration=10.0, iters=3 if quick else 5, seed=0,
                                      mode="forward", ledger=Path(d) / f"pop{popsize}_{n}.h5")
                cfg.write_text(text.replace("popsize = 6", f"popsize = {popsize}"))
                subprocess.run([str(mpiexec), "-n", str(n), sys.executable, "-m", "pyannow_hpc", "optimize", str(cfg),
                                "--no-progress", "--no-table"], check=True, capture_output=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
                led[n] = LG.read(Path(d) / f"pop{popsize}_{n}.h5")
            loop = {n: [r["wall_s"] for r in led[n].iterations] for n in led}
            task = {n: float(np.mean([e["wall_s"] for e in led[n].evals if e["iteration"] > 0])) for n in led}
            whole = sum(loop[1]) / (2 * sum(loop[2]))
            steady = sum(loop[1][1:]) / (2 * sum(loop[2][1:]))
            slow = task[2] / task[1]
            tag = f"lambda = {popsize}"
            out += [Result(f"cmaes generation, {tag}, 2 ranks, after the first", sum(loop[2][1:]) / len(loop[2][1:]), "s",
                           sum(loop[1][1:]) / len(loop[1][1:]), "1 rank"),
                    Result(f"population parallel efficiency at 2 ranks, {tag}, whole run", whole, "",
                           target=">= 0.9", met=whole >= 0.9),
                    Result("  steady state (generations after the first)", steady, "", target=">= 0.9", met=steady >= 0.9),
                    Result("  per-task time at 2 ranks / 1 rank (both cores busy)", slow, "x"),
                    Result("  steady state with the per-task slowdown taken out (the scheduler's share)",
                           steady * slow, "")]
    return out


def run(quick: bool = False) -> list[Result]:
    return _iteration_times() + _evals_to_reach(quick) + _schedule_makespan() + _population_efficiency(quick)


if __name__ == "__main__":
    import sys

    t0 = time.perf_counter()
    parts = [lambda quick: _schedule_makespan(), _population_efficiency] if "--parallel-only" in sys.argv else None
    results = [r for p in parts for r in p("--quick" in sys.argv)] if parts else run(quick="--quick" in sys.argv)
    for r in results:
        print(r.line())
    print(f"({time.perf_counter() - t0:.0f} s)")
