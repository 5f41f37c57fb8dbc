"""Step 1b: orthogonal Procrustes alignment of the worm subspace to Chopin's.

R = argmin_{RᵀR = I} ‖W R − C‖_F has the closed form R = U Vᵀ from the SVD
Wᵀ C = U Σ Vᵀ (semi-orthogonal when the two subspaces differ in dimension,
which scipy's square-only ``orthogonal_procrustes`` does not cover).
``standardize=True`` z-scores W's columns first (the seed's ISSUE-032 fix:
without it one large PC dominates the rotation), and a least-squares scale
makes residuals comparable.

Chopin's features: blurred onset density and 12 pitch-class densities of the
target, PCA'd to the components that explain 90% of their variance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from ..music.notes import NoteSequence
from .features import chroma_density, onset_density


@dataclass(frozen=True)
class ProcrustesResult:
    R: np.ndarray  # (k_w, k_c)
    mean: np.ndarray
    scale: np.ndarray  # per-column std of W used to standardise
    alpha: float  # least-squares scale of the rotated worm
    residual: float  # ‖alpha W_s R − C‖_F / ‖C‖_F

    def transform(self, W: np.ndarray) -> np.ndarray:
        return self.alpha * ((W - self.mean) / self.scale) @ self.R


def procrustes_align(W: np.ndarray, C: np.ndarray, standardize: bool = True) -> ProcrustesResult:
    W = np.asarray(W, float)
    C = np.asarray(C, float)
    mean = W.mean(axis=0)
    scale = W.std(axis=0) if standardize else np.ones(W.shape[1])
    scale = np.where(scale > 1e-12, scale, 1.0)
    Ws = (W - mean) / scale
    U, _, Vt = np.linalg.svd(Ws.T @ C, full_matrices=False)
    R = U @ Vt
    WR = Ws @ R
    alpha = float(np.sum(WR * C) / max(np.sum(WR * WR), 1e-12))
    res = float(np.linalg.norm(alpha * WR - C) / max(np.linalg.norm(C), 1e-12))
    return ProcrustesResult(R, mean, scale, alpha, res)


@dataclass(frozen=True)
class ChopinFeatures:
    """PCA of [onset density, chroma densities]; ``density_of`` maps back to onset density."""

    pca: PCA
    mean: np.ndarray
    std: np.ndarray

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return self.pca.transform((raw - self.mean) / self.std)

    def density_of(self, C: np.ndarray) -> np.ndarray:
        """Onset density (column 0 of the raw features) reconstructed from PCA coordinates."""
        return (C @ self.pca.components_ + self.pca.mean_)[:, 0] * self.std[0] + self.mean[0]


def chopin_raw(target: NoteSequence, n_frames: int, frame_hz: float) -> np.ndarray:
    return np.column_stack([onset_density(target, n_frames, frame_hz), chroma_density(target, n_frames, frame_hz)])


def build_chopin_features(raw: np.ndarray, k: int | None = None, variance: float = 0.9) -> ChopinFeatures:
    """Fit on these frames; ``k=None`` keeps the components reaching ``variance`` (the seed's auto-k)."""
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    pca = PCA(n_components=k if k is not None else variance, svd_solver="full").fit((raw - mean) / std)
    return ChopinFeatures(pca, mean, std)
