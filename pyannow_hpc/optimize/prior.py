"""The Bayesian prior: lambda_s (theta - theta_bar)^T Sigma^-1 (theta - theta_bar).

File format (written by ``pyannow-hpc analyze``'s parameter statistics, and by
:func:`write_prior`): an HDF5 group ``/prior`` with datasets ``mean`` (d,) and
``cov`` (d, d) and attribute ``names`` (the parameter names, JSON or a string
array).  Coordinates are each parameter's search coordinates: log10(value)
where the search space says log, the value itself otherwise
(:meth:`SearchSpace.search_coords`).

The prior may name a subset or a superset of the free parameters: its
parameters that are free are penalised (the marginal of the Gaussian over
them), the others are ignored; a prior that names none of them is an error.
Per-muscle entries are not covered by a prior (their labels carry [..]).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

#: chi-square 95% quantile is taken from scipy at report time
REGION = 0.95


@dataclass(frozen=True)
class Prior:
    names: tuple[str, ...]
    index: np.ndarray  # positions of the names in the search vector
    mean: np.ndarray
    precision: np.ndarray  # Sigma^-1 of the marginal
    weight: float

    def mahalanobis2(self, coords, xp=np):
        d = xp.asarray(coords)[self.index] - self.mean
        return d @ (self.precision @ d)

    def penalty(self, coords, xp=None):
        """lambda_s * Mahalanobis^2, a JAX function of the full search-coordinate vector."""
        import jax.numpy as jnp

        return self.weight * self.mahalanobis2(coords, jnp)

    def report(self, coords) -> dict:
        from scipy.stats import chi2

        m2 = float(self.mahalanobis2(np.asarray(coords, float)))
        q = float(chi2.ppf(REGION, len(self.names)))
        return {"prior_mahalanobis": float(np.sqrt(m2)), "prior_chi2_95": q, "prior_dof": len(self.names), "prior_inside_95": bool(m2 <= q)}


def write_prior(path, names, mean, cov) -> Path:
    import h5py

    from ..store.atomic import atomic_path

    mean, cov = np.asarray(mean, float), np.asarray(cov, float)
    if mean.shape != (len(names),) or cov.shape != (len(names), len(names)):
        raise ConfigError(f"prior: mean {mean.shape} and cov {cov.shape} do not match {len(names)} names")
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            g = f.create_group("prior")
            g.create_dataset("mean", data=mean)
            g.create_dataset("cov", data=cov)
            g.attrs["names"] = json.dumps(list(names))
    return Path(path)


def _names(raw) -> list[str]:
    if isinstance(raw, (bytes, str)):
        raw = raw.decode() if isinstance(raw, bytes) else raw
        return list(json.loads(raw)) if raw.startswith("[") else [raw]
    return [x.decode() if isinstance(x, bytes) else str(x) for x in raw]


def load_prior(path: str, labels, weight: float) -> Prior:
    import h5py

    p = Path(path)
    try:
        with h5py.File(p, "r") as f:
            g = f["prior"]
            mean, cov, names = g["mean"][()], g["cov"][()], _names(g.attrs["names"])
    except FileNotFoundError:
        raise ConfigError(f"prior file {p} does not exist") from None
    except (OSError, KeyError) as exc:
        raise ConfigError(f"{p}: not a prior file (need /prior with mean, cov and attribute names): {exc}") from None
    d = len(names)
    if np.shape(mean) != (d,) or np.shape(cov) != (d, d):
        raise ConfigError(f"{p}: /prior/mean {np.shape(mean)} and cov {np.shape(cov)} do not match {d} names")
    keep = [i for i, n in enumerate(names) if n in labels]
    if not keep:
        raise ConfigError(f"{p}: the prior names {', '.join(names)}, none of which is a free parameter ({', '.join(labels)})")
    sub = np.asarray(cov, float)[np.ix_(keep, keep)]
    try:
        precision = np.linalg.inv(sub)
        np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:
        raise ConfigError(f"{p}: /prior/cov is not positive definite") from None
    kept = tuple(names[i] for i in keep)
    return Prior(kept, np.array([list(labels).index(n) for n in kept]), np.asarray(mean, float)[keep], precision, float(weight))
