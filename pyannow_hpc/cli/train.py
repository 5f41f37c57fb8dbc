"""Data-parallel training of a PyANNOW model on the worm's activity and a
target score. Under `mpiexec -n N` the collocation points (PINNs) or the
frames (hybrid MLP) are split across the N ranks and the gradients are summed
every step inside the jitted step (mpi4jax; mpi4py outside jit when mpi4jax
is missing); every rank ends with the same parameters, rank 0 writes them.

Models:
  ode     ODE PINN  q'' + 2γq' + ω²q = F(t), --colloc points in time
  pde     PDE PINN  ρq_tt − μq_xx + γq_t = F(x,t), --colloc ≈ n_x·n_t grid points
  hybrid  Worm+Time MLP(128,64) onset classifier, batch = frames

Examples:
  pyannow-hpc train --net ode --out out/ode.npz
  mpiexec -n 2 pyannow-hpc train --net pde --colloc 10000 --adam-steps 200 --lbfgs-steps 0
  pyannow-hpc train --net hybrid --ledger out/sweep_boyle.h5   # the sweep's best worm, as it was scored
"""
from __future__ import annotations

import argparse
import json
import sys

from ._common import add_simulation_arguments, parse_param_overrides

HELP = "train a PINN or the Worm+Time MLP, data-parallel over MPI ranks (gradient allreduce)"
MODELS = ("ode", "pde", "hybrid")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--net", default="ode", choices=MODELS, help="what to train (default: %(default)s)")
    p.add_argument("--target", default=None, metavar="PATH", help="score (default: the embedded Chopin mazurka)")
    p.add_argument("--duration-s", type=float, default=None,
                   help="worm/score window, s (default: 10, or the ledger task's window with --ledger)")
    p.add_argument("--colloc", type=int, default=200,
                   help="collocation points, PINNs only; the hybrid trains on every frame (default: %(default)s, the seed's)")
    p.add_argument("--adam-steps", type=int, default=500, help="Adam steps (default: %(default)s)")
    p.add_argument("--lbfgs-steps", type=int, default=50, help="L-BFGS steps after Adam (default: %(default)s)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--reducer", default="auto", choices=("auto", "mpi4jax", "mpi4py", "none"),
                   help="gradient allreduce: auto = mpi4jax if importable else mpi4py ('none' at N>1 only for timing)")
    p.add_argument("--ledger", default=None, metavar="SWEEP.h5",
                   help="train on the worm of the best finished task of a sweep ledger (lowest onset_loss), "
                        "exactly as the sweep scored it: its parameters (fixed + varied), seed, backend, model, "
                        "integrator, dt, burn-in, window and target; --param, --target and any simulation flag set to "
                        "other than its default override them")
    p.add_argument("--out", "-o", default=None, metavar="PATH.npz", help="write the trained parameters here (rank 0)")
    p.add_argument("--json", action="store_true", help="print one JSON summary line (rank 0) instead of text")
    p.add_argument("--prior", default=None, metavar="PRIOR.h5",
                   help="PINNs: add prior-weight * (θ−θ̄)ᵀΣ⁻¹(θ−θ̄) on the physical parameters (log10 of "
                        "gamma_per_s, omega_rad_s / rho, mu); a /prior group as `analyze` and the optimiser write")
    p.add_argument("--prior-weight", type=float, default=1.0, metavar="λ",
                   help="weight λ_s of the prior term (default: %(default)s)")
    add_simulation_arguments(p)
    # what "set to other than its default" means for --ledger's overrides
    p.set_defaults(_sim_defaults={k: p.get_default(k) for k in _SIM_FLAGS})


#: simulation flags a ledger task fixes (RunSettings / Task field -> args attribute)
_SIM_FLAGS = ("backend", "model", "integrator", "dt_ms", "seed")
DEFAULT_DURATION_S = 10.0


def _validate(args) -> None:
    from ..errors import ConfigError

    if not (args.duration_s == args.duration_s and 2.0 <= args.duration_s <= 3600.0):
        raise ConfigError(f"--duration-s must be in [2, 3600] s, got {args.duration_s!r}")
    if args.colloc < 1:
        raise ConfigError(f"--colloc must be >= 1, got {args.colloc}")
    if args.out is not None and not str(args.out).endswith(".npz"):
        raise ConfigError(f"--out must end in .npz, got {args.out!r}")


