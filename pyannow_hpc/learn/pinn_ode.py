"""Step 8a: ODE PINN, q̈_j + 2γ q̇_j + ω² q_j = F_j(t), collocation in time.

q(t) ∈ R^k is a tanh MLP of time; it is fitted to the Chopin features c(t)
(data loss) while obeying a damped oscillator driven by the worm, F_j(t) =
a_j z_j(t) with z the worm's PCA scores (physics loss at collocation times):

    L = mean |q(t_d) − c(t_d)|² + λ_p mean |(q̈ + 2γq̇ + ω²q − F)/ω0²|²,  λ_p = 0.1

γ (1/s), ω (rad/s) and the gains a_j are learned with the network (log-
parametrised to stay positive). The residual is divided by the fixed ω0² of
the initial guess so that both terms are O(1) whatever the time scale.
Derivatives in time come from ``jax.jacfwd`` applied twice; the training steps
are jitted (:mod:`.optim`), and the data and collocation points are sharded
over MPI ranks.
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

LAMBDA_PHYS = 0.1


@dataclass(frozen=True)
class OdeProblem:
    """Global (unsharded) data and collocation points; times in seconds."""

    t_data_s: np.ndarray  # (n_d,)
    c_data: np.ndarray  # (n_d, k) target features
    t_colloc_s: np.ndarray  # (n_c,)
    f_colloc: np.ndarray  # (n_c, k) worm forcing z(t) at the collocation times
    period_s: float  # time normaliser of the network input
    omega0_rad_s: float = 2 * np.pi * 1.5  # initial ω (the body-wave frequency)
    lambda_phys: float = LAMBDA_PHYS
    w_data: np.ndarray | None = None  # (n_d,) weights summing to 1 (0 = not a training point)

    def __post_init__(self) -> None:
        if self.w_data is None:
            object.__setattr__(self, "w_data", np.full(len(self.t_data_s), 1.0 / len(self.t_data_s)))

    @property
    def cache_key(self) -> tuple:
        """Everything the loss closes over: equal keys + equal shapes share compiled steps."""
        return ("ode_pinn", self.k, float(self.period_s), float(self.omega0_rad_s), float(self.lambda_phys))

    @property
    def k(self) -> int:
        return self.c_data.shape[1]

    def shard(self, rank: int, size: int) -> tuple[np.ndarray, ...]:
        d = shard_slice(len(self.t_data_s), rank, size)
        c = shard_slice(len(self.t_colloc_s), rank, size)
        f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
        return (f32(self.t_data_s[d]), f32(self.c_data[d]), f32(self.w_data[d]), f32(self.t_colloc_s[c]),
                f32(self.f_colloc[c]))


def make_problem(t_s: np.ndarray, z: np.ndarray, c: np.ndarray, n_colloc: int = 200, drive_freq_hz: float = 1.5,
                 mask: np.ndarray | None = None) -> OdeProblem:
    """Data at every frame where ``mask`` holds (weight 0 elsewhere, so shapes do not depend on
    the split); collocation on an even grid over the masked span (the seed's linspace)."""
    t_s, z, c = np.asarray(t_s, float), np.asarray(z, float), np.asarray(c, float)
    if z.shape != c.shape or z.shape[0] != len(t_s):
        raise ConfigError(f"worm scores {z.shape} and target features {c.shape} must both be (n_frames={len(t_s)}, k)")
    if n_colloc < 1:
        raise ConfigError(f"n_colloc must be >= 1, got {n_colloc}")
    mask = np.ones(len(t_s), bool) if mask is None else np.asarray(mask, bool)
    if not mask.any():
        raise ConfigError("the ODE PINN needs at least one training frame")
    tc = np.linspace(t_s[mask][0], t_s[mask][-1], n_colloc)
    fc = np.column_stack([np.interp(tc, t_s, z[:, j]) for j in range(z.shape[1])])
    return OdeProblem(t_s, c, tc, fc, float(t_s[-1] - t_s[0]) or 1.0, 2 * np.pi * drive_freq_hz,
                      w_data=mask / mask.sum())


def _net(k: int) -> MLP:
    return MLP((32, 32), k, "tanh")


def init_params(problem: OdeProblem, seed: int = 0) -> dict:
    k = problem.k
    return {
        "net": _net(k).init(jax.random.PRNGKey(seed), jnp.zeros((1, 1))),
        "log_gamma": jnp.log(jnp.float32(1.0)),
        "log_omega": jnp.log(jnp.float32(problem.omega0_rad_s)),
        "gain": jnp.full((k,), problem.omega0_rad_s**2, jnp.float32),
    }


def q_of_t(params: dict, k: int, period_s: float):
    """Scalar time (s) -> q (k,)."""
    net = _net(k)
    return lambda t: net.apply(params["net"], jnp.reshape(2.0 * t / period_s - 1.0, (1, 1)))[0]


def residual(params: dict, problem: OdeProblem, t_c, f_c):
    """(q̈ + 2γq̇ + ω²q − F) / ω0² at each collocation time: (n_c, k)."""
    q = q_of_t(params, problem.k, problem.period_s)
    dq = jax.jacfwd(q)
    ddq = jax.jacfwd(dq)
    gamma, omega = jnp.exp(params["log_gamma"]), jnp.exp(params["log_omega"])
    r = jax.vmap(lambda t: ddq(t) + 2 * gamma * dq(t) + omega**2 * q(t))(t_c)
    return (r - params["gain"] * f_c) / problem.omega0_rad_s**2


def local_loss_fn(problem: OdeProblem):
    """This rank's share of L = L_data + λ_p L_phys (divided by the GLOBAL counts)."""
    n_c, k = len(problem.t_colloc_s), problem.k

    def loss(params, t_d, c_d, w_d, t_c, f_c):
        q = jax.vmap(q_of_t(params, k, problem.period_s))(t_d)
        data = jnp.sum(w_d[:, None] * (q - c_d) ** 2) / k
        phys = jnp.sum(residual(params, problem, t_c, f_c) ** 2) / (n_c * k)
        return data + problem.lambda_phys * phys

    return loss


def train(problem: OdeProblem, config: TrainConfig = TrainConfig(), seed: int = 0, comm=None, prior=None,
          prior_key: tuple = ()) -> tuple[dict, TrainHistory]:
    """``prior``: an optional Bayesian prior on the physical parameters
    (:mod:`~pyannow_hpc.learn.physics_prior`); ``prior_key`` names it for the jit cache."""
    from .physics_prior import with_prior

    comm = comm or world()
    shard = problem.shard(comm.Get_rank(), comm.Get_size())
    loss = with_prior(local_loss_fn(problem), "ode", prior, comm.Get_size())
    return fit(loss, init_params(problem, seed), shard, config, comm, record_every=50,
               cache_key=problem.cache_key + (len(problem.t_colloc_s),) + tuple(prior_key))


@functools.lru_cache(maxsize=16)
def _evaluators(k: int, period_s: float, omega0_rad_s: float):
    """Jitted q(t) and residual(t, F) for one problem family (eager vmap(jacfwd) is ~100x slower)."""
    shape = OdeProblem(np.zeros(1), np.zeros((1, k)), np.zeros(1), np.zeros((1, k)), period_s, omega0_rad_s)
    q = jax.jit(lambda params, t: jax.vmap(q_of_t(params, k, period_s))(t))
    r = jax.jit(lambda params, t, f: residual(params, shape, t, f))
    return q, r


def predict(params: dict, problem: OdeProblem, t_s: np.ndarray) -> np.ndarray:
    q, _ = _evaluators(problem.k, float(problem.period_s), float(problem.omega0_rad_s))
    return np.asarray(q(params, jnp.asarray(t_s, jnp.float32)))


def losses(params: dict, problem: OdeProblem, t_s: np.ndarray, c: np.ndarray, f: np.ndarray) -> dict[str, float]:
    """Data MSE and physics residual MSE on any frames (e.g. held-out ones)."""
    _, res = _evaluators(problem.k, float(problem.period_s), float(problem.omega0_rad_s))
    data = float(np.mean((predict(params, problem, t_s) - c) ** 2))
    phys = float(jnp.mean(res(params, jnp.asarray(t_s, jnp.float32), jnp.asarray(f, jnp.float32)) ** 2))
    return {"data_mse": data, "phys_mse": phys, "gamma_per_s": float(jnp.exp(params["log_gamma"])),
            "omega_rad_s": float(jnp.exp(params["log_omega"]))}
