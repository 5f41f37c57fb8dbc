"""Gradient mode: optax Adam, then optax L-BFGS, through the JAX worm.

The variables are ``Z`` (n_starts, d): ``u = sigmoid(z)`` maps each row onto
the unit cube, so every step stays inside the search range.  The work items
are (start, window) pairs -- multi-start and data parallelism in one: each
rank takes a contiguous share of the items, computes their losses and
gradients, scatters them into per-start sums, and one allreduce
inside the jitted step (mpi4jax; a host callback with mpi4py otherwise;
parallel/collectives.py) gives every rank the same (S,) losses and (S, d)
gradients, hence the same update: parameters never drift apart.  Ranks with
fewer items simply contribute zeros to the sum.

Adam is elementwise, so Adam on the stacked starts is exactly S independent
runs.  L-BFGS (not elementwise) then refines the best start alone.

Forward mode (``jacfwd``: one tangent per free value, vmapped, the primal run
once) is the default for <= 16 values: the scan's reverse pass stores every
state and costs ~3x a forward-mode step here (benchmarks/bench_optimize.py);
reverse mode is what per-muscle (96-value) problems need.
"""
from __future__ import annotations

import numpy as np

from ..parallel import collectives as coll
from .objective import Problem

FORWARD_MAX_VALUES = 16


