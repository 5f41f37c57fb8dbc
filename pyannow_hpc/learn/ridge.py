"""Step 3: ridge regression from worm PCA scores to Chopin's onset density, λ by CV.

W = (ZᵀZ + λI)⁻¹ Zᵀ c: each singular direction shrunk by σ/(σ² + λ). λ is
chosen by K-fold cross-validation over contiguous, unshuffled time folds
(shuffled folds would leak each frame's neighbours into its validation fold).
sklearn's RidgeCV does the work.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .splits import contiguous_folds

ALPHAS = np.logspace(-3, 4, 15)


def fit_ridge(Z: np.ndarray, y: np.ndarray, n_folds: int = 5):
    """A fitted pipeline (z-score -> RidgeCV); ``.predict(Z)``; chosen λ in ``ridge_lambda(model)``."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS, cv=contiguous_folds(len(y), n_folds)))
    return model.fit(Z, y)


def ridge_lambda(model) -> float:
    return float(model[-1].alpha_)
