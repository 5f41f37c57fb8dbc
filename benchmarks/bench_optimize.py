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


def _population_efficiency(quick: bool) -> list[Result]:
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from pyannow_hpc.optimize import ledger as LG

    mpiexec = Path(sys.executable).with_name("mpiexec")
    loop_s = {}
    with tempfile.TemporaryDirectory() as d:
        for n in (1, 2):
            cfg = Path(d) / f"pop{n}.toml"
            text = PROBLEM.format(method="cmaes", backend="native", duration=10.0, iters=3 if quick else 6, seed=0,
                                  mode="forward", ledger=Path(d) / f"pop{n}.h5").replace("popsize = 6", "popsize = 8")
            cfg.write_text(text)
            subprocess.run([str(mpiexec), "-n", str(n), sys.executable, "-m", "pyannow_hpc", "optimize", str(cfg),
                            "--no-progress", "--no-table"], check=True, capture_output=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
            loop_s[n] = sum(r["wall_s"] for r in LG.read(Path(d) / f"pop{n}.h5").iterations)
    eff = loop_s[1] / (2 * loop_s[2])
    return [Result("cmaes loop, 2 ranks (8 x 10 s candidates/gen)", loop_s[2], "s", loop_s[1], "1 rank"),
            Result("population parallel efficiency at 2 ranks", eff, "", target=">= 0.9", met=eff >= 0.9)]


def run(quick: bool = False) -> list[Result]:
    return _iteration_times() + _evals_to_reach(quick) + _population_efficiency(quick)


if __name__ == "__main__":
    import sys

    t0 = time.perf_counter()
    parts = [_population_efficiency] if "--parallel-only" in sys.argv else None
    results = [r for p in parts for r in p("--quick" in sys.argv)] if parts else run(quick="--quick" in sys.argv)
    for r in results:
        print(r.line())
    print(f"({time.perf_counter() - t0:.0f} s)")
