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
runs.  L-BFGS (not elementwise) then refines the best start alone, from the
best point that start has seen.

Backtracking (``gradient.backtrack_tol``): the loss is a cliff (boyle2008's
excitability edge) and the surrogate gradient can point uphill, so Adam's
momentum can carry a start over the edge into silence (loss 1, gradient 0),
where it stays (docs/optimize.md).  A start whose loss rises more than the
tolerance above its best (or turns non-finite) therefore goes back to its
best point, with half its step and its first moment zeroed (the second kept:
it is the scale of the gradients there); ``backtrack_tol = 0`` turns it off.
Its next point is that Adam step taken from the best point with the gradient
kept from there, so going back costs no simulation.  Written here because
optax's transforms see gradients, not the loss of the point they came from.
Until a start backtracks, its trajectory is bitwise that of plain Adam.

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
        return {"phase": phase, "Z": Z, "opt": _host(opt), "best_start": 0,
                "best_loss": np.full(len(Z), np.inf), "best_Z": Z.copy(), "best_grad": np.zeros_like(Z),
                "scale": np.ones(len(Z))}

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
            def step(Z, state, scale):
                loss, grad = vg(Z)
                upd, state = opt.update(grad, state, Z)
                # per-start step scale (backtracking halves it); 1.0 * upd is upd exactly
                return optax.apply_updates(Z, scale[:, None] * upd), state, loss, grad

            self._steps["adam"] = step
        return self._steps["adam"]

    def _adam_update(self):
        """Adam's update alone, from given gradients (a backtracking start's, kept from its best point)."""
        if "adam_update" not in self._steps:
            import jax
            import optax

            opt = self.adam

            @jax.jit
            def update(Z, state, grad, scale):
                upd, state = opt.update(grad, state, Z)
                return optax.apply_updates(Z, scale[:, None] * upd), state

            self._steps["adam_update"] = update
        return self._steps["adam_update"]

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
                best, z0 = self._best(state)
                state = {"phase": "lbfgs", "Z": z0[None], "best_start": best,
                         "opt": _host(self._lbfgs_init(z0))}
            opt = jax.tree.map(jnp.asarray, state["opt"])
            Z = jnp.asarray(state["Z"])
            if state["phase"] == "adam":
                scale = state.get("scale", np.ones(len(state["Z"])))  # states saved before backtracking
                Zn, opt, loss, grad = self._adam_step()(Z, opt, jnp.asarray(scale))
            else:
                zn, opt, loss, grad = self._lbfgs_step()(Z[0], opt)
                Zn = zn[None]
            loss, grad, Z = np.asarray(loss), np.asarray(grad), np.asarray(Z)
        U = 1.0 / (1.0 + np.exp(-Z))
        evals = [{"u": U[i], "loss": float(loss[i]), "start": i if state["phase"] == "adam" else state["best_start"],
                  "grad_norm": float(np.linalg.norm(grad[i]))} for i in range(len(Z))]
        new = {"phase": state["phase"], "Z": np.asarray(Zn), "opt": _host(opt), "best_start": state["best_start"],
               "last_loss": loss}
        if state["phase"] == "adam" and "best_loss" in state and self.cfg.gradient.backtrack_tol > 0:
            new.update(self._backtrack(state, Z, loss, grad, new))
        return new, evals

    def _backtrack(self, state: dict, Z, loss, grad, new: dict) -> dict:
        """The Adam phase's bookkeeping after one step (``loss``, ``grad`` at ``Z``; ``new``
        holds Adam's next point and state).  A start below its best records the point and
        its gradient; one whose loss rose more than the tolerance above its best (or is not
        finite) takes, instead of Adam's step from Z, the Adam step from its best point with
        the gradient kept there, half its step scale and its first moment zeroed, from the
        optimiser state it came in with.  Returns the state's new entries."""
        import jax
        import jax.numpy as jnp

        best_loss, best_Z = np.array(state["best_loss"], float), np.array(state["best_Z"], float)
        best_grad, scale = np.array(state["best_grad"], float), np.array(state["scale"], float)
        rose = np.isfinite(best_loss) & ~(loss <= best_loss + self.cfg.gradient.backtrack_tol)  # NaN: a rise
        better = loss < best_loss
        best_loss[better], best_Z[better], best_grad[better] = loss[better], Z[better], grad[better]
        Zn, opt = np.array(new["Z"]), new["opt"]
        if rose.any():
            scale[rose] *= 0.5
            with jax.enable_x64(True):
                Zb, ob = self._adam_update()(jnp.asarray(np.where(rose[:, None], best_Z, Z)),
                                             jax.tree.map(jnp.asarray, _zero_first_moment(state["opt"], rose)),
                                             jnp.asarray(np.where(rose[:, None], best_grad, grad)),
                                             jnp.asarray(scale))
            Zn[rose] = np.asarray(Zb)[rose]  # the other starts keep the main step's own numbers
            opt = _take_adam_rows(opt, _host(ob), rose)
        return {"Z": Zn, "opt": opt, "best_loss": best_loss, "best_Z": best_Z, "best_grad": best_grad,
                "scale": scale}

    def _best(self, state: dict) -> tuple[int, np.ndarray]:
        """(start, z) of the best point the Adam phase has seen (states saved before
        backtracking existed: the current point of the start whose last loss was lowest)."""
        if "best_loss" in state and np.isfinite(state["best_loss"]).any():  # never NaN: inf until a finite loss
            i = int(np.argmin(state["best_loss"]))
            return i, np.asarray(state["best_Z"][i])
        i = int(np.argmin(state["last_loss"])) if "last_loss" in state else 0
        return i, np.asarray(state["Z"][i])


def _is_adam_state(tree) -> bool:
    import optax

    return isinstance(tree, optax.ScaleByAdamState)


def _zero_first_moment(opt, rows: np.ndarray):
    """A host copy of an optax state with Adam's first moment zeroed for ``rows`` (starts)."""
    import jax

    def zero(x):
        if not _is_adam_state(x):
            return x
        mu = np.array(x.mu)
        mu[rows] = 0.0
        return x._replace(mu=mu)

    return jax.tree.map(zero, opt, is_leaf=_is_adam_state)


def _take_adam_rows(opt, other, rows: np.ndarray):
    """``opt`` with Adam's moments for ``rows`` taken from ``other`` (same structure)."""
    import jax

    def take(x, y):
        if not _is_adam_state(x):
            return x
        return x._replace(mu=np.where(rows[:, None], y.mu, x.mu), nu=np.where(rows[:, None], y.nu, x.nu))

    return jax.tree.map(take, opt, other, is_leaf=_is_adam_state)


def _host(tree):
    import jax

    return jax.tree.map(lambda x: np.array(x), jax.device_get(tree))
