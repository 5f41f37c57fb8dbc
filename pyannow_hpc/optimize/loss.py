"""The smooth onset loss: 1 - soft F1 (Dice) of two blurred onset densities.

Why Dice and not the MSE of blurred grids (music/metrics.onset_loss): the MSE
is minimised by playing nothing whenever the worm cannot hit the notes, so
the sweep's report ranked silent worms first.  Dice = 2<W,T> / (|W|^2 + |T|^2)
is 0 for silence (no overlap) and tends to 0 for a flood (|W|^2 grows faster
than <W,T>), so both lose to a worm that plays near the notes
(tests/optimize/test_loss.py: silence and an every-step flood score worse
than a metronome at the beat).

- The worm's soft onsets: s = sigmoid((V - V_th) / w) per muscle and sample;
  an onset is an upward step of s, relu(s[i] - s[i-1]) (sums to the number of
  crossings when w is small).  Summed into ``grid_s`` bins, blurred with a
  peak-1 Gaussian of ``sigma_s``.
- The target density is the same Gaussian placed analytically at each note,
  evaluated at ``t + offset``: a learnable global time offset (the worm's
  notes are played ``offset`` later), differentiable.
- ``pitch_aware``: one density per pitch class (muscle i plays MIDI 24 + i),
  Dice over all 12 channels, so the loss sees *which* muscles fire.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..worm.activity import N_MUSCLES
from ..worm.onsets import MIDI_OFFSET

N_CLASSES = 12


def channel_matrix(pitch_aware: bool) -> np.ndarray:
    """(96, C): muscle -> density channel (1 channel, or its pitch class)."""
    if not pitch_aware:
        return np.ones((N_MUSCLES, 1))
    m = np.zeros((N_MUSCLES, N_CLASSES))
    m[np.arange(N_MUSCLES), (np.arange(N_MUSCLES) + MIDI_OFFSET) % N_CLASSES] = 1.0
    return m


def kernel(grid_s: float, sigma_s: float) -> np.ndarray:
    r = int(math.ceil(4 * sigma_s / grid_s))
    x = np.arange(-r, r + 1) * grid_s
    return np.exp(-0.5 * (x / sigma_s) ** 2)


def n_bins(duration_s: float, grid_s: float) -> int:
    return max(1, int(round(duration_s / grid_s)))


@lru_cache(maxsize=8)
def _blur_matrix(nb: int, grid_s: float, sigma_s: float) -> np.ndarray:
    """(nb, nb) banded Gaussian matrix: blur = M @ counts ('same' convolution, zero outside)."""
    k = kernel(grid_s, sigma_s)
    r = len(k) // 2
    m = np.zeros((nb, nb))
    for off in range(-r, r + 1):
        m += np.eye(nb, k=off) * k[off + r]
    return m


def _jnp():
    import jax.numpy as jnp

    return jnp


def blur(counts, grid_s: float, sigma_s: float, xp=None):
    """Blur (n_bins, C) onset counts along time with the peak-1 Gaussian.

    ``xp``: the array module (default jax.numpy; NumPy for the population
    methods' loss, which then never imports JAX: 1.6 s of import and a compile
    on each rank's first evaluation). A matrix product, not jnp.convolve:
    jacfwd (batched tangents) through jnp.convolve with >= 3 tangents crashed
    XLA's CPU backend (segfault, jax 0.10.2)."""
    xp = xp or _jnp()
    return xp.asarray(_blur_matrix(counts.shape[0], grid_s, sigma_s)) @ counts


def soft_onset_counts(v_mV, thresh_mV: float, width_mV: float, sample_dt_ms: float, grid_s: float, channels,
                      surrogate: bool = False):
    """(n_bins, C) soft onset counts of a (n_samples + 1, 96) trace (first row = state before the window).

    ``surrogate``: the forward value uses the hard step (V >= V_th: real threshold
    crossings, so a worm whose V only hovers below threshold counts as silent) and
    the gradient the sigmoid's (a surrogate gradient, Zenke & Vogels 2021). The
    plain soft mode is smooth (finite differences agree) but rewards sub-threshold
    wiggles near V_th: the quick example's first run found a silent optimum that way."""
    import jax
    import jax.numpy as jnp

    s = jax.nn.sigmoid((v_mV - thresh_mV) / width_mV)
    if surrogate:
        s = s + jax.lax.stop_gradient((v_mV >= thresh_mV).astype(s.dtype) - s)
    up = jnp.maximum(s[1:] - s[:-1], 0.0)  # (n_samples, 96)
    per_bin = max(1, int(round(grid_s * 1000.0 / sample_dt_ms)))
    nb = up.shape[0] // per_bin
    binned = up[: nb * per_bin].reshape(nb, per_bin, up.shape[1]).sum(1)
    return binned @ jnp.asarray(channels)


def hard_onset_counts(onsets_s, pitches, duration_s: float, grid_s: float, pitch_aware: bool) -> np.ndarray:
    """(n_bins, C) counts of discrete onsets (population modes on any backend; tests)."""
    nb = n_bins(duration_s, grid_s)
    t = np.asarray(onsets_s, float)
    idx = np.floor(t / grid_s).astype(int)
    ch = ((np.asarray(pitches, int)) % N_CLASSES) if pitch_aware else np.zeros(len(t), int)
    keep = (idx >= 0) & (idx < nb)
    out = np.zeros((nb, N_CLASSES if pitch_aware else 1))
    np.add.at(out, (idx[keep], ch[keep]), 1.0)
    return out


def target_density(onsets_s, pitches, nb: int, grid_s: float, sigma_s: float, offset_s, pitch_aware: bool,
                   mask=None, xp=None):
    """(nb, C) blurred target onsets at bin centres + ``offset_s`` (differentiable in offset under JAX).

    ``mask`` (same shape as ``onsets_s``) marks real notes in a padded array;
    ``xp`` as in :func:`blur`."""
    xp = xp or _jnp()
    t = (xp.arange(nb) + 0.5) * grid_s + offset_s
    on = xp.asarray(onsets_s)
    w = xp.ones_like(on) if mask is None else xp.asarray(mask, on.dtype)
    g = xp.exp(-0.5 * ((t[:, None] - on[None, :]) / sigma_s) ** 2) * w[None, :]  # (nb, n_notes)
    if not pitch_aware:
        return g.sum(1, keepdims=True)
    if xp is np:
        onehot = np.eye(N_CLASSES)[np.asarray(pitches, int) % N_CLASSES]  # (n_notes, 12)
    else:  # pitches may be traced (a padded target passed into jit)
        import jax

        onehot = jax.nn.one_hot(xp.asarray(pitches) % N_CLASSES, N_CLASSES, dtype=g.dtype)
    return g @ onehot


def dice_loss(worm_density, target_dens, eps: float = 1e-9, xp=None):
    """1 - 2<W,T> / (|W|^2 + |T|^2): 1 for silence or no overlap, 0 for W = T."""
    xp = xp or _jnp()
    num = 2.0 * xp.sum(worm_density * target_dens)
    den = xp.sum(worm_density**2) + xp.sum(target_dens**2) + eps
    return 1.0 - num / den


def loss_from_onsets(onsets_s, pitches, target_onsets_s, target_pitches, duration_s: float, *, grid_s: float = 0.01,
                     sigma_s: float = 0.03, offset_s: float = 0.0, pitch_aware: bool = False) -> float:
    """The same loss from discrete worm onsets (times relative to the window start), in NumPy."""
    counts = hard_onset_counts(onsets_s, pitches, duration_s, grid_s, pitch_aware)
    w = blur(counts, grid_s, sigma_s, xp=np)
    t = target_density(np.asarray(target_onsets_s, float), target_pitches, counts.shape[0], grid_s, sigma_s,
                       float(offset_s), pitch_aware, xp=np)
    return float(dice_loss(w, t, xp=np))
