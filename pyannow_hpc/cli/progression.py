"""Run the PyANNOW learning progression (steps 0–10) on a target score and
write the honest F1 table: both onset metrics, labelled, each in-sample (the
seed's protocol) and held-out (time-block split: the later blocks never seen
in training), with a column saying plainly whether each step beats the
step-0 baseline on held-out data.

Writes into --out:
  progression.md, progression.csv    the F1 table
  step10_worm.wav, step10_target.wav full-length, same synthesiser
  step10_pianoroll.png               step 10's worm notes over the score

Examples:
  pyannow-hpc progression                         # the embedded Chopin mazurka
  pyannow-hpc progression --target nocturne.mid --out out/nocturne
  pyannow-hpc progression --steps 0,3,7,9 --window-s 20
"""
from __future__ import annotations

import argparse
import sys

from ._common import add_simulation_arguments, parse_param_overrides

HELP = "run the learning progression (steps 0-10) and write the F1 table, WAVs and a piano roll"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=None, metavar="PATH",
                   help="MIDI, MusicXML or kern score (default: the embedded Chopin mazurka Op. 6 No. 2)")
    p.add_argument("--out", "-o", default="out/progression", help="output folder (default: %(default)s)")
    p.add_argument("--window-s", type=float, default=10.0,
                   help="window of steps 0-9b, s (default: %(default)s, the seed's step-9 window)")
    p.add_argument("--steps", default=None, metavar="KEYS",
                   help="comma-separated subset, e.g. 0,3,9 (default: all: 0,1a,1b,2,3,4-6,7,8a,8b,9,9b,0-full,10,ref)")
    p.add_argument("--heldout-frac", type=float, default=0.3, help="share of the time blocks held out (default: %(default)s)")
    p.add_argument("--n-blocks", type=int, default=10, help="time blocks per window (default: %(default)s)")
    p.add_argument("--onsets", default="auto", choices=("auto", "crest", "threshold"),
                   help="step-0 onset detector: the seed's crest, spike threshold, or auto (the model's own: "
                        "threshold for boyle2008, crest for pyannow; threshold for C302) (default: %(default)s)")
    p.add_argument("--refractory-s", type=float, default=0.28,
                   help="minimum gap between decoded onsets, s (default: %(default)s, the seed's; caps notes/s)")
    p.add_argument("--quick", action="store_true", help="a tenth of the optimiser steps (smoke runs)")
    add_simulation_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..params import space

    params = space(args.model).validate(parse_param_overrides(args.param))
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip()) if args.steps else None

    from ..parallel.comm import world
    from ..learn.progression import ProgressionConfig, run_progression, write_outputs
    from ..music.target import load_target
    from ..store.atomic import prepare_dir

    cfg = ProgressionConfig(window_s=args.window_s, backend=args.backend, model=args.model, params=params,
                            integrator=args.integrator, dt_ms=args.dt_ms, seed=args.seed, n_blocks=args.n_blocks,
                            heldout_frac=args.heldout_frac, quick=args.quick, onsets=args.onsets, steps=steps,
                            refractory_s=args.refractory_s)
    if world().Get_rank() != 0:
        return 0  # the progression is a serial job; under mpiexec rank 0 runs it
    target = load_target(args.target)
    out = prepare_dir(args.out)
    res = run_progression(target, cfg, progress=not args.no_progress)
    files = write_outputs(res, target, out)
    print(files["md"].read_text())
    for key, path in files.items():
        print(f"wrote {path}", file=sys.stderr)
    return 0
