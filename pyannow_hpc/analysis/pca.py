"""PCA of the sampled parameter space (scikit-learn), on standardised search
coordinates: the parameters have different units, so unscaled PCA would only
rank them by their numeric spread."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PCAResult:
    explained_ratio: np.ndarray  # (d,) share of the variance per component
    loadings: np.ndarray  # (d components, d parameters), unit rows
    scores: np.ndarray  # (n, d) the rows in component coordinates


def standardise(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0, ddof=1)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def fit(X: np.ndarray, seed: int = 0) -> PCAResult:
    from sklearn.decomposition import PCA

    pca = PCA(random_state=seed).fit(standardise(X))
    return PCAResult(pca.explained_variance_ratio_, pca.components_, pca.transform(standardise(X)))


def rows(res: PCAResult, coord_names) -> list[dict]:
    """The scree table: one row per component, its variance share and loadings."""
    out = []
    cum = np.cumsum(res.explained_ratio)
    for i, (share, load) in enumerate(zip(res.explained_ratio, res.loadings)):
        row = {"component": f"PC{i + 1}", "variance share": float(share), "cumulative": float(cum[i])}
        row.update({f"loading {n}": float(v) for n, v in zip(coord_names, load)})
        out.append(row)
    return out
