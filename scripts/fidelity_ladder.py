#!/usr/bin/env python
"""The fidelity ladder's last rung: start from a surrogate optimum and continue on C302.

    pyannow-hpc optimize surrogate.toml                    # rung 1: any population/gradient run on a surrogate
    mpiexec -n 2 python scripts/fidelity_ladder.py surrogate.h5 --generations 2 --popsize 4 --out ladder.json

Reads the optimiser ledger of rung 1 (its config and best point), then

1. evaluates the surrogate optimum on C302 (NEURON, parameter set C1) and on
   the surrogate, over the same training window with the same loss
   (the optimiser's own ``Problem.evaluate``: one scorer for both rungs);
2. continues with CMA-ES (pycma) on C302 from that point (``x0`` = the
   optimum in the unit cube, ``--sigma0``), each generation's candidates
   split over the MPI ranks (rank i takes candidates i, i + size, ...);
3. scores every C302 point on the surrogate too, so the table shows the
   surrogate-vs-C302 gap along the trajectory.

Why a script next to the optimiser rather than an optimiser method: the
optimiser's population methods start from the model defaults (``start_unit``);
the ladder must start from another run's optimum.  Here because the
optimiser's package belongs to its own branch; fold it in as an ``optimize``
option once both have landed.

Writes ``--out`` (JSON: every evaluation) and prints a Markdown table.  A C302
run that fails counts as the worst loss seen plus 1 (and says so).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time

import numpy as np


def _args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("ledger", help="rung 1: an optimiser ledger (pyannow-hpc optimize) on a surrogate backend")
    p.add_argument("--generations", type=int, default=2, help="CMA-ES generations on C302 (default 2)")
    p.add_argument("--popsize", type=int, default=4, help="candidates per generation (default 4)")
    p.add_argument("--sigma0", type=float, default=0.1, help="initial step in the unit cube (default 0.1)")
    p.add_argument("--dt-ms", type=float, default=0.05, help="NEURON step for C302 (default 0.05 ms)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="ladder.json", help="JSON with every evaluation (default ladder.json)")
    return p.parse_args(argv)


def _problems(cfg, dt_ms):
    from pyannow_hpc.music.target import load_target
    from pyannow_hpc.optimize.objective import Problem

    target = load_target(None if cfg.target in ("", "default") else cfg.target)
    real = dataclasses.replace(cfg, backend="c302",
                               simulation=dataclasses.replace(cfg.simulation, dt_ms=dt_ms, onset_method="threshold"))
    return Problem(cfg, target), Problem(real, target)


def _evaluate(pb, values, window):
    t0 = time.perf_counter()
    try:
        out = pb.evaluate(np.asarray(values, float), window, with_nulls=True)
        out["error"] = ""
    except Exception as exc:  # noqa: BLE001 - a failed C302 run is a row, not the end of the ladder
        out = {"loss": math.nan, "error": f"{type(exc).__name__}: {exc}"}
    out["wall_s"] = time.perf_counter() - t0
    return out


def main(argv=None) -> int:
    from pyannow_hpc.parallel.comm import world

    a = _args(sys.argv[1:] if argv is None else argv)
    comm = world()
    rank, size = comm.Get_rank(), comm.Get_size()
    cfg = best = None
    if rank == 0:
        from pyannow_hpc.optimize import ledger as LG
        from pyannow_hpc.optimize.config import loads_config

        led = LG.read(a.ledger)
        cfg = loads_config(led.attrs["config_text"], source=f"{a.ledger}:/config_text")
        best = np.asarray(led.best()["values"], float)
        if cfg.backend in ("c302", "container"):
            raise SystemExit(f"fidelity_ladder: {a.ledger} is already a {cfg.backend} run; give a surrogate's ledger")
    cfg, best = comm.bcast((cfg, best), root=0)
    sur, real = _problems(cfg, a.dt_ms)
    window = sur.windows[0]
    names = sur.space.labels

    rows = []

    def run_points(us, generation):
        """Evaluate unit-cube points on C302 over the ranks; rank 0 adds the surrogate's score."""
        mine = [(i, u) for i, u in enumerate(us) if i % size == rank]
        got = [(i, _evaluate(real, real.space.values(np.asarray(u)), window)) for i, u in mine]
        every = comm.gather(got, root=0)
        if rank != 0:
            return None
        res = dict(kv for part in every for kv in part)
        out = []
        for i, u in enumerate(us):
            vals = sur.space.values(np.asarray(u))
            s = _evaluate(sur, vals, window)
            c = res[i]
            row = {"generation": generation, "values": dict(zip(names, map(float, vals))),
                   "surrogate": s, "c302": c, "gap_loss": c["loss"] - s["loss"]}
            rows.append(row)
            out.append(row)
        return out

    # rung 2, point 0: the surrogate optimum itself
    u0 = np.clip(sur.space.unit(best), 0.0, 1.0)
    run_points([u0], 0)
    es = None
    if rank == 0:
        import cma

        es = cma.CMAEvolutionStrategy(list(u0), a.sigma0, {"bounds": [0.0, 1.0], "popsize": a.popsize,
                                                           "seed": a.seed + 1, "verbose": -9})
    for g in range(1, a.generations + 1):
        us = comm.bcast([np.asarray(x) for x in es.ask()] if rank == 0 else None, root=0)
        got = run_points(us, g)
        if rank == 0:
            losses = [r["c302"]["loss"] for r in got]
            worst = max([x for x in (r["c302"]["loss"] for r in rows) if math.isfinite(x)] or [1.0])
            es.tell(us, [x if math.isfinite(x) else worst + 1.0 for x in losses])
    if rank == 0:
        _report(rows, names, a, cfg)
    return 0


