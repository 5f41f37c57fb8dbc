"""Steps 4–6: a flax MLP onset classifier, trained with Adam then L-BFGS.

The seed's composer: tanh MLP (hidden 32) on worm PCA scores, Adam (500
epochs, lr 1e-3) then L-BFGS (100 steps, memory 10). Here it predicts the
probability that a frame holds a Chopin onset (binary cross-entropy with the
positive class up-weighted: onsets are ~10% of 20 ms frames), so its output
goes through the same calibrated decoder as every other step. :class:`MLP` is
also the network of the PINNs and of the Worm+Time hybrid.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..parallel.collectives import shard_slice
from ..parallel.comm import world
from .optim import TrainConfig, TrainHistory, fit

ACTIVATIONS: dict[str, Callable] = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu}


class MLP(nn.Module):
    """Dense layers with one activation, linear output."""

    hidden: Sequence[int] = (32,)
    out: int = 1
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x):
        act = ACTIVATIONS[self.activation]
        for width in self.hidden:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.out)(x)


@dataclass(frozen=True)
class Classifier:
    """A trained onset classifier: standardisation + network + parameters."""

    module: MLP
    params: dict
    mean: np.ndarray
    scale: np.ndarray
    history: TrainHistory

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        Xs = (np.asarray(X, dtype=np.float32) - self.mean) / self.scale
        return np.asarray(jax.nn.sigmoid(self.module.apply(self.params, jnp.asarray(Xs))[:, 0]))


def bce_local_loss(module: MLP) -> Callable:
    """This rank's share of the weighted BCE; the weights are normalised over ALL ranks' frames."""

    def loss(params, X, y, w):
        logits = module.apply(params, X)[:, 0]
        return jnp.sum(w * optax.sigmoid_binary_cross_entropy(logits, y))

    return loss


def train_classifier(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: Sequence[int] = (32,),
    activation: str = "tanh",
    config: TrainConfig = TrainConfig(adam_steps=500, lbfgs_steps=100, learning_rate=1e-3),
    seed: int = 0,
    mask: np.ndarray | None = None,
    comm=None,
) -> Classifier:
    """Full-batch training on the frames where ``mask`` is true (all by default).

    Masked-out frames stay in the arrays with weight 0, so a refit on fewer
    frames (the held-out protocol) has the same shapes and reuses the compiled
    steps. Under MPI each rank takes a contiguous shard of the frames.
    """
    comm = comm or world()
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    mask = np.ones(len(y), bool) if mask is None else np.asarray(mask, bool)
    mean = X[mask].mean(axis=0)
    sd = X[mask].std(axis=0)
    scale = np.where(sd > 1e-9, sd, 1.0).astype(np.float32)
    Xs = (X - mean) / scale
    pos = max(float(y[mask].sum()), 1.0)
    # balance the classes: onset frames weigh as much in total as the rest
    w = np.where(y > 0.5, (mask.sum() - pos) / pos, 1.0) * mask
    w = (w / w.sum()).astype(np.float32)
    module = MLP(tuple(hidden), 1, activation)
    params = module.init(jax.random.PRNGKey(seed), jnp.zeros((1, X.shape[1])))
    sl = shard_slice(len(y), comm.Get_rank(), comm.Get_size())
    params, hist = fit(bce_local_loss(module), params, (Xs[sl], y[sl], w[sl]), config, comm, record_every=50,
                       cache_key=("bce", tuple(hidden), activation))
    return Classifier(module, params, mean, scale, hist)
