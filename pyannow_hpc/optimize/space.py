"""The search space: free parameters as one vector in the unit cube.

Every method searches ``u`` in [0, 1]^d: population methods directly (with
bounds), the gradient method through ``u = sigmoid(z)`` with ``z`` free (the
bounded-transform trick Jaxley uses), so no step ever leaves the range.  A
parameter with ``scale = "log"`` is interpolated in log10, as the sweep
samples it.  A per-muscle parameter contributes 96, 24 (segment) or 4
(quadrant) entries and becomes a (96,) array for the simulator (muscle
i = quadrant * 24 + segment, order DL, VL, DR, VR).

``search coordinates`` (what the prior's mean and covariance are in): log10 of
the value for log parameters, the value itself otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..worm.activity import N_MUSCLES, N_SEGMENTS
from .config import OFFSET_NAME, OptimizeConfig

_SIZES = {"": 1, "muscle": N_MUSCLES, "segment": N_SEGMENTS, "quadrant": 4}
QUADRANTS = ("DL", "VL", "DR", "VR")


def _labels(name: str, per: str) -> list[str]:
    if per == "":
        return [name]
    if per == "quadrant":
        return [f"{name}[{q}]" for q in QUADRANTS]
    if per == "segment":
        return [f"{name}[s{s}]" for s in range(N_SEGMENTS)]
    return [f"{name}[{i}]" for i in range(N_MUSCLES)]


def _expand(xp, values, per: str):
    """Entries of one parameter -> a scalar or a (96,) per-muscle array."""
    if per == "":
        return values[0]
    if per == "quadrant":
        return xp.repeat(values, N_SEGMENTS)
    if per == "segment":
        return xp.tile(values, 4)
    return values


@dataclass(frozen=True)
class SearchSpace:
    names: tuple[str, ...]  # one per free parameter
    pers: tuple[str, ...]
    labels: tuple[str, ...]  # one per entry of the vector
    lower: np.ndarray  # (d,)
    upper: np.ndarray
    log: np.ndarray  # (d,) bool
    base: dict  # every model parameter's value when not free (defaults + [fixed])

    @classmethod
    def from_config(cls, cfg: OptimizeConfig) -> "SearchSpace":
        from ..params import space

        labels, lo, hi, lg = [], [], [], []
        for p in cfg.params:
            n = _SIZES[p.per]
            labels += _labels(p.name, p.per)
            lo += [p.lower] * n
            hi += [p.upper] * n
            lg += [p.scale == "log"] * n
        base = space(cfg.model).validate(dict(cfg.fixed))
        base[OFFSET_NAME] = 0.0
        return cls(tuple(p.name for p in cfg.params), tuple(p.per for p in cfg.params), tuple(labels),
                   np.array(lo, float), np.array(hi, float), np.array(lg, bool), base)

    @property
    def dim(self) -> int:
        return len(self.labels)

    def values(self, u, xp=np):
        """Parameter values (d,) of unit-cube coordinates ``u`` (numpy or jax)."""
        u = xp.asarray(u)
        lin = self.lower + u * (self.upper - self.lower)
        llo, lhi = np.log10(np.where(self.log, self.lower, 1.0)), np.log10(np.where(self.log, self.upper, 10.0))
        logv = 10.0 ** (llo + u * (lhi - llo))
        return xp.where(self.log, logv, lin)

    def unit(self, values) -> np.ndarray:
        """Inverse of :meth:`values` (numpy)."""
        v = np.asarray(values, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lin = (v - self.lower) / (self.upper - self.lower)
            lg = (np.log10(np.maximum(v, 1e-300)) - np.log10(np.where(self.log, self.lower, 1.0))) / (
                np.log10(np.where(self.log, self.upper, 10.0)) - np.log10(np.where(self.log, self.lower, 1.0)))
        return np.where(self.log, lg, lin)

    def search_coords(self, values, xp=np):
        """log10 of log-scale entries, the value otherwise: the prior's coordinates."""
        v = xp.asarray(values)
        return xp.where(self.log, xp.log10(xp.maximum(v, 1e-300)), v)

    def start_unit(self) -> np.ndarray:
        """The defaults (and [fixed] values) in unit coordinates, clipped into the range."""
        vals = np.concatenate([np.full(_SIZES[per], self.base[n]) for n, per in zip(self.names, self.pers)])
        return np.clip(self.unit(vals), 0.0, 1.0)

    def theta(self, values, xp=np) -> dict:
        """The full parameter dict (base overridden by the free values; per-muscle
        entries as (96,) arrays); includes ``time_offset_s``."""
        out = dict(self.base)
        k = 0
        for name, per in zip(self.names, self.pers):
            n = _SIZES[per]
            out[name] = _expand(xp, values[k:k + n], per)
            k += n
        return out

    def scalar_params(self, values) -> dict[str, float]:
        """``{label: value}`` of a numpy vector (ledger rows, reports)."""
        return {lab: float(v) for lab, v in zip(self.labels, np.asarray(values, float))}

    def group_indices(self, names) -> np.ndarray:
        """Vector indices of the entries that belong to the named parameters."""
        idx, k = [], 0
        for name, per in zip(self.names, self.pers):
            n = _SIZES[per]
            if name in names:
                idx += range(k, k + n)
            k += n
        return np.array(idx, dtype=int)


__all__ = ["SearchSpace", "QUADRANTS"]
