"""Run a parameter sweep from a TOML file, on one rank or many.

    pyannow-hpc sweep examples/sweep_small.toml
    mpiexec -n 4 pyannow-hpc sweep run.toml
    srun --mpi=pmi2 pyannow-hpc sweep run.toml
    pyannow-hpc sweep run.toml --shard 3/8      # one shard of an array job
    pyannow-hpc sweep run.toml --dry-run        # check everything, print the plan

Running the same command again on an existing ledger resumes it: done tasks
are kept, pending and in-flight ones are recomputed. A ledger written by a
different config is refused unless --force (which starts it over).
"""
from __future__ import annotations

import contextlib
import sys
import traceback

HELP = "run (or resume) an MPI parameter sweep described by a TOML file"


def _shard(text: str) -> tuple[int, int]:
    import argparse

    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected INDEX/COUNT such as 0/4, got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"shard {text}: need 0 <= INDEX < COUNT")
    return i, n


def add_arguments(p) -> None:
    p.add_argument("config", help="sweep TOML file (see examples/sweep_small.toml)")
    p.add_argument("--shard", type=_shard, metavar="I/N", help="run shard I of N (array jobs; overrides [shard])")
    p.add_argument("--out", metavar="LEDGER.h5", help="ledger path (overrides output.ledger)")
    p.add_argument("--force", action="store_true", help="start over a ledger written by a different config")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on rank 0")
    p.add_argument("--dry-run", action="store_true",
                   help="check the config, target and ledger, print the plan, run nothing (e.g. on a login node)")
    p.add_argument("--task", metavar="MODULE:NAME",
                   help="use this callable (Task -> TaskResult) instead of simulate+score; "
                        "it must be importable on every rank")


def _import_task(spec: str):
    import importlib

    from ..errors import ConfigError

    mod, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"--task {spec}: cannot import it ({exc})") from None


def _load(args, stack=None):
    """Rank 0: read and validate the config, then take the ledger's write lock."""
    from ..config import load_config
    from ..parallel.sweep import replace_output

    cfg = load_config(args.config)
    if args.shard:
        cfg = cfg.with_shard(*args.shard)
    if args.out:
        cfg = replace_output(cfg, args.out)
    _lock_ledger(cfg, args, stack)
    return cfg


def _config_from_rank0(comm, args, stack=None):
    """Rank 0 reads and validates the config (and takes the ledger lock) and every
    rank gets it, or its error (:func:`~pyannow_hpc.parallel.comm.on_root`), so
    every rank runs the same config (or fails with the same error) even where a
    file differs between nodes, and no rank waits on one that gave up."""
    from ..parallel.comm import on_root

    return on_root(comm, _load, args, stack)


def _lock_ledger(cfg, args, stack) -> None:
    """Rank 0 holds the ledger's write lock for the whole run (a second sweep on
    it stops with one line naming the holder); --dry-run only checks it is free.
    Taken here, so a refusal travels to every rank with the config's verdict."""
    from ..store.lock import check_unlocked, ledger_lock

    if args.dry_run:
        check_unlocked(cfg.output.ledger)
    elif stack is not None:
        stack.enter_context(ledger_lock(cfg.output.ledger))


def _check_failures(cfg, summary) -> None:
    """Rank 0: more failed tasks in the ledger than ``scheduler.allow_failures`` -> exit 8."""
    from ..errors import TaskFailuresError

    allowed = cfg.scheduler.allow_failures
    if summary.ledger_failed and summary.ledger_failed <= allowed:
        print(f"{summary.ledger_failed} failed tasks accepted (allow_failures = {allowed}): "
              f"{'; '.join(summary.first_errors)}", file=sys.stderr)
    if summary.ledger_failed > allowed:
        kinds = "; ".join(summary.first_errors)
        raise TaskFailuresError(
            f"{summary.ledger_failed} of {summary.n_tasks} tasks failed (allow_failures = {allowed}) in "
            f"{cfg.output.ledger}: {kinds}")


def _import_task_everywhere(comm, spec: str):
    """--task must import on every rank; if it fails anywhere, all ranks fail."""
    from ..errors import ConfigError

    try:
        fn, problem = _import_task(spec), None
    except ConfigError as exc:
        fn, problem = None, f"{exc} (on rank {comm.Get_rank()})"
    problems = [p for p in comm.allgather(problem) if p]
    if problems:
        raise ConfigError(problems[0])
    return fn


def _sweep(args, stack) -> int:
    from ..parallel.comm import on_root, world
    from ..parallel.dryrun import dry_run
    from ..parallel.sweep import run_sweep

    comm = world()
    cfg = _config_from_rank0(comm, args, stack)
    task_fn = _import_task_everywhere(comm, args.task) if args.task else None
    if args.dry_run:
        text = on_root(comm, dry_run, cfg, size=comm.Get_size(), force=args.force, task_fn=task_fn)
        if comm.Get_rank() == 0:
            print(text)
        return 0
    summary = run_sweep(cfg, comm=comm, task_fn=task_fn, force=args.force, progress=not args.no_progress)
    # more failed tasks than allow_failures: exit 8 on every rank, one line on rank 0
    on_root(comm, _check_failures, cfg, summary)
    return 0


def run(args) -> int:
    from ..errors import ConfigError, PyannowError
    from ..parallel.comm import launcher_size, world
    from ._common import error_on_rank0_only

    comm = world()
    rank, size = comm.Get_rank(), comm.Get_size()
    if size == 1 and launcher_size() > 1:
        # N independent one-rank sweeps would all be "rank 0" and race on one ledger
        raise ConfigError(
            f"started as {launcher_size()} processes but MPI sees 1 rank each: is mpi4py installed "
            "(pip install 'pyannow_hpc[mpi]'), PYANNOW_NO_MPI unset, and srun given --mpi=pmi2 (MPICH) or pmix?"
        )
    stack = contextlib.ExitStack()
    try:
        with stack:
            return error_on_rank0_only(comm, _sweep, args, stack)
    except PyannowError:
        raise  # rank 0's: printed once, as one line, by the CLI
    except BaseException:
        if size > 1:  # a bug on one rank must not leave the others waiting forever
            traceback.print_exc()
            print(f"[rank {rank}/{size}] aborting all ranks", file=sys.stderr, flush=True)
            comm.Abort(1)
        raise
