"""Clusters of the sampled parameter space and the "musical cluster".

A Gaussian mixture (scikit-learn, full covariances) is fitted for
k = 1 .. k_max, and k is the one with the lowest BIC (stated in every report).
By default the mixture sees the standardised search coordinates *and* the
standardised score: on a space-filling design (Sobol) the parameters alone are
uniform, BIC then picks k = 1 and the "musical cluster" would be the whole box;
with the score as a feature the mixture separates where parameters and high
scores go together. ``with_score=False`` clusters the parameters alone (right
for an optimiser's path, whose points crowd where it searched). The musical cluster is the cluster whose
members score best on average on the analysed score (the shift-null z when
the ledger has it); its centre and covariance, back in search coordinates,
are the prior (theta_bar, Sigma). Only clusters with at least d + 2 members
and a positive-definite covariance qualify (the penalty needs Sigma^-1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import AnalysisError
from .pca import standardise


@dataclass
class Clustering:
    k: int
    bic: dict[int, float]  # k -> BIC
    labels: np.ndarray  # (n,) cluster per row
    musical: int  # the musical cluster's label
    mean_goodness: np.ndarray  # (k,) mean oriented score per cluster (larger = better)
    centre: np.ndarray  # (d,) musical cluster mean, search coordinates
    cov: np.ndarray  # (d, d) musical cluster covariance, search coordinates
    with_score: bool = True
    note: str = ""  # said in the report when the BIC choice was overridden

    @property
    def members(self) -> np.ndarray:
        """Row indices of the musical cluster."""
        return np.flatnonzero(self.labels == self.musical)


def choose_k(Z: np.ndarray, k_max: int, seed: int) -> tuple[int, dict[int, float], np.ndarray]:
    """(k by BIC, BIC per k, labels at that k)."""
    from sklearn.mixture import GaussianMixture

    bic, labels = {}, {}
    for k in range(1, k_max + 1):
        gm = GaussianMixture(n_components=k, covariance_type="full", n_init=3, random_state=seed, reg_covar=1e-6)
        gm.fit(Z)
        bic[k] = float(gm.bic(Z))
        labels[k] = gm.predict(Z)
    best = min(bic, key=bic.get)
    return best, bic, labels[best]


def _full_rank(X: np.ndarray) -> bool:
    """Whether the rows' covariance is positive definite (the penalty needs Sigma^-1)."""
    cov = np.atleast_2d(np.cov(X, rowvar=False))
    w = np.linalg.eigvalsh(cov)
    return bool(w.min() > 1e-12 * max(w.max(), np.finfo(float).tiny))


def musical_cluster(X: np.ndarray, goodness: np.ndarray, k_max: int = 6, seed: int = 0,
                    with_score: bool = True) -> Clustering:
    n, d = X.shape
    min_size = d + 2
    # at least min_size rows per possible cluster, else a full covariance is not estimable
    k_max = max(1, min(int(k_max), n // min_size))
    features = np.column_stack([X, goodness]) if with_score else X
    k, bic, labels = choose_k(standardise(features), k_max, seed)
    # relabel by size (largest first) so a seed change does not permute the table
    sizes = np.bincount(labels, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    labels = np.argsort(order)[labels]
    means = np.array([goodness[labels == c].mean() if np.any(labels == c) else -np.inf for c in range(k)])
    ok = [c for c in range(k) if np.sum(labels == c) >= min_size and _full_rank(X[labels == c])]
    note = ""
    if not ok:  # no cluster supports a full-rank Sigma (e.g. repeated points): the whole design is the region
        if not _full_rank(X):
            raise AnalysisError(f"the finished evaluations span fewer than {d} dimensions (repeated points?); "
                                "no covariance Sigma can be estimated")
        note = (f"no cluster at k = {k} had >= {min_size} members and a full-rank covariance, so the whole design "
                "is taken as one cluster")
        k, labels, means, ok = 1, np.zeros(n, dtype=int), np.array([goodness.mean()]), [0]
    musical = max(ok, key=lambda c: means[c])
    members = labels == musical
    centre = X[members].mean(axis=0)
    cov = np.atleast_2d(np.cov(X[members], rowvar=False))
    return Clustering(k, bic, labels, int(musical), means, centre, cov, with_score, note)


def rows(cl: Clustering, X: np.ndarray, y: np.ndarray, coord_names, score_label: str,
         chance: np.ndarray | None = None) -> list[dict]:
    """One row per cluster: size, the score's mean and sd (and the members' mean
    chance level, for an F1), its centre (search coordinates)."""
    out = []
    for c in range(cl.k):
        m = cl.labels == c
        row = {"cluster": c, "musical": "yes" if c == cl.musical else "", "members": int(m.sum()),
               f"mean {score_label}": float(y[m].mean()),
               f"sd {score_label}": float(y[m].std(ddof=1)) if m.sum() > 1 else float("nan")}
        if chance is not None:
            row["mean chance F1 (uniform onsets, same count)"] = float(np.mean(chance[m]))
        row.update({f"centre {n}": float(v) for n, v in zip(coord_names, X[m].mean(axis=0))})
        out.append(row)
    return out


def bic_rows(cl: Clustering) -> list[dict]:
    return [{"k": k, "BIC": v, "chosen": "yes" if k == cl.k else ""} for k, v in cl.bic.items()]
