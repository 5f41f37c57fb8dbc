"""Step 8b: PDE PINN, ρ q_tt − μ q_xx + γ q_t = F(x, t), collocation on an (x, t) grid.

The worm's 96 muscles map to 96 pitches (muscle i -> MIDI 24 + i), so one
coordinate x ∈ [0, 1] runs both along the muscle index and up the keyboard:
x = i / 95 = (pitch − 24) / 95. q(x, t) is a tanh MLP fitted to the target's
blurred piano roll at (pitch, time) data points while obeying a damped wave
equation driven by the worm's muscle activity at the same x:

    F(x, t) = a · v(x, t)          v = z-scored muscle V, linearly interpolated in x
    L = mean (q − roll)² + λ_p mean ((ρ q_tt − μ q_xx + γ q_t − F)/s0)²,   λ_p = 0.1

ρ, μ, γ, a are learned (log-parametrised). s0 = (2π f_drive)² keeps the
residual O(1). Second derivatives: ``jax.jacfwd(jax.grad(q))`` (the 2×2
Hessian in (x, t)) per point, vmapped; collocation points are sharded over
MPI ranks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..parallel.collectives import shard_slice
from ..parallel.comm import world
from ..errors import ConfigError
from .mlp import MLP
from .optim import TrainConfig, TrainHistory, fit
from .pinn_ode import LAMBDA_PHYS


@dataclass(frozen=True)
class PdeProblem:
    xt_data: np.ndarray  # (n_d, 2) x ∈ [0, 1], t in s
    y_data: np.ndarray  # (n_d,) target roll density
    xt_colloc: np.ndarray  # (n_c, 2)
    f_colloc: np.ndarray  # (n_c,) worm forcing v(x, t)
    period_s: float
    s0: float = (2 * np.pi * 1.5) ** 2
    lambda_phys: float = LAMBDA_PHYS

    @property
    def cache_key(self) -> tuple:
        return ("pde_pinn", float(self.period_s), float(self.s0), float(self.lambda_phys), len(self.y_data), len(self.f_colloc))

    def shard(self, rank: int, size: int) -> tuple[np.ndarray, ...]:
        d = shard_slice(len(self.y_data), rank, size)
        c = shard_slice(len(self.f_colloc), rank, size)
        f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
        return f32(self.xt_data[d]), f32(self.y_data[d]), f32(self.xt_colloc[c]), f32(self.f_colloc[c])


def interp_field(field: np.ndarray, t_s: np.ndarray, xt: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a (n_frames, n_x) field on x = j/(n_x−1) at points (x, t)."""
    from scipy.interpolate import RegularGridInterpolator

    x_grid = np.linspace(0.0, 1.0, field.shape[1])
    f = RegularGridInterpolator((np.asarray(t_s, float), x_grid), np.asarray(field, float), bounds_error=False, fill_value=None)
    return f(np.column_stack([xt[:, 1], xt[:, 0]]))


def make_problem(t_s: np.ndarray, worm_v: np.ndarray, roll: np.ndarray, n_x: int = 20, n_t: int = 10,
                 n_data: int = 2000, drive_freq_hz: float = 1.5, seed: int = 0, mask: np.ndarray | None = None) -> PdeProblem:
    """Collocation on an n_x × n_t grid over the span of the ``mask`` frames; ``n_data`` random
    (x, t) data points of the roll drawn from those frames (shapes never depend on the split).

    ``worm_v`` (n_frames, 96) is the z-scored muscle activity (missing slots 0),
    ``roll`` (n_frames, 96) the target's blurred onsets per pitch 24..119.
    """
    t_s = np.asarray(t_s, float)
    if worm_v.shape != roll.shape or worm_v.shape[0] != len(t_s):
        raise ConfigError(f"worm field {worm_v.shape} and target roll {roll.shape} must both be (n_frames={len(t_s)}, n_x)")
    if n_x < 2 or n_t < 2 or n_data < 1:
        raise ConfigError(f"need n_x, n_t >= 2 and n_data >= 1, got {n_x}, {n_t}, {n_data}")
    mask = np.ones(len(t_s), bool) if mask is None else np.asarray(mask, bool)
    if not mask.any():
        raise ConfigError("the PDE PINN needs at least one training frame")
    xx, tt = np.meshgrid(np.linspace(0, 1, n_x), np.linspace(t_s[mask][0], t_s[mask][-1], n_t), indexing="ij")
    xt_c = np.column_stack([xx.ravel(), tt.ravel()])
    rng = np.random.default_rng(seed)
    i = rng.choice(np.flatnonzero(mask), n_data)
    j = rng.integers(0, roll.shape[1], n_data)
    xt_d = np.column_stack([j / (roll.shape[1] - 1), t_s[i]])
    return PdeProblem(xt_d, roll[i, j], xt_c, interp_field(worm_v, t_s, xt_c), float(t_s[-1] - t_s[0]) or 1.0,
                      (2 * np.pi * drive_freq_hz) ** 2)


