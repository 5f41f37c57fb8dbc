"""Step 1a: randomized SVD of the worm's activity and its neural scores.

Halko–Martinsson–Tropp randomized range finder in JAX (oversampling + power
iterations), the seed's "RSVD, k = 4". Written out because it IS the step
being taught (Eckart–Young via a random sketch); the exact SVD of the small
sketch comes from ``jnp.linalg.svd``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def rsvd(X: np.ndarray, k: int = 4, oversample: int = 10, n_power: int = 2, seed: int = 0):
    """Rank-k factors (U_k, s_k, Vt_k) of ``X`` (n, d) by a randomized range finder."""
    X = jnp.asarray(X, jnp.float32)
    ell = min(k + oversample, min(X.shape))
    omega = jax.random.normal(jax.random.PRNGKey(seed), (X.shape[1], ell), X.dtype)
    Q, _ = jnp.linalg.qr(X @ omega)
    for _ in range(n_power):  # power iterations sharpen a slowly decaying spectrum
        Q, _ = jnp.linalg.qr(X.T @ Q)
        Q, _ = jnp.linalg.qr(X @ Q)
    Ub, s, Vt = jnp.linalg.svd(Q.T @ X, full_matrices=False)
    return np.asarray(Q @ Ub[:, :k]), np.asarray(s[:k]), np.asarray(Vt[:k])


class NeuralScores:
    """Centre on training frames, project onto the top-k right singular vectors."""

    def __init__(self, k: int = 4, seed: int = 0):
        self.k, self.seed = k, seed

    def fit(self, X: np.ndarray) -> "NeuralScores":
        self.mean_ = X.mean(axis=0)
        _, self.s_, self.Vt_ = rsvd(X - self.mean_, self.k, seed=self.seed)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return neural_scores(X - self.mean_, self.Vt_)


def neural_scores(X_centred: np.ndarray, Vt_k: np.ndarray) -> np.ndarray:
    """(n, k) coordinates of each frame in the rank-k subspace."""
    return np.asarray(X_centred) @ np.asarray(Vt_k).T


def latent_speed(Z: np.ndarray, train: np.ndarray | None = None) -> np.ndarray:
    """|dZ/dt| per frame: how fast the neural state moves, the unsupervised onset score of step 1a.
    Each coordinate is scaled by its spread over the ``train`` frames (all frames when None)."""
    d = np.diff(Z, axis=0, prepend=Z[:1])
    ref = Z if train is None else Z[np.asarray(train, dtype=bool)]
    return np.linalg.norm(d / np.maximum(ref.std(axis=0), 1e-9), axis=1)
