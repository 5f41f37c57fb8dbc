"""Training jobs for ``pyannow-hpc train``: real worm + target -> a sharded problem.

Rank 0 loads the score and simulates the worm once; the frames go to every
rank by broadcast (``parallel.comm.on_root``: an error on rank 0 is raised on
every rank, so all ranks fail together instead of deadlocking); each rank then
builds the same global problem and trains on its shard with the gradient
allreduce of :mod:`.optim`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from jax.flatten_util import ravel_pytree

from ..errors import ConfigError
from ..parallel.collectives import params_agree
from ..parallel.comm import on_root
from ..worm import DEFAULT_MODEL
from . import pinn_ode, pinn_pde
from .features import activity_features, onset_labels
from .hybrid import HIDDEN, hybrid_features, train_hybrid
from .procrustes import build_chopin_features, chopin_raw
from .svd import NeuralScores


@dataclass
class Job:
    net: str
    n_points: int  # global collocation points (PINN) or frames (hybrid)
    train: Callable  # (config, comm) -> (params, history)
    describe: Callable  # params -> dict of learned physics


def _simulate_worm(target, target_path, params, backend, model, integrator, dt_ms, seed, duration_s, window_start_s,
                   burn_in_s):
    """(frame times, z-scored worm matrix, target window, drive f) -- on rank 0 alone.

    With ``burn_in_s`` the worm runs that much longer and its start is dropped,
    as ``pipeline.evaluate_params`` does for a sweep's task."""
    from ..music.target import load_target
    from ..pipeline import discard_burn_in
    from ..worm import simulate

    if target is None:
        target = load_target(target_path)
    target = target.window(window_start_s, window_start_s + duration_s)
    act = simulate(params, backend=backend, model=model, duration_s=duration_s + burn_in_s, seed=seed,
                   integrator=integrator, dt_ms=dt_ms)
    feats = activity_features(discard_burn_in(act, burn_in_s))
    return feats.t_s, feats.matrix(), target, feats.drive_freq_hz or 1.5


def build_job(net: str, *, params=None, backend="native", model=DEFAULT_MODEL, integrator="exponential", dt_ms=0.5,
              seed=0, duration_s=10.0, n_colloc=200, target_path=None, target=None, window_start_s=0.0,
              burn_in_s=0.0, prior=None, prior_key: tuple = (), comm) -> Job:
    """``target`` (a NoteSequence, e.g. a sweep ledger's) wins over ``target_path``;
    the worm (after ``burn_in_s`` of discarded warm-up) is compared with the
    target window ``[window_start_s, window_start_s + duration_s)``.
    ``prior`` (PINNs only): a Bayesian prior on the physical parameters
    (:mod:`~pyannow_hpc.learn.physics_prior`), ``prior_key`` naming it."""
    from .physics_prior import prior_report

    t_s, X, target, f_hz = on_root(comm, _simulate_worm, target, target_path, params, backend, model, integrator,
                                   dt_ms, seed, duration_s, window_start_s, burn_in_s)
    if len(target) == 0:
        raise ConfigError(f"the target has no notes in {window_start_s:g}-{window_start_s + duration_s:g} s")
    n = len(t_s)
    Z = NeuralScores(4, seed).fit(X).transform(X)
    Z = (Z - Z.mean(0)) / np.maximum(Z.std(0), 1e-9)
    if net == "ode":
        C = build_chopin_features(chopin_raw(target, n, 50.0), k=4).transform(chopin_raw(target, n, 50.0))
        prob = pinn_ode.make_problem(t_s, Z, C, n_colloc=n_colloc, drive_freq_hz=f_hz)
        return Job(net, n_colloc, lambda cfg, comm: pinn_ode.train(prob, cfg, seed, comm, prior, prior_key),
                   lambda p: {**pinn_ode.losses(p, prob, t_s, C, Z), **prior_report("ode", prior, p)})
    if net == "pde":
        n_x = max(2, int(round(np.sqrt(n_colloc * 2))))  # the seed's grids are wider in x than in t
        n_t = max(2, int(np.ceil(n_colloc / n_x)))
        v = X[:, :96]
        roll = np.zeros((n, 96))
        f = np.floor(target.onset_s * 50.0).astype(int)
        ok = (f < n) & (target.pitch >= 24) & (target.pitch < 120)
        np.add.at(roll, (f[ok], target.pitch[ok] - 24), 1.0)
        prob = pinn_pde.make_problem(t_s, v, roll, n_x=n_x, n_t=n_t, drive_freq_hz=f_hz, seed=seed)
        return Job(net, n_x * n_t, lambda cfg, comm: pinn_pde.train(prob, cfg, seed, comm, prior, prior_key),
                   lambda p: {**pinn_pde.losses(p, prob, t_s, v, roll), **prior_report("pde", prior, p)})
    if net == "hybrid":
        Xh = hybrid_features(t_s, t_s[-1] + 1 / 50.0, Z, 50.0)
        y = onset_labels(target, n)

        def train(cfg, comm):
            clf = train_hybrid(Xh, y, cfg, seed, comm=comm)
            return clf.params, clf.history

        return Job(net, n, train, lambda p: {"hidden": list(HIDDEN)})
    raise ConfigError(f"unknown net {net!r}; choose ode, pde or hybrid")


def summary(job: Job, params, hist, comm) -> dict:
    import jax

    med = lambda xs: float(np.median(xs)) * 1000.0 if xs else None  # noqa: E731
    return {
        "net": job.net,
        "ranks": comm.Get_size(),
        "reducer": hist.reducer,
        "device": jax.default_backend(),
        "global_points": job.n_points,
        "n_params": int(ravel_pytree(params)[0].size),
        "adam_step_ms": med(hist.adam_step_s),
        "adam_step_cpu_ms": med(hist.adam_step_cpu_s),  # rank 0's process CPU per step (load-independent work)
        "lbfgs_step_ms": med(hist.lbfgs_step_s),
        "compile_s": round(hist.compile_s, 3),
        "train_s": round(hist.compile_s + sum(hist.adam_step_s) + sum(hist.lbfgs_step_s), 3),
        "first_loss": hist.loss[0] if hist.loss else None,
        "final_loss": hist.final_loss,
        "params_identical_on_all_ranks": params_agree(params, comm),
        **{k: v for k, v in job.describe(params).items()},
    }


def write_params(path, params) -> Path:
    """Flattened parameters as .npz, atomically (temp file + os.replace)."""
    import jax

    from ..store.atomic import atomic_path

    flat, _ = ravel_pytree(params)
    leaves = {"/".join(str(getattr(k, "key", k)) for k in kp): np.asarray(v)
              for kp, v in jax.tree_util.tree_flatten_with_path(params)[0]}
    final = Path(path)
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, flat=np.asarray(flat), **leaves)
    return final
