"""C302 (c302 C1 muscles in NEURON): cost per simulated second at 1 and 2 ranks,
and what the mechanism cache saves.

- fresh compile vs reuse: one run with an empty cache (c302 + jNeuroML +
  nrnivmodl) against a changed conductance that reuses the compiled
  mechanisms (full c302 + jNeuroML conversion, PYANNOW_C302_FAST=0) and one
  that also reuses the converted network template (the default);
- per-step wall time of both (prepare, mechanisms, NEURON, parse);
- 1 vs 2 ranks: the same 2-task c302 sweep, `pyannow-hpc sweep` on one rank and
  under `mpiexec -n 2` (dynamic scheduler), and `pyannow-hpc refine --top 2`
  of a native ledger (static split) on 1 and 2 ranks (wall seconds per
  simulated second; ratio = speedup).

Full: 1 s of worm per run; --quick: 0.2 s.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Result

# one sweep file for both benchmarks: the C302 sweep itself, and the cheap native
# sweep whose best points `refine` re-runs on C302
SWEEP = """backend = "{backend}"
model = "pyannow"
[sampler]
method = "sobol"
n_samples = 2
[params]
g_egl19 = {{{{ range = [4.0, 16.0], scale = "log" }}}}
[simulation]
duration_s = {{duration}}
dt_ms = {dt_ms}
{extra}[output]
ledger = "{{ledger}}"
report = false
"""
C302_SWEEP = SWEEP.format(backend="c302", dt_ms=0.05, extra='onset_method = "threshold"\n[scheduler]\ntask_timeout_s = 1800.0\n')
NATIVE = SWEEP.format(backend="native", dt_ms=0.5, extra="")


def _child_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _sweep(tmp: Path, ranks: int, duration: float, env: dict) -> float:
    cfg = tmp / f"r{ranks}.toml"
    cfg.write_text(C302_SWEEP.format(duration=duration, ledger=tmp / f"r{ranks}.h5"))
    cmd = [sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--no-progress"]
    if ranks > 1:
        cmd = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(ranks), *cmd]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return time.perf_counter() - t0




def _refine(tmp: Path, ranks: int, duration: float, env: dict) -> float:
    """Wall time of `pyannow-hpc refine --top 2 --backend c302` (a static split over the ranks)."""
    ledger = tmp / f"native{ranks}.h5"
    cfg = tmp / f"native{ranks}.toml"
    cfg.write_text(NATIVE.format(duration=duration, ledger=ledger))
    subprocess.run([sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--no-progress"], check=True,
                   env=dict(env, PYANNOW_NO_MPI="1"), capture_output=True)
    cmd = [sys.executable, "-m", "pyannow_hpc", "refine", str(ledger), "--top", "2", "--backend", "c302"]
    if ranks > 1:
        cmd = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(ranks), *cmd]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env if ranks > 1 else dict(env, PYANNOW_NO_MPI="1"), capture_output=True)
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[Result]:
    from pyannow_hpc.worm import c302_backend, simulate

    duration = 0.2 if quick else 1.0
    out = []
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        old = os.environ.get("PYANNOW_C302_CACHE")
        os.environ["PYANNOW_C302_CACHE"] = str(tmp / "cache")
        try:
            t0 = time.perf_counter()
            simulate(None, backend="c302", model="pyannow", duration_s=duration, dt_ms=0.05)
            fresh = time.perf_counter() - t0
            os.environ["PYANNOW_C302_FAST"] = "0"
            t0 = time.perf_counter()
            simulate({"g_egl19": 10.0}, backend="c302", model="pyannow", duration_s=duration, dt_ms=0.05)
            reuse_mech = time.perf_counter() - t0
            steps_full = dict(c302_backend.STATS["last_steps_s"])
            os.environ.pop("PYANNOW_C302_FAST")
            t0, cpu0 = time.perf_counter(), _child_cpu_s()
            simulate({"g_egl19": 12.0}, backend="c302", model="pyannow", duration_s=duration, dt_ms=0.05)
            reuse = time.perf_counter() - t0
            # CPU seconds of the simulator processes: what the run costs on an idle core,
            # whatever else shares the machine
            reuse_cpu = _child_cpu_s() - cpu0
            steps = dict(c302_backend.STATS["last_steps_s"])
            env = dict(os.environ, OMP_NUM_THREADS="1")
            one = _sweep(tmp, 1, duration, env)
            two = _sweep(tmp, 2, duration, env)
            r_one = _refine(tmp, 1, duration, env)
            r_two = _refine(tmp, 2, duration, env)
        finally:
            if old is None:
                os.environ.pop("PYANNOW_C302_CACHE", None)
            else:
                os.environ["PYANNOW_C302_CACHE"] = old
    out.append(Result(f"c302 run ({duration:g} s worm), mechanisms reused, full conversion", reuse_mech, "s", fresh,
                      "fresh compile"))
    out.append(Result(f"c302 run ({duration:g} s worm), mechanisms + network template reused", reuse, "s", fresh,
                      "fresh compile"))
    out.append(Result("c302 s per simulated s, 1 rank, both reused", reuse / duration, "s/sim-s"))
    out.append(Result("c302 CPU s per simulated s (child processes)", reuse_cpu / duration, "cpu-s/sim-s"))
    for k, v in steps_full.items():
        out.append(Result(f"  full conversion: step {k}", v, "s"))
    for k, v in steps.items():
        out.append(Result(f"  template reuse: step {k}", v, "s"))
    out.append(Result(f"c302 sweep 2 tasks x {duration:g} s, 2 ranks", two / (2 * duration), "s/sim-s", one / (2 * duration),
                      "1 rank"))
    # each refine task runs the surrogate too (milliseconds) and C302
    out.append(Result(f"c302 refine 2 tasks x {duration:g} s, 2 ranks", r_two / (2 * duration), "s/sim-s",
                      r_one / (2 * duration), "1 rank"))
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    for r in run(ap.parse_args().quick):
        print(r.line())
