"""Which parameters separate musical from non-musical evaluations
(scikit-learn): logistic-regression coefficients, random-forest impurity
importance and, beside it, permutation importance (impurity importance is
biased toward parameters with many distinct split points; permutation is not).

"Musical" here is a label on evaluations: the analysed score in its top
quantile (``quantile``, default the top quarter). The forest's out-of-bag
accuracy is held-out; the permutation importances are computed on the
training rows and are labelled in-sample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pca import standardise

N_TREES = 100
#: bootstrap resamples of the importances at most (each refits a forest, ~0.1 s)
N_BOOT = 50


@dataclass
class Importance:
    labels: np.ndarray  # (n,) 1 = musical
    threshold: float  # oriented-score cut that made the label
    logistic_coef: np.ndarray  # (d,) per standard deviation of the parameter
    impurity: np.ndarray  # (d,)
    permutation_mean: np.ndarray
    permutation_sd: np.ndarray
    oob_accuracy: float
    base_rate: float  # accuracy of always answering the majority class


def musical_labels(goodness: np.ndarray, quantile: float = 0.75) -> tuple[np.ndarray, float]:
    """1 for scores strictly above the quantile (ties at the cut, e.g. many F1 = 0,
    would otherwise all count as musical); >= only when nothing lies above it."""
    cut = float(np.quantile(goodness, quantile))
    above = goodness > cut
    return (above if above.any() else goodness >= cut).astype(int), cut


def _logistic(Z, labels, seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed).fit(Z, labels).coef_[0]


def _forest(Z, labels, seed, oob=False):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=N_TREES, min_samples_leaf=2, random_state=seed, oob_score=oob,
                                  n_jobs=1).fit(Z, labels)


def vector(Z: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """[logistic coefficients, impurity importances]: what the bootstrap refits."""
    return np.concatenate([_logistic(Z, labels, seed), _forest(Z, labels, seed).feature_importances_])


def fit(X: np.ndarray, goodness: np.ndarray, quantile: float = 0.75, seed: int = 0) -> Importance | None:
    """None when the label has one class only (nothing to separate)."""
    from sklearn.inspection import permutation_importance

    labels, cut = musical_labels(goodness, quantile)
    if labels.min() == labels.max():
        return None
    Z = standardise(X)
    rf = _forest(Z, labels, seed, oob=True)
    perm = permutation_importance(rf, Z, labels, n_repeats=20, random_state=seed, n_jobs=1)
    base = max(labels.mean(), 1 - labels.mean())
    return Importance(labels, cut, _logistic(Z, labels, seed), rf.feature_importances_, perm.importances_mean,
                      perm.importances_std, float(rf.oob_score_), float(base))


def rows(imp: Importance, coord_names, boot_ci: np.ndarray | None = None) -> list[dict]:
    d = len(coord_names)
    out = []
    for j, name in enumerate(coord_names):
        row = {"parameter": name, "logistic coef (per sd)": float(imp.logistic_coef[j])}
        if boot_ci is not None:
            row["logistic bootstrap 95%"] = f"[{boot_ci[j, 0]:.3g}, {boot_ci[j, 1]:.3g}]"
        row["RF impurity importance"] = float(imp.impurity[j])
        if boot_ci is not None:
            row["impurity bootstrap 95%"] = f"[{boot_ci[d + j, 0]:.3g}, {boot_ci[d + j, 1]:.3g}]"
        row["permutation importance (in-sample)"] = float(imp.permutation_mean[j])
        row["permutation sd"] = float(imp.permutation_sd[j])
        out.append(row)
    return out
