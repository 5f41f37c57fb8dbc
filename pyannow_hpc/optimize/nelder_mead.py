"""Nelder-Mead (scipy): the seed's own baseline, on the same loss and budget.

scipy's ``minimize`` is a blocking loop, not ask/tell.  It is driven by
*replay*: every call reruns it from the start with an objective that answers
from the evaluations made so far and stops (an exception carrying the point)
at the first point not yet evaluated -- that point is the next ask.  The
method is deterministic, so the replay retraces the same simplex exactly, and
a resumed run (the evaluations come back from the ledger) continues bitwise
where the killed one stopped.  Replay costs scipy's bookkeeping only.
"""
from __future__ import annotations

import numpy as np

from .objective import Problem


class _Ask(Exception):
    def __init__(self, x):
        self.x = x


class NelderMeadMethod:
    def __init__(self, problem: Problem):
        self.problem = problem

    def initial_state(self) -> dict:
        return {"us": [], "losses": [], "converged": False}

    def ask(self, state: dict) -> list[np.ndarray]:
        from scipy.optimize import minimize

        if state["converged"]:
            return []
        it = iter(zip(state["us"], state["losses"]))

        def f(x):
            try:
                u, loss = next(it)
            except StopIteration:
                raise _Ask(np.array(x, float)) from None
            if not np.array_equal(u, x):  # the replay must retrace the run exactly
                raise RuntimeError("Nelder-Mead replay diverged from the recorded evaluations")
            return loss

        d = self.problem.space.dim
        try:
            minimize(f, self.problem.space.start_unit(), method="Nelder-Mead", bounds=[(0.0, 1.0)] * d,
                     options={"maxfev": 10**9, "maxiter": 10**9, "xatol": 1e-4, "fatol": 1e-6})
        except _Ask as ask:
            return [ask.x]
        state["converged"] = True
        return []

    def tell(self, state: dict, us, losses) -> dict:
        state["us"] = state["us"] + [np.asarray(u, float) for u in us]
        state["losses"] = state["losses"] + [float(x) for x in losses]
        return state
