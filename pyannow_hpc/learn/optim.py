"""Adam, then L-BFGS: the seed's two-stage optimiser, data-parallel over MPI.

``fit`` takes ``local_loss(params, *shard)``: this rank's additive share of
the global loss (its points' losses divided by the GLOBAL point count), so
that the sum over ranks is the full-batch loss. Gradients are summed over
ranks every step (:mod:`pyannow_hpc.parallel.collectives`); every rank applies
the same update and the parameters stay identical without a broadcast.

- Adam (optax) for ``adam_steps`` jitted steps;
- then ``optax.lbfgs`` (memory 10, zoom line search) for ``lbfgs_steps``;
  the line search evaluates the global loss, so it also sees every shard.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..parallel import collectives as coll
from ..parallel.comm import world
from ..errors import ConfigError


@dataclass(frozen=True)
class TrainConfig:
    adam_steps: int = 500
    lbfgs_steps: int = 50
    learning_rate: float = 1e-3
    lbfgs_memory: int = 10
    reducer: str = "auto"  # auto | mpi4jax | mpi4py | none

    def __post_init__(self) -> None:
        for name in ("adam_steps", "lbfgs_steps"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.lbfgs_memory < 1:
            raise ConfigError(f"lbfgs_memory must be >= 1, got {self.lbfgs_memory}")


@dataclass
class TrainHistory:
    loss: list[float] = field(default_factory=list)
    adam_step_s: list[float] = field(default_factory=list)  # wall time per Adam step (blocking)
    # CPU seconds of this process (all its threads) per Adam step: on a shared machine the
    # wall time follows the load, this follows the work (an MPI wait that spins counts too)
    adam_step_cpu_s: list[float] = field(default_factory=list)
    lbfgs_step_s: list[float] = field(default_factory=list)
    reducer: str = "none"
    compile_s: float = 0.0

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else float("nan")


def _block(x):
    return jax.tree.map(lambda a: a.block_until_ready(), x)


#: jitted step functions by (cache_key, stage, reducer, settings): a second fit of the same problem
#: family with the same shapes (e.g. the held-out refit of a step) reuses the compiled code
_STEPS: dict[tuple, Callable] = {}


def _cached(key: tuple | None, make: Callable[[], Callable]) -> Callable:
    if key is None:
        return make()
    if key not in _STEPS:
        _STEPS[key] = make()
    return _STEPS[key]


def fit(local_loss: Callable, params, shard: tuple = (), config: TrainConfig = TrainConfig(), comm=None,
        record_every: int = 1, cache_key: Hashable | None = None) -> tuple[object, TrainHistory]:
    """Train ``params`` on this rank's ``shard``; returns (params, history). Same result on every rank.

    ``cache_key``: a hashable naming everything ``local_loss`` closes over (architecture,
    constants). Fits with equal keys share their jitted steps, so equal shapes compile once.
    """
    comm = comm or world()
    coll.bind_local_cores(comm)  # before the first step: one rank per core share, see collectives
    reducer = coll.resolve_reducer(config.reducer, comm)
    ckey = None if cache_key is None else (cache_key, reducer, config.learning_rate, config.lbfgs_memory, id(comm))
    hist = TrainHistory(reducer=reducer)
    shard = tuple(jnp.asarray(s) for s in shard)

    if config.adam_steps:
        adam = optax.adam(config.learning_rate)
        step = _cached(ckey and ckey + ("adam",), lambda: _adam_step_fn(local_loss, adam, reducer, comm))
        params = _loop(step, params, adam.init(params), shard, config.adam_steps, hist, hist.adam_step_s, record_every,
                       hist.adam_step_cpu_s)
    if config.lbfgs_steps:
        lbfgs = optax.lbfgs(memory_size=config.lbfgs_memory)
        step = _cached(ckey and ckey + ("lbfgs",),
                       lambda: jax.jit(_lbfgs_step_fn(coll.global_loss(local_loss, 1, reducer, comm), lbfgs)))
        # strong-typed state: init's weak-typed scalars would retrace the step after its first call
        state = jax.tree.map(lambda x: jnp.array(x, dtype=x.dtype), lbfgs.init(params))
        params = _loop(step, params, state, shard, config.lbfgs_steps, hist, hist.lbfgs_step_s, 1)
    return params, hist


def _loop(step, params, state, shard, n_steps: int, hist: TrainHistory, times: list, record_every: int,
          cpu_times: list | None = None):
    """Run ``n_steps``; the first call (compile + step) is booked as compile time, the rest per step."""
    for i in range(n_steps):
        t0, c0 = time.perf_counter(), time.process_time()
        params, state, value = _block(step(params, state, *shard))
        if i == 0:
            hist.compile_s += time.perf_counter() - t0
        else:
            times.append(time.perf_counter() - t0)
            if cpu_times is not None:
                cpu_times.append(time.process_time() - c0)
        if i % record_every == 0 or i == n_steps - 1:
            hist.loss.append(float(value))
    return params


def _adam_step_fn(local_loss: Callable, opt: optax.GradientTransformation, reducer: str, comm):
    if reducer in ("none", "mpi4jax"):
        gvg = coll.global_value_and_grad(local_loss, 1, reducer, comm)

        @jax.jit
        def step(params, state, *shard):
            value, grads = gvg(params, *shard)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, value

        return step

    # mpi4py fallback: local sums in jit, the allreduce on the host, the update in jit
    vg = jax.value_and_grad(local_loss)

    @jax.jit
    def local(params, *shard):
        return coll.pack(*vg(params, *shard))[0]

    @jax.jit
    def apply(params, state, buf):
        grads = coll.pack(jnp.zeros(()), params)[1](buf[1:])
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, buf[0]

    def step(params, state, *shard):
        buf = coll.host_allreduce_sum(np.asarray(local(params, *shard)), comm)
        return apply(params, state, jnp.asarray(buf))

    return step


def _lbfgs_step_fn(loss: Callable, opt: optax.GradientTransformationExtraArgs):
    def step(params, state, *shard):
        fn = lambda p: loss(p, *shard)  # noqa: E731
        value, grads = optax.value_and_grad_from_state(fn)(params, state=state)
        updates, state = opt.update(grads, state, params, value=value, grad=grads, value_fn=fn)
        return optax.apply_updates(params, updates), state, value

    return step
