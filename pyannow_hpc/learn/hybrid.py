"""Steps 9, 9b, 10 and the time-only reference: the Worm+Time hybrid MLP.

Features per frame (the seed's NB04 recipe):

    [t/T, cos 2πk t/T, sin 2πk t/T]_{k=1..12}   (25-D Fourier time code)
    ⊕ worm PCA scores (k-D)
    ⊕ ODE residual q̈ + 2γq̇ + ω²q of those scores (k-D, step 9b)

T is the length of the whole window (step 10: the whole piece, so t/T never
leaves [0, 1]). An MLP(128, 64, relu) classifies onset frames (flax + optax,
Adam then L-BFGS, :mod:`.mlp`). Note what the time code means for held-out
evaluation: a net of t alone can memorise the piece it was trained on, but it
has never seen the later blocks, so its held-out score measures what the
worm's features add, not how well the piece was memorised.
"""
from __future__ import annotations

import numpy as np

from .features import fourier_time_features, ode_residual
from .mlp import Classifier, train_classifier
from .optim import TrainConfig

HIDDEN = (128, 64)
CONFIG = TrainConfig(adam_steps=500, lbfgs_steps=50, learning_rate=3e-3)


def hybrid_features(t_s: np.ndarray, period_s: float, Z: np.ndarray | None, frame_hz: float, *,
                    residual: tuple[float, float] | None = None, n_harmonics: int = 12) -> np.ndarray:
    """Fourier time code ⊕ worm scores ``Z`` (if given) ⊕ their ODE residual (if (γ, ω) given)."""
    cols = [fourier_time_features(t_s, period_s, n_harmonics)]
    if Z is not None:
        cols.append(Z)
        if residual is not None:
            cols.append(ode_residual(Z, frame_hz, *residual))
    return np.hstack(cols)


def train_hybrid(X: np.ndarray, y: np.ndarray, config: TrainConfig = CONFIG, seed: int = 0, mask: np.ndarray | None = None,
                 comm=None) -> Classifier:
    return train_classifier(X, y, hidden=HIDDEN, activation="relu", config=config, seed=seed, mask=mask, comm=comm)