def _items(n_starts: int, n_windows: int, rank: int, size: int):
    """This rank's (start, window) item indices and 0/1 weights (0 = padding past the end)."""
    n = n_starts * n_windows
    per = -(-n // size)
    idx = np.arange(rank * per, (rank + 1) * per)
    weight = (idx < n).astype(float)
    idx = np.where(idx < n, idx, 0)
    return idx // n_windows, idx % n_windows, weight


def resolve_mode(mode: str, dim: int) -> str:
    return ("forward" if dim <= FORWARD_MAX_VALUES else "reverse") if mode == "auto" else mode


class GlobalLoss:
    """``vg(Z) -> (losses (S,), grads (S, d))``: global means over windows, prior included."""

    def __init__(self, problem: Problem, n_starts: int, comm, reducer: str, mode: str, prior=None):
        import jax
        import jax.numpy as jnp

        self.problem, self.n_starts = problem, n_starts
        windows = problem.windows
        n_w = len(windows)
        s_idx, w_idx, weight = _items(n_starts, n_w, comm.Get_rank(), comm.Get_size())
        on, pi, mk = problem.target_arrays(windows)
        seeds = np.array([w.seed for w in windows], dtype=np.uint64)
        # the items' data enter as constants, unrolled over this rank's few items:
        # jacfwd of the scan with the window data as traced (vmapped or lax.mapped)
        # arguments crashed XLA's CPU compiler here (segfault, jax 0.10.2)
        items = [(int(s_idx[k]), on[w_idx[k]], pi[w_idx[k]], mk[w_idx[k]], np.uint64(seeds[w_idx[k]]), float(weight[k]))
                 for k in range(len(s_idx)) if weight[k] > 0]
        mode = resolve_mode(mode, problem.space.dim)
        self.mode, self.reducer = mode, reducer

        def f(z, on, pi, mk, seed):
            return problem.item_loss(jax.nn.sigmoid(z), on, pi, mk, seed)

        def item_vg(z, *a):
            if mode == "forward":
                jac, val = jax.jacfwd(lambda zz: (f(zz, *a),) * 2, has_aux=True)(z)
                return val, jac
            return jax.value_and_grad(f)(z, *a)

        def prior_vg(z):
            return jax.value_and_grad(lambda zz: prior.penalty(problem.space.search_coords(
                problem.space.values(jax.nn.sigmoid(zz), jnp), jnp)))(z)

        def vg(Z):
            loss_s, grad_s = jnp.zeros(n_starts), jnp.zeros_like(Z)
            for si, on_, pi_, mk_, sd, wt in items:
                val, grad = item_vg(Z[si], on_, pi_, mk_, sd)
                loss_s, grad_s = loss_s.at[si].add(wt * val), grad_s.at[si].add(wt * grad)
            buf = jnp.concatenate([loss_s, grad_s.ravel()])
            buf = coll.jit_allreduce_sum(buf, reducer, comm) / n_w
            loss_s, grad_s = buf[:n_starts], buf[n_starts:].reshape(Z.shape)
            if prior is not None:
                pv, pg = jax.vmap(prior_vg)(Z)
                loss_s, grad_s = loss_s + pv, grad_s + pg
            return loss_s, grad_s

        self.vg = vg

        @jax.custom_vjp
        def value(z):  # one start, for L-BFGS's line search (value_and_grad of it)
            return vg(z[None])[0][0]

        def fwd(z):
            l, g = vg(z[None])
            return l[0], g[0]

        value.defvjp(fwd, lambda g, ct: (ct * g,))
        self.value = value


class GradientMethod:
    """Adam on all starts for ``adam_steps`` iterations, then L-BFGS on the best one."""

    def __init__(self, problem: Problem, comm, prior=None):
        import optax

        cfg = problem.cfg
        self.problem, self.cfg, self.comm, self.prior = problem, cfg, comm, prior
        g, b = cfg.gradient, cfg.budget
        self.reducer = coll.resolve_reducer(g.reducer, comm)
        n_items = g.n_starts * len(problem.windows)
        if g.optimizer == "adam":
            self.adam_steps = b.max_iterations
        elif g.optimizer == "lbfgs":
            self.adam_steps = 0
        else:
            self.adam_steps = g.adam_steps or int(round(0.8 * b.max_iterations))
        self.loss_all = GlobalLoss(problem, g.n_starts, comm, self.reducer, g.mode, prior)
        self.loss_one = GlobalLoss(problem, 1, comm, self.reducer, g.mode, prior) if self.adam_steps < b.max_iterations else None
        self.n_items = n_items
        tx = [optax.normalize_by_update_norm(scale_factor=1.0)] if g.normalize_step else []
        self.adam = optax.chain(*tx, optax.adam(g.learning_rate))
        self.lbfgs = optax.lbfgs(memory_size=10)
        self._steps = {}

    # ---------------------------------------------------------------- state
    def initial_state(self) -> dict:
        """Start 0 at the defaults (or [fixed]); the others uniform in the cube, seeded."""
        import jax.numpy as jnp

        sp, g = self.problem.space, self.cfg.gradient
        rng = np.random.default_rng(self.cfg.budget.seed)
        U = np.vstack([sp.start_unit()[None], rng.uniform(0.05, 0.95, (g.n_starts - 1, sp.dim))])
        U = np.clip(U, 1e-3, 1 - 1e-3)
        Z = np.log(U) - np.log1p(-U)
        phase = "adam" if self.adam_steps else "lbfgs"
        opt = self.adam.init(jnp.asarray(Z)) if phase == "adam" else self._lbfgs_init(Z[0])
        return {"phase": phase, "Z": Z, "opt": _host(opt), "best_start": 0}

    def _lbfgs_init(self, z):
        import jax
        import jax.numpy as jnp

        return jax.tree.map(lambda x: jnp.array(x, dtype=x.dtype), self.lbfgs.init(jnp.asarray(z)))

    # ----------------------------------------------------------------- steps
    def _adam_step(self):
        if "adam" not in self._steps:
            import jax
            import optax

            vg, opt = self.loss_all.vg, self.adam

            @jax.jit
            def step(Z, state):
                loss, grad = vg(Z)
                upd, state = opt.update(grad, state, Z)
                return optax.apply_updates(Z, upd), state, loss, grad

            self._steps["adam"] = step
        return self._steps["adam"]

    def _lbfgs_step(self):
        if "lbfgs" not in self._steps:
            import jax
            import optax

            fn, opt = self.loss_one.value, self.lbfgs

            @jax.jit
            def step(z, state):
                value, grad = optax.value_and_grad_from_state(fn)(z, state=state)
                upd, state = opt.update(grad, state, z, value=value, grad=grad, value_fn=fn)
                return optax.apply_updates(z, upd), state, value[None], grad[None]

            self._steps["lbfgs"] = step
        return self._steps["lbfgs"]

    def step(self, state: dict, iteration: int) -> tuple[dict, list[dict]]:
        """One iteration; returns the new state and this iteration's evaluations
        (one per start: the unit vector ``u``, the loss at the *incoming* parameters)."""
        import jax
        import jax.numpy as jnp

        with jax.enable_x64(True):
            if state["phase"] == "adam" and iteration >= self.adam_steps:
                best = int(np.argmin(state["last_loss"])) if "last_loss" in state else 0
                state = {"phase": "lbfgs", "Z": state["Z"][best:best + 1], "best_start": best,
                         "opt": _host(self._lbfgs_init(state["Z"][best]))}
            opt = jax.tree.map(jnp.asarray, state["opt"])
            Z = jnp.asarray(state["Z"])
            if state["phase"] == "adam":
                Zn, opt, loss, grad = self._adam_step()(Z, opt)
            else:
                zn, opt, loss, grad = self._lbfgs_step()(Z[0], opt)
                Zn = zn[None]
            loss, grad, Z = np.asarray(loss), np.asarray(grad), np.asarray(Z)
        U = 1.0 / (1.0 + np.exp(-Z))
        evals = [{"u": U[i], "loss": float(loss[i]), "start": i if state["phase"] == "adam" else state["best_start"],
                  "grad_norm": float(np.linalg.norm(grad[i]))} for i in range(len(Z))]
        new = {"phase": state["phase"], "Z": np.asarray(Zn), "opt": _host(opt), "best_start": state["best_start"],
               "last_loss": loss}
        return new, evals

    def best_unit(self, state: dict) -> np.ndarray:
        Z = state["Z"]
        i = int(np.argmin(state["last_loss"])) if "last_loss" in state and len(state["last_loss"]) == len(Z) else 0
        return 1.0 / (1.0 + np.exp(-Z[i]))


def _host(tree):
    import jax

    return jax.tree.map(lambda x: np.array(x), jax.device_get(tree))
