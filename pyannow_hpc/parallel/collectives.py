"""Allreduce of losses and gradients for data-parallel training.

Each rank holds a shard of the batch (or of the PINN's collocation points) and
the same parameters. Every step it computes the *sum* of its per-point losses
and their gradient, the ranks sum those over MPI, and everybody divides by the
global number of points: the result is exactly the full-batch mean gradient,
so the optimiser update is the same on every rank and the parameters never
drift apart (no broadcast needed after initialisation).

Reducers:

- ``mpi4jax``: the sum runs *inside* the jitted step (``mpi4jax.allreduce``),
  one message per step (the gradient pytree is flattened into one vector with
  the loss value in front), no host round trip; the same code runs on GPU.
- ``mpi4py``: the fallback when mpi4jax is not importable. The jitted part
  computes local sums, the host sums them with ``comm.Allreduce`` (outside
  jit), a second jitted function applies the update. Inside the L-BFGS line
  search, which needs the global loss inside optax's jitted while-loop, the
  same host allreduce is reached through ``jax.pure_callback``.
- ``none``: one rank, nothing to sum.

Cores (:func:`bind_local_cores`): XLA's CPU runtime runs independent ops of one
step concurrently on a thread pool sized from the process's CPU affinity, so
one unbound rank already keeps ~1.8 of 2 cores busy, and two unbound ranks on
2 cores are two ~18-thread processes time-sharing both cores: the 2-rank step
was no faster than one rank (issue 15). Training therefore gives each rank on
a node its own share of the cores the launcher allowed, unless the launcher
already bound the ranks apart (``srun --cpu-bind``, ``mpiexec -bind-to core``).
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ..errors import ConfigError
from .comm import world

REDUCERS = ("auto", "mpi4jax", "mpi4py", "none")


@functools.lru_cache(maxsize=None)
def mpi4jax_available() -> bool:
    """mpi4jax importable AND able to reduce arrays on JAX's default device.

    The Makefile builds mpi4jax without CUDA (empty CUDA_PATH); on a GPU such a
    build cannot touch device buffers, so there the host path (mpi4py) is used.
    """
    try:
        import mpi4jax
    except Exception:  # ImportError, or a build against another MPI/jaxlib
        return False
    backend = jax.default_backend()
    if backend == "gpu":
        return bool(mpi4jax.has_cuda_support())
    return backend == "cpu"


def resolve_reducer(name: str = "auto", comm=None) -> str:
    """Pick the reducer: ``auto`` = none on one rank, mpi4jax if importable, else mpi4py."""
    comm = comm or world()
    if name not in REDUCERS:
        raise ConfigError(f"unknown reducer {name!r}; choose one of {', '.join(REDUCERS)}")
    if name == "auto":
        if comm.Get_size() == 1:
            return "none"
        return "mpi4jax" if mpi4jax_available() else "mpi4py"
    if name == "mpi4jax" and not mpi4jax_available():
        raise ConfigError("reducer 'mpi4jax' requested but mpi4jax is not importable; use --reducer mpi4py or auto")
    if name in ("mpi4jax", "mpi4py") and not hasattr(comm, "Allreduce"):
        # the serial stand-in has no buffer API; one rank needs no reduction
        return "none"
    return name


def _split_cores(cpus: list[int], local_rank: int, local_size: int) -> set[int]:
    """Contiguous, near-equal share ``local_rank`` of ``cpus`` (one core at least)."""
    share = shard_slice(len(cpus), local_rank, local_size)
    return set(cpus[share])


def bind_local_cores(comm=None) -> set[int] | None:
    """Pin every thread of this rank to its own share of the node's allowed cores.

    Collective over ``comm``. Returns the cores this rank runs on, or ``None``
    when nothing was changed: one rank, ``PYANNOW_BIND_CORES=0``, fewer cores
    than ranks on the node (oversubscribed either way), or a launcher that
    already gave the ranks disjoint cores (that binding is respected). Threads
    that exist already (XLA's pool) are moved too: Linux affinity is per thread.
    """
    comm = comm or world()
    if comm.Get_size() == 1 or not hasattr(comm, "Split_type"):
        return None
    from mpi4py import MPI

    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        local_rank, local_size = node.Get_rank(), node.Get_size()
        cpus = sorted(os.sched_getaffinity(0))
        masks = node.allgather(cpus)
        disjoint = sum(len(m) for m in masks) == len(set().union(*map(set, masks)))
        # every rank takes the same decision (same inputs), so none is left waiting in a collective
        off = os.environ.get("PYANNOW_BIND_CORES", "1") == "0"
        if off or local_size == 1 or disjoint or any(len(m) < local_size for m in masks):
            return None
        mine = _split_cores(cpus, local_rank, local_size)
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), mine)
            except OSError:  # a thread that ended meanwhile
                pass
        return mine
    finally:
        node.Free()


def host_allreduce_sum(buf: np.ndarray, comm=None) -> np.ndarray:
    """Sum a flat float buffer over all ranks with mpi4py (outside jit)."""
    comm = comm or world()
    send = np.ascontiguousarray(buf)
    if comm.Get_size() == 1 or not hasattr(comm, "Allreduce"):
        return send.copy()
    from mpi4py import MPI

    recv = np.empty_like(send)
    comm.Allreduce(send, recv, op=MPI.SUM)
    return recv


def jit_allreduce_sum(buf: jax.Array, reducer: str, comm=None) -> jax.Array:
    """Sum a flat array over ranks from inside a jitted function."""
    comm = comm or world()
    if reducer == "none":
        return buf
    if reducer == "mpi4jax":
        import mpi4jax
        from mpi4py import MPI

        return mpi4jax.allreduce(buf, op=MPI.SUM, comm=comm)
    if reducer == "mpi4py":
        shape = jax.ShapeDtypeStruct(buf.shape, buf.dtype)
        return jax.pure_callback(lambda b: host_allreduce_sum(np.asarray(b), comm).astype(b.dtype), shape, buf)
    raise ConfigError(f"unknown reducer {reducer!r}")


def pack(value: jax.Array, grads) -> tuple[jax.Array, Callable]:
    """[value, *flat(grads)] as one vector, so one allreduce carries both."""
    flat, unravel = ravel_pytree(grads)
    return jnp.concatenate([jnp.reshape(value, (1,)).astype(flat.dtype), flat]), unravel


def global_value_and_grad(local_sum_fn: Callable, n_global: int, reducer: str, comm=None) -> Callable:
    """``(params, *shard) -> (mean loss, mean grad)`` over every rank's shard.

    ``local_sum_fn(params, *shard)`` returns the SUM of this rank's per-point
    losses; ``n_global`` is the number of points on all ranks together. Usable
    inside jit for reducers ``none``, ``mpi4jax`` and ``mpi4py`` (the latter via
    a host callback).
    """
    vg = jax.value_and_grad(local_sum_fn)

    def fn(params, *shard):
        value, grads = vg(params, *shard)
        buf, unravel = pack(value, grads)
        buf = jit_allreduce_sum(buf, reducer, comm) / n_global
        return buf[0], unravel(buf[1:])

    return fn


def global_loss(local_sum_fn: Callable, n_global: int, reducer: str, comm=None) -> Callable:
    """The global mean loss as a differentiable function of ``params``.

    Differentiating through an allreduce is ambiguous (every rank would also
    add the others' cotangents), so the gradient is attached with a
    ``custom_vjp``: the forward pass computes and reduces value and gradient
    together, the backward pass hands back the already-reduced gradient. This
    is what optax's L-BFGS line search calls (``value_and_grad`` of it).
    """
    gvg = global_value_and_grad(local_sum_fn, n_global, reducer, comm)

    @jax.custom_vjp
    def loss(params, *shard):
        return gvg(params, *shard)[0]

    def fwd(params, *shard):
        value, grads = gvg(params, *shard)
        return value, (grads, shard)

    def bwd(res, ct):
        grads, shard = res
        return (jax.tree.map(lambda g: ct * g, grads), *(jnp.zeros_like(s) for s in shard))

    loss.defvjp(fwd, bwd)
    return loss


def shard_slice(n_global: int, rank: int, size: int) -> slice:
    """Contiguous, near-equal shard of ``range(n_global)`` for ``rank``."""
    if n_global < size:
        raise ConfigError(f"cannot shard {n_global} points over {size} ranks: use at least one point per rank")
    base, extra = divmod(n_global, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def params_agree(params, comm=None, atol: float = 0.0) -> bool:
    """True when every rank holds the same parameters (max |p - p_rank0| <= atol)."""
    comm = comm or world()
    flat = np.asarray(ravel_pytree(params)[0], dtype=np.float64)
    ref = comm.bcast(flat, root=0)
    ok = bool(np.max(np.abs(flat - ref), initial=0.0) <= atol)
    return all(comm.allgather(ok))


def time_allreduce(n_floats: int, reducer: str, repeats: int = 200, comm=None) -> float:
    """Median seconds of one allreduce of ``n_floats`` float32, as the training step does it.

    A barrier precedes every call, so the time one rank waits for a slower one
    (load imbalance) is not counted: this is the cost of the communication.
    """
    import time

    comm = comm or world()
    x = jnp.ones(n_floats, jnp.float32)
    if reducer == "mpi4py":
        fn = lambda b: host_allreduce_sum(np.asarray(b), comm)  # noqa: E731
    else:
        fn = jax.jit(lambda b: jit_allreduce_sum(b, reducer, comm))
    np.asarray(fn(x))  # compile / warm up
    times = []
    for _ in range(repeats):
        comm.barrier()
        t0 = time.perf_counter()
        np.asarray(fn(x))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
