"""Step 7: random forest onset classifier on worm PCA + the body-wave phase.

The seed's settings: 100 trees, depth 12, out-of-bag score. Inputs are the
worm's PCA scores and the phase of its own drive (cos, sin), never the score
of the piece, so held-out frames carry no target information.
"""
from __future__ import annotations

import os

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def fit_forest(X: np.ndarray, y: np.ndarray, n_trees: int = 100, max_depth: int = 12, seed: int = 0) -> RandomForestClassifier:
    rf = RandomForestClassifier(n_estimators=n_trees, max_depth=max_depth, oob_score=True, random_state=seed,
                                class_weight="balanced_subsample", n_jobs=min(2, os.cpu_count() or 1))
    return rf.fit(X, np.asarray(y).astype(int))


def onset_proba(rf: RandomForestClassifier, X: np.ndarray) -> np.ndarray:
    proba = rf.predict_proba(X)
    classes = list(rf.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(X))
