"""CMA-ES with IPOP restarts, through pycma (``cma`` 4.5).

Why pycma and not evosax: pycma is the reference implementation (Hansen),
has box bounds, IPOP/BIPOP conventions and stopping rules built in, works on
numpy with no JAX compile per population size (each IPOP restart doubles the
population, which evosax would re-jit), and its ``CMAEvolutionStrategy``
pickles -- which is the whole ask/tell checkpoint.  Its sampler draws from
NumPy's global generator, so the checkpoint also stores
``np.random.get_state()`` and every ask/tell runs between a restore and a save
of it: a resumed run draws exactly the numbers the uninterrupted one drew.
"""
from __future__ import annotations

import pickle

import numpy as np

from .objective import Problem


class CmaesMethod:
    def __init__(self, problem: Problem):
        self.problem, self.cfg = problem, problem.cfg.cmaes
        self.seed = problem.cfg.budget.seed

    def _new_es(self, x0, popsize: int):
        import cma

        opts = {"bounds": [0.0, 1.0], "seed": self.seed + 1, "verbose": -9, "popsize": popsize or None}
        opts = {k: v for k, v in opts.items() if v is not None}
        return cma.CMAEvolutionStrategy(list(x0), self.cfg.sigma0, opts)

    def initial_state(self) -> dict:
        saved = np.random.get_state()
        es = self._new_es(self.problem.space.start_unit(), self.cfg.popsize)
        state = {"es": pickle.dumps(es), "np_rng": np.random.get_state(), "restart": 0,
                 "popsize": es.popsize, "restart_rng": np.random.default_rng(self.seed).bit_generator.state}
        np.random.set_state(saved)
        return state

    def ask(self, state: dict) -> list[np.ndarray]:
        es = pickle.loads(state["es"])
        saved = np.random.get_state()
        np.random.set_state(state["np_rng"])
        try:
            if es.stop() and state["restart"] < self.cfg.ipop_restarts:
                # IPOP: restart from a fresh random point with the population doubled
                rng = np.random.default_rng()
                rng.bit_generator.state = state["restart_rng"]
                x0 = rng.uniform(0.1, 0.9, self.problem.space.dim)
                state["restart_rng"] = rng.bit_generator.state
                state["restart"] += 1
                state["popsize"] *= 2
                es = self._new_es(x0, state["popsize"])
            elif es.stop():
                return []
            xs = es.ask()
            state["es"], state["np_rng"] = pickle.dumps(es), np.random.get_state()
        finally:
            np.random.set_state(saved)
        return [np.asarray(x, float) for x in xs]

    def tell(self, state: dict, us: list[np.ndarray], losses: list[float]) -> dict:
        es = pickle.loads(state["es"])
        saved = np.random.get_state()
        np.random.set_state(state["np_rng"])
        try:
            es.tell([list(u) for u in us], [float(x) if np.isfinite(x) else 1e3 for x in losses])
            state["es"], state["np_rng"] = pickle.dumps(es), np.random.get_state()
        finally:
            np.random.set_state(saved)
        return state
