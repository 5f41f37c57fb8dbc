"""Step 2: PCA + K-means motor primitives; cluster transitions become note onsets.

The seed's "Forward / Backward / Turn / Pause" states: K-means (k = 4) on the
worm's PCA scores; every frame where the cluster label changes is an onset.
Unsupervised: no threshold and no Chopin labels; a minimum dwell (one frame
by default) only removes label flicker.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA


@dataclass
class MotorPrimitives:
    n_components: int = 4
    n_clusters: int = 4
    seed: int = 0

    def fit(self, X: np.ndarray) -> "MotorPrimitives":
        self.pca_ = PCA(n_components=min(self.n_components, X.shape[1], X.shape[0])).fit(X)
        self.km_ = KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.seed).fit(self.pca_.transform(X))
        return self

    def labels(self, X: np.ndarray) -> np.ndarray:
        return self.km_.predict(self.pca_.transform(X))


def transitions(labels: np.ndarray, min_dwell_frames: int = 1) -> np.ndarray:
    """Frame indices where the label changes and the new label lasts >= ``min_dwell_frames``."""
    labels = np.asarray(labels)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    if min_dwell_frames <= 1 or len(change) == 0:
        return change
    ends = np.r_[change[1:], len(labels)]
    return change[(ends - change) >= min_dwell_frames]