def _report(rows, names, a, cfg) -> None:
    with open(a.out, "w") as f:
        json.dump({"surrogate_backend": cfg.backend, "model": cfg.model, "window_s": [cfg.simulation.start_s,
                   cfg.simulation.start_s + cfg.simulation.duration_s], "burn_in_s": cfg.simulation.burn_in_s,
                   "c302_dt_ms": a.dt_ms, "rows": rows}, f, indent=1, default=float)
    print(f"fidelity ladder: {cfg.backend} optimum -> C302 (CMA-ES, {a.generations} generation(s) x {a.popsize}), "
          f"{cfg.model}, window {cfg.simulation.start_s:g}-{cfg.simulation.start_s + cfg.simulation.duration_s:g} s "
          f"after {cfg.simulation.burn_in_s:g} s burn-in; loss = the optimiser's onset loss (lower is better); "
          "F1 = one-to-one, +-50 ms, beside the worm's own shift null (z) and the metronome ceiling")
    print("| gen | " + " | ".join(names) + " | loss: surrogate | C302 | gap | F1: surrogate | C302 | "
          "shift z: surrogate | C302 | metronome F1 | C302 wall s |")
    print("|---" * (len(names) + 10) + "|")
    best = math.inf
    for r in rows:
        s, c = r["surrogate"], r["c302"]
        mark = ""
        if math.isfinite(c["loss"]) and c["loss"] < best:
            best, mark = c["loss"], " *"
        vals = " | ".join(f"{r['values'][n]:.4g}" for n in names)
        print(f"| {r['generation']} | {vals} | {s['loss']:.3f} | {c['loss']:.3f}{mark} | {r['gap_loss']:+.3f} | "
              f"{s.get('f1', math.nan):.3f} | {c.get('f1', math.nan):.3f} | {s.get('shift_z', math.nan):.2f} | "
              f"{c.get('shift_z', math.nan):.2f} | {c.get('metronome_f1', math.nan):.3f} | {c['wall_s']:.1f} |")
        if c.get("error"):
            print(f"|   | C302 failed: {c['error']} |")
    print("(* = best C302 loss so far; gen 0 = the surrogate optimum itself)")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    sys.exit(main())