def best_ledger_task(path: str):
    """``(RunSettings, Task, target)`` of the ledger's best finished task, ranked as the
    sweep ranked it (its ``rank_by``: by default F1 above the worm's own shifts,
    which neither silence nor a flood of notes can win -- not onset_loss, which
    silence wins); a ledger written before the nulls were stored falls back to
    its onset_loss."""
    import numpy as np

    from ..errors import ConfigError
    from ..music.alignment import MIN_NOTES
    from ..report.tables import rank_tasks
    from ..store.ledger import read_ledger

    led = read_ledger(path)
    rank_by = str(led.attrs.get("rank_by", "shift_excess"))
    n_notes = np.array([len(o) for o in led.onsets_s])
    rows = list(rank_tasks(led.metrics, led.status, rank_by, 1, n_notes, int(led.attrs.get("min_notes", MIN_NOTES))))
    if not rows:
        rows = led.best_rows("onset_loss", 1, higher_is_better=False)
    if not rows:
        raise ConfigError(f"ledger {path} has no finished task with a score to train on")
    return led.settings(), led.task(int(rows[0])), led.target


def _from_ledger(args, comm) -> tuple[dict, object, float, float]:
    """Fill ``args`` from the ledger's best task (flags left at their default take the
    ledger's value); returns (its parameters, its target, its window start, its burn-in)."""
    from ..parallel.comm import on_root

    settings, task, target = on_root(comm, best_ledger_task, args.ledger)
    ledger_values = {**settings.attrs(), "seed": task.seed}
    for name in _SIM_FLAGS:
        if getattr(args, name) == args._sim_defaults[name]:
            setattr(args, name, ledger_values[name])
    if args.duration_s is None:
        args.duration_s = settings.duration_s
    return dict(task.params), (None if args.target else target), settings.window_start_s, settings.burn_in_s


def run(args: argparse.Namespace) -> int:
    from ..parallel.comm import world
    from ._common import error_on_rank0_only

    return error_on_rank0_only(world(), _train, args)


def _train(args: argparse.Namespace) -> int:
    from ..parallel.comm import world
    from ..params import space

    comm = world()
    base, target, window_start_s, burn_in_s = {}, None, 0.0, 0.0
    if args.ledger:
        base, target, window_start_s, burn_in_s = _from_ledger(args, comm)
    if args.duration_s is None:
        args.duration_s = DEFAULT_DURATION_S
    params = space(args.model).validate({**base, **parse_param_overrides(args.param)})
    _validate(args)

    from ..learn.optim import TrainConfig
    from ..learn.training import build_job, summary, write_params

    config = TrainConfig(adam_steps=args.adam_steps, lbfgs_steps=args.lbfgs_steps, learning_rate=args.lr,
                         reducer=args.reducer)
    prior = None
    if args.prior:
        from ..learn.physics_prior import load_physics_prior
        from ..parallel.comm import on_root

        prior = on_root(comm, load_physics_prior, args.net, args.prior, args.prior_weight)
    job = build_job(args.net, params=params, backend=args.backend, model=args.model, integrator=args.integrator,
                    dt_ms=args.dt_ms, seed=args.seed, duration_s=args.duration_s, n_colloc=args.colloc,
                    target_path=args.target, target=target, window_start_s=window_start_s,
                    burn_in_s=burn_in_s, prior=prior, prior_key=(args.prior, args.prior_weight), comm=comm)
    trained, hist = job.train(config, comm)
    info = summary(job, trained, hist, comm)
    if comm.Get_rank() == 0:
        if args.out:
            info["out"] = str(write_params(args.out, trained))
        if args.json:
            print(json.dumps(info))
        else:
            for k, v in info.items():
                print(f"{k:>22}: {v}")
    if info["reducer"] == "none" and comm.Get_size() > 1:
        if comm.Get_rank() == 0:
            print("pyannow-hpc: warning: --reducer none: the ranks trained on their shards independently "
                  "(a timing baseline, not a model)", file=sys.stderr)
        return 0
    if not info["params_identical_on_all_ranks"]:
        from ..errors import SimulationError

        raise SimulationError("the ranks' parameters diverged after training (the gradient allreduce failed)")
    return 0
