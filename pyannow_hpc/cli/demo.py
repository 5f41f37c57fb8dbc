"""Run the main job on one rank: simulate the worm for the length of the target
score with default parameters, turn its muscles into notes, score them, and
write what a person wants to hear and read:

  worm.wav, target.wav      the worm and the score, same synthesiser
  f1_table.md, f1_table.csv onset F1 at 25/50/100 ms, both metrics labelled, each
                            beside its nulls (shift z and p, uniform chance,
                            metronome at the worm's count, beat ceiling)
  pianoroll.png             the worm's notes over the score's
  result.h5                 onsets, pitches, parameters, metrics, provenance

Example:
  pyannow-hpc demo --out out/demo
  pyannow-hpc demo --target nocturne.mid --param g_egl19=12 --duration-s 20
  pyannow-hpc demo --burn-in-s 0            # score from t = 0, start-up burst included
"""
from __future__ import annotations

import argparse
import sys

from ._common import add_burn_in_argument, add_simulation_arguments, check_burn_in, parse_param_overrides

HELP = "simulate the worm on a target score and write WAVs, F1 tables, a piano roll and HDF5"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", default="out/demo", help="output folder (default: %(default)s)")
    p.add_argument("--target", default=None, metavar="PATH",
                   help="MIDI, MusicXML or kern score (default: the embedded Chopin mazurka Op. 6 No. 2)")
    p.add_argument("--duration-s", type=float, default=None,
                   help="simulated seconds (default: the target's length)")
    p.add_argument("--onsets", default=None, choices=("crest", "threshold"),
                   help="onset detector: the seed's phase-gated crest, or spike threshold crossings "
                        "(default: threshold for boyle2008, crest for pyannow)")
    add_simulation_arguments(p)
    add_burn_in_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..params import space

    # validate at the edge, before any heavy import or output is made
    pspace = space(args.model)
    params = pspace.validate(parse_param_overrides(args.param))
    burn_in_s = check_burn_in(args.burn_in_s)

    import numpy as np
    from tqdm import tqdm

    from .. import __version__
    from ..errors import ConfigError
    from ..music import metrics as M
    from ..music.audio import write_audio
    from ..music.synth import render
    from ..music.target import load_target
    from ..store.atomic import prepare_dir, write_text
    from ..store.provenance import provenance
    from ..store.result import write_result
    from ..music.alignment import f1_table_with_nulls
    from ..pipeline import evaluate_params
    from ..worm import default_onset_method

    out = prepare_dir(args.out)
    steps = ["load target", "simulate and score", "synthesise audio", "write results"]
    bar = tqdm(steps, desc="demo", unit="step", disable=args.no_progress or None, file=sys.stderr,
               bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {postfix}")

    def step(name):
        bar.set_postfix_str(name)

    step("load target")
    target = load_target(args.target)
    if len(target) == 0:
        raise ConfigError("target has no notes")
    duration_s = args.duration_s if args.duration_s is not None else float(np.ceil(target.end_s))
    bar.update()

    step("simulate and score")
    onset_method = args.onsets or default_onset_method(args.model)
    result = evaluate_params(params, target=target, backend=args.backend, model=args.model, duration_s=duration_s,
                             dt_ms=args.dt_ms, seed=args.seed, integrator=args.integrator, onset_method=onset_method,
                             burn_in_s=burn_in_s)
    worm, metrics = result.notes, result.metrics
    window = target.window(0.0, duration_s)
    rows = f1_table_with_nulls(worm, window, duration_s, seed=args.seed)
    bar.update()

    step("synthesise audio")
    paths = {"worm_wav": out / "worm.wav", "target_wav": out / "target.wav"}
    write_audio(paths["worm_wav"], render(worm), 22050)
    write_audio(paths["target_wav"], render(window), 22050)
    bar.update()

    step("write results")
    paths["f1_md"] = write_text(out / "f1_table.md", M.format_table_markdown(rows) + "\n")
    paths["f1_csv"] = write_text(out / "f1_table.csv", M.format_table_csv(rows))
    try:
        from ..music.pianoroll import plot_pianoroll

        paths["pianoroll"] = plot_pianoroll(worm, window, out / "pianoroll.png",
                                            title=f"worm ({args.model}, {onset_method} onsets) vs {target.name or 'target'}")
    except ImportError:  # matplotlib missing: everything else still stands
        pass
    attrs = provenance(job="demo", model=args.model, backend=args.backend, integrator=args.integrator,
                       seed=args.seed, dt_ms=args.dt_ms, duration_s=duration_s, burn_in_s=burn_in_s,
                       onset_method=onset_method,
                       target=target.name or str(args.target or "default"), package=f"pyannow_hpc {__version__}")
    paths["result_h5"] = write_result(out / "result.h5", worm=worm, target=window, params=params, metrics=metrics,
                                      attrs=attrs, f1_rows=rows, units={p.name: p.unit for p in pspace.params})
    bar.update()
    bar.close()

    print(f"pyannow-hpc demo: {duration_s:g} s of worm ({args.model}, {args.backend}, {args.integrator}, "
          f"{onset_method} onsets, after {burn_in_s:g} s burn-in) "
          f"vs {target.name or 'target'}: {len(worm)} worm notes, {len(window)} target notes")
    print("  " + result.score.summary())
    print(f"  {M.metric_label('onset_loss')} = {metrics['onset_loss']:.4g}")
    width = max(len(k) for k in paths)
    for key, path in paths.items():
        print(f"  {key:<{width}}  {path}")
    return 0