_NET = MLP((32, 32), 1, "tanh")


def init_params(problem: PdeProblem, seed: int = 0) -> dict:
    return {
        "net": _NET.init(jax.random.PRNGKey(seed), jnp.zeros((1, 2))),
        "log_rho": jnp.float32(0.0),
        # wave speed c = 1 body length per drive cycle -> mu/rho = f^2 (f in Hz)
        "log_mu": jnp.log(jnp.float32(problem.s0 / (2 * np.pi) ** 2)),
        "log_gamma": jnp.float32(0.0),
        "gain": jnp.float32(1.0),
    }


def q_of_xt(params: dict, period_s: float):
    """(x, t_s) -> scalar q."""
    return lambda x, t: _NET.apply(params["net"], jnp.stack([2.0 * x - 1.0, 2.0 * t / period_s - 1.0])[None, :])[0, 0]


def residual(params: dict, problem: PdeProblem, xt, f):
    q = q_of_xt(params, problem.period_s)
    grad = jax.grad(q, argnums=(0, 1))
    hess = jax.jacfwd(grad, argnums=(0, 1))

    def one(p):
        x, t = p[0], p[1]
        q_t = grad(x, t)[1]
        h = hess(x, t)
        return jnp.exp(params["log_rho"]) * h[1][1] - jnp.exp(params["log_mu"]) * h[0][0] + jnp.exp(params["log_gamma"]) * q_t

    return (jax.vmap(one)(xt) - params["gain"] * f) / problem.s0


def local_loss_fn(problem: PdeProblem):
    n_d, n_c = len(problem.y_data), len(problem.f_colloc)

    def loss(params, xt_d, y_d, xt_c, f_c):
        q = jax.vmap(q_of_xt(params, problem.period_s))(xt_d[:, 0], xt_d[:, 1])
        return jnp.sum((q - y_d) ** 2) / n_d + problem.lambda_phys * jnp.sum(residual(params, problem, xt_c, f_c) ** 2) / n_c

    return loss


def train(problem: PdeProblem, config: TrainConfig = TrainConfig(), seed: int = 0, comm=None, prior=None,
          prior_key: tuple = ()) -> tuple[dict, TrainHistory]:
    """``prior``: an optional Bayesian prior on the physical parameters
    (:mod:`~pyannow_hpc.learn.physics_prior`); ``prior_key`` names it for the jit cache."""
    from .physics_prior import with_prior

    comm = comm or world()
    shard = problem.shard(comm.Get_rank(), comm.Get_size())
    loss = with_prior(local_loss_fn(problem), "pde", prior, comm.Get_size())
    return fit(loss, init_params(problem, seed), shard, config, comm, record_every=50,
               cache_key=problem.cache_key + tuple(prior_key))


@functools.lru_cache(maxsize=16)
def _evaluators(period_s: float, s0: float):
    """Jitted q on a grid and the residual for one problem family (eager evaluation is ~100x slower)."""
    shape = PdeProblem(np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2)), np.zeros(1), period_s, s0)
    grid = jax.jit(lambda params, x, t: jax.vmap(jax.vmap(q_of_xt(params, period_s), (0, None)), (None, 0))(x, t))
    res = jax.jit(lambda params, xt, f: residual(params, shape, xt, f))
    return grid, res


def predict_field(params: dict, problem: PdeProblem, t_s: np.ndarray, n_x: int = 96) -> np.ndarray:
    """q on the (frames × n_x) grid."""
    grid, _ = _evaluators(float(problem.period_s), float(problem.s0))
    return np.asarray(grid(params, jnp.linspace(0.0, 1.0, n_x), jnp.asarray(t_s, jnp.float32)))


def losses(params: dict, problem: PdeProblem, t_s: np.ndarray, worm_v: np.ndarray, roll: np.ndarray) -> dict[str, float]:
    """Data MSE on the whole (frames × pitches) grid and physics MSE on a grid over these frames."""
    q = predict_field(params, problem, t_s, roll.shape[1])
    xx, tt = np.meshgrid(np.linspace(0, 1, 12), np.linspace(t_s[0], t_s[-1], 12), indexing="ij")
    xt = np.column_stack([xx.ravel(), tt.ravel()])
    _, res = _evaluators(float(problem.period_s), float(problem.s0))
    r = res(params, jnp.asarray(xt, jnp.float32), jnp.asarray(interp_field(worm_v, t_s, xt), jnp.float32))
    return {"data_mse": float(np.mean((q - roll) ** 2)), "phys_mse": float(jnp.mean(r**2)),
            "rho": float(jnp.exp(params["log_rho"])), "mu": float(jnp.exp(params["log_mu"])),
            "gamma_per_s": float(jnp.exp(params["log_gamma"]))}
