"""Search ion-channel parameters that make the worm play the target: the learning loop.

    pyannow-hpc optimize examples/optimize_quick.toml            # gradient, one rank
    pyannow-hpc optimize examples/optimize_cmaes.toml --dry-run  # check, print the plan
    mpiexec -n 2 pyannow-hpc optimize examples/optimize_cmaes.toml
    pyannow-hpc optimize run.toml --heldout other_piece.mid

Methods: gradient (JAX, Adam then L-BFGS), cmaes (pycma, IPOP), nelder-mead
(scipy, the seed's baseline), bo (Optuna ask/tell). Every evaluation and
every iteration's optimiser state go to one HDF5 ledger, flushed atomically;
running the same command again resumes it. The run ends with a table of
before/after scores on the training window and on unseen time, every F1
beside its shift null, written as Markdown and CSV next to the ledger, and an
HTML page (<ledger>_report/index.html: loss curve, parameter trajectories,
before/after piano rolls and WAVs, the table, ablation, landscapes, and the
prior's Mahalanobis verdict when a prior is used).
"""
from __future__ import annotations

HELP = "optimise channel parameters against the target (gradient, cmaes, nelder-mead, bo)"


def add_arguments(p) -> None:
    p.add_argument("config", help="optimiser TOML file (see examples/optimize_quick.toml)")
    p.add_argument("--out", metavar="LEDGER.h5", help="ledger path (overrides output.ledger)")
    p.add_argument("--heldout", metavar="PATH", help="a second target (MIDI/MusicXML/kern) scored before/after, never trained on")
    p.add_argument("--force", action="store_true", help="start over a ledger written by a different config")
    p.add_argument("--dry-run", action="store_true", help="validate the config and print the plan; run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-table", action="store_true", help="skip the before/after table, landscape plots and HTML page")


def _config(comm, args):
    import dataclasses

    from ..errors import PyannowError
    from ..optimize.config import load_config

    cfg = err = None
    if comm.Get_rank() == 0:
        try:
            cfg = load_config(args.config)
            if args.out:
                cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=args.out))
            if args.heldout:
                cfg = dataclasses.replace(cfg, evaluate=dataclasses.replace(cfg.evaluate, heldout=args.heldout))
        except PyannowError as exc:
            err = exc
    cfg, err = comm.bcast((cfg, err), root=0)
    if err is not None:
        raise err
    return cfg


def describe(cfg) -> str:
    from ..optimize.objective import training_windows
    from ..optimize.space import SearchSpace

    sp = SearchSpace.from_config(cfg)
    sim = cfg.simulation
    lines = [f"{cfg.source}: method {cfg.method}, backend {cfg.backend}, model {cfg.model}, target {cfg.target}",
             f"  {len(training_windows(cfg))} training item(s): {sim.n_windows} window(s) of {sim.duration_s:g} s from "
             f"{sim.start_s:g} s x {sim.n_seeds} seed(s), burn-in {sim.burn_in_s:g} s, dt {sim.dt_ms:g} ms",
             f"  budget: {cfg.budget.max_iterations} iterations"
             + (f", {cfg.budget.max_evaluations} evaluations" if cfg.budget.max_evaluations else "")
             + f", seed {cfg.budget.seed}; loss 1 - soft Dice (grid {cfg.loss.grid_s:g} s, sigma {cfg.loss.sigma_s:g} s"
             + (", pitch-aware" if cfg.loss.pitch_aware else "") + ")",
             f"  {sp.dim} free value(s):"]
    for p in cfg.params:
        lines.append(f"    {p.name:<16} [{p.lower:g}, {p.upper:g}] {p.scale}" + (f" per {p.per}" if p.per else ""))
    for k, v in cfg.fixed:
        lines.append(f"    {k:<16} fixed at {v:g}")
    if cfg.loss.prior:
        lines.append(f"  prior {cfg.loss.prior}, weight {cfg.loss.prior_weight:g}")
    lines.append(f"  ledger {cfg.output.ledger}, report {cfg.report_dir}")
    return "\n".join(lines)


def run(args) -> int:
    from ..parallel.comm import world

    comm = world()
    cfg = _config(comm, args)
    if args.dry_run:
        if comm.Get_rank() == 0:
            from ..optimize.runner import load_target

            from pathlib import Path

            from ..optimize.runner import open_ledger
            from ..optimize.space import SearchSpace
            from ..parallel.sweep import _check_writable

            t = load_target(cfg.target)
            _check_writable(Path(cfg.output.ledger))  # fail now, not after the first iteration
            led = open_ledger(cfg, SearchSpace.from_config(cfg).labels, args.force)  # refuses a foreign ledger
            print(describe(cfg))
            print(f"  target: {t.name} ({len(t)} notes, {t.end_s:.1f} s)")
            print(f"  ledger: {led.n_iterations} iteration(s), {len(led.evals)} evaluation(s) done"
                  + (" -- the run resumes there" if led.n_iterations else ""))
        return 0
    from ..optimize.report import finish
    from ..optimize.runner import run as run_opt

    led = run_opt(cfg, comm=comm, force=args.force, progress=not args.no_progress)
    if comm.Get_rank() == 0:
        print(finish(cfg, led, table=not args.no_table))
    return 0
