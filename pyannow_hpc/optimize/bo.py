"""Model-based search (Optuna 5 ask/tell): for expensive backends such as C302.

Each iteration asks ``batch_size`` trials (evaluated together over the
ranks), then tells their losses.  Our ledger is the record: the study lives in
memory, and a resumed run rebuilds it by *replaying* the ledger's batches --
the same seeded sampler asked in the same order with the same answers gives
the same suggestions, so the continuation is bitwise the uninterrupted one
(each replayed ask is checked against the recorded point).

Samplers: ``tpe`` (TPESampler, seeded; multivariate) or ``gp`` (GPSampler,
which needs PyTorch; a one-line error when it is missing).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .objective import Problem


class BoMethod:
    def __init__(self, problem: Problem):
        self.problem, self.cfg = problem, problem.cfg.bo
        self._study = None
        self._n_told = 0
        self._pending = []

    def _sampler(self):
        import optuna

        seed = self.problem.cfg.budget.seed
        if self.cfg.sampler == "gp":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise ConfigError("bo.sampler = \"gp\" needs PyTorch (Optuna's GPSampler); install torch or use \"tpe\"") from None
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=self.cfg.n_startup)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.cfg.n_startup, multivariate=True)

    def _ask_batch(self, n: int):
        dists = self._dists()
        trials = [self._study.ask(dists) for _ in range(n)]
        return trials, [np.array([t.params[f"u{i}"] for i in range(len(dists))]) for t in trials]

    def _dists(self):
        import optuna

        return {f"u{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(self.problem.space.dim)}

    def _rebuild(self, state: dict) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._study = optuna.create_study(sampler=self._sampler(), direction="minimize")
        k = 0
        for n in state["batches"]:
            trials, us = self._ask_batch(n)
            for t, u in zip(trials, us):
                if not np.array_equal(u, state["us"][k]):
                    raise RuntimeError("BO replay diverged from the recorded evaluations")
                self._study.tell(t, state["losses"][k])
                k += 1
        self._n_told = k

    def initial_state(self) -> dict:
        return {"us": [], "losses": [], "batches": []}

    def ask(self, state: dict) -> list[np.ndarray]:
        if self._study is None or self._n_told != len(state["us"]):
            self._rebuild(state)
        self._pending, us = self._ask_batch(self.cfg.batch_size)
        return us

    def tell(self, state: dict, us, losses) -> dict:
        for t, loss in zip(self._pending, losses):
            self._study.tell(t, float(loss) if np.isfinite(loss) else 1e3)
        self._n_told += len(losses)
        state["us"] = state["us"] + [np.asarray(u, float) for u in us]
        state["losses"] = state["losses"] + [float(x) for x in losses]
        state["batches"] = state["batches"] + [len(us)]
        return state
