"""The PyANNOW steps as functions of (window, training frames) -> onset score.

Every step sees only the frames it may train on (``train``, a boolean mask)
and returns, for EVERY frame of the window, either an onset score (decoded by
:mod:`.progression` with a threshold calibrated on the training frames), onset
frames (the unsupervised step 2), or finished notes (the step-0 baseline).
All fitted transforms (PCA, scalers, Procrustes, networks) are fitted on the
training frames only, so the held-out protocol leaks nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..music.notes import NoteSequence
from ..worm.activity import MuscleActivity
from . import pinn_ode, pinn_pde
from .features import WormFeatures, beat_phase, onset_density, onset_labels
from .forest import fit_forest, onset_proba
from .hybrid import CONFIG as HYBRID_CONFIG, hybrid_features, train_hybrid
from .mlp import train_classifier
from .optim import TrainConfig
from .primitives import MotorPrimitives, transitions
from .procrustes import build_chopin_features, chopin_raw, procrustes_align
from .ridge import fit_ridge, ridge_lambda
from .svd import NeuralScores, latent_speed


@dataclass
class Window:
    """One stretch of worm + target on the frame grid (the 10 s window or the full piece)."""

    name: str
    activity: MuscleActivity
    feats: WormFeatures
    target: NoteSequence  # onsets in [0, duration_s)
    baseline: NoteSequence  # the worm's own notes (step 0) in the window
    k_worm: int = 4
    quick: bool = False  # fewer optimiser steps (tests)
    seed: int = 0
    cache: dict = field(default_factory=dict)

    @property
    def frame_hz(self) -> float:
        return self.feats.frame_hz

    @property
    def n_frames(self) -> int:
        return self.feats.n_frames

    @property
    def duration_s(self) -> float:
        return self.feats.duration_s

    @property
    def t_s(self) -> np.ndarray:
        return self.feats.t_s

    @property
    def drive_freq_hz(self) -> float:
        return self.feats.drive_freq_hz or 1.5

    def X(self) -> np.ndarray:
        if "X" not in self.cache:
            self.cache["X"] = self.feats.matrix()
        return self.cache["X"]

    def labels(self) -> np.ndarray:
        return onset_labels(self.target, self.n_frames, self.frame_hz)

    def worm_scores(self, train: np.ndarray) -> np.ndarray:
        """(n_frames, k) rSVD scores, the subspace fitted on the training frames."""
        key = ("Z", np.packbits(train).tobytes())
        if key not in self.cache:
            self.cache[key] = NeuralScores(self.k_worm, self.seed).fit(self.X()[train]).transform(self.X())
        return self.cache[key]

    def train_config(self, adam: int, lbfgs: int, lr: float) -> TrainConfig:
        if self.quick:
            adam, lbfgs = max(1, adam // 10), max(1, lbfgs // 10)
        return TrainConfig(adam_steps=adam, lbfgs_steps=lbfgs, learning_rate=lr, reducer="none")


@dataclass
class StepOutput:
    score: np.ndarray | None = None  # (n_frames,) onset score, higher = onset
    onset_frames: np.ndarray | None = None
    notes: NoteSequence | None = None
    info: str = ""


StepFn = Callable[[Window, np.ndarray], StepOutput]


def step0_baseline(win: Window, train: np.ndarray) -> StepOutput:
    return StepOutput(notes=win.baseline, info=f"{win.baseline.name or 'crest detector'}")


def step1a_rsvd(win: Window, train: np.ndarray) -> StepOutput:
    Z = win.worm_scores(train)
    return StepOutput(score=latent_speed(Z, train), info=f"rSVD k={win.k_worm}; score = speed in the latent space")


def _chopin(win: Window, train: np.ndarray):
    raw = chopin_raw(win.target, win.n_frames, win.frame_hz)
    cf = build_chopin_features(raw[train])
    return cf, cf.transform(raw)


def step1b_procrustes(win: Window, train: np.ndarray) -> StepOutput:
    Z = win.worm_scores(train)
    cf, C = _chopin(win, train)
    pr = procrustes_align(Z[train], C[train], standardize=True)
    return StepOutput(score=cf.density_of(pr.transform(Z)),
                      info=f"k_chopin={C.shape[1]} (90% var), residual {pr.residual:.3f}")


def step2_primitives(win: Window, train: np.ndarray) -> StepOutput:
    mp = MotorPrimitives(4, 4, win.seed).fit(win.X()[train])
    return StepOutput(onset_frames=transitions(mp.labels(win.X())), info="PCA k=4, K-means k=4; transitions = onsets")


def step3_ridge(win: Window, train: np.ndarray) -> StepOutput:
    Z = win.worm_scores(train)
    y = onset_density(win.target, win.n_frames, win.frame_hz)
    model = fit_ridge(Z[train], y[train])
    return StepOutput(score=model.predict(Z), info=f"λ = {ridge_lambda(model):.3g} (5 contiguous CV folds)")


def step4_mlp(win: Window, train: np.ndarray) -> StepOutput:
    Z = win.worm_scores(train)
    clf = train_classifier(Z, win.labels(), hidden=(32,), activation="tanh",
                           config=win.train_config(500, 100, 1e-3), seed=win.seed, mask=train)
    return StepOutput(score=clf.predict_proba(Z), info=f"tanh(32), Adam 500 + L-BFGS 100, final BCE {clf.history.final_loss:.3f}")


def step7_forest(win: Window, train: np.ndarray) -> StepOutput:
    X = np.hstack([win.worm_scores(train), beat_phase(win.t_s, win.drive_freq_hz)])
    rf = fit_forest(X[train], win.labels()[train], n_trees=30 if win.quick else 100, seed=win.seed)
    return StepOutput(score=onset_proba(rf, X), info=f"100 trees depth 12, OOB accuracy {rf.oob_score_:.3f}")


def _ode_problem(win: Window, train: np.ndarray):
    Z = win.worm_scores(train)
    raw = chopin_raw(win.target, win.n_frames, win.frame_hz)
    cf = build_chopin_features(raw[train], k=Z.shape[1])
    C = cf.transform(raw)
    zs = (Z - Z[train].mean(0)) / np.maximum(Z[train].std(0), 1e-9)
    return pinn_ode.make_problem(win.t_s, zs, C, n_colloc=200, drive_freq_hz=win.drive_freq_hz, mask=train), cf, C, zs


def step8a_ode_pinn(win: Window, train: np.ndarray) -> StepOutput:
    prob, cf, C, zs = _ode_problem(win, train)
    params, hist = pinn_ode.train(prob, win.train_config(500, 50, 1e-3), seed=win.seed)
    ev = ~train if (~train).any() else train
    ls = pinn_ode.losses(params, prob, win.t_s[ev], C[ev], zs[ev])
    win.cache[("ode_physics", int(train.sum()))] = (ls["gamma_per_s"], ls["omega_rad_s"])
    return StepOutput(score=cf.density_of(pinn_ode.predict(params, prob, win.t_s)),
                      info=(f"data MSE {ls['data_mse']:.3f}, phys MSE {ls['phys_mse']:.3g} on eval frames; "
                            f"γ={ls['gamma_per_s']:.2f}/s ω={ls['omega_rad_s']:.2f} rad/s"))


def step8b_pde_pinn(win: Window, train: np.ndarray) -> StepOutput:
    v = np.nan_to_num(win.X()[:, :96] if win.X().shape[1] >= 96 else win.X())
    roll = np.zeros((win.n_frames, v.shape[1]))
    pitch_idx = np.clip(np.asarray(win.target.pitch) - 24, 0, v.shape[1] - 1)
    f = np.floor(np.asarray(win.target.onset_s) * win.frame_hz).astype(int)
    ok = (f >= 0) & (f < win.n_frames)
    np.add.at(roll, (f[ok], pitch_idx[ok]), 1.0)
    from scipy.ndimage import gaussian_filter

    roll = gaussian_filter(roll, (0.04 * win.frame_hz, 1.0), mode="constant") * 10.0
    prob = pinn_pde.make_problem(win.t_s, v, roll, drive_freq_hz=win.drive_freq_hz, seed=win.seed, mask=train)
    params, _ = pinn_pde.train(prob, win.train_config(500, 50, 1e-3), seed=win.seed)
    ev = ~train if (~train).any() else train
    ls = pinn_pde.losses(params, prob, win.t_s[ev], v[ev], roll[ev])
    density = pinn_pde.predict_field(params, prob, win.t_s, v.shape[1]).sum(axis=1)
    return StepOutput(score=density, info=(f"data MSE {ls['data_mse']:.4f}, phys MSE {ls['phys_mse']:.3g} on eval frames; "
                                           f"ρ={ls['rho']:.2f} μ={ls['mu']:.2f} γ={ls['gamma_per_s']:.2f}"))


def _hybrid(win: Window, train: np.ndarray, worm: bool, residual: bool) -> StepOutput:
    Z = win.worm_scores(train) if worm else None
    phys = None
    if residual:
        phys = win.cache.get(("ode_physics", int(train.sum())), (1.0, 2 * np.pi * win.drive_freq_hz))
    X = hybrid_features(win.t_s, win.duration_s, Z, win.frame_hz, residual=phys)
    cfg = win.train_config(HYBRID_CONFIG.adam_steps, HYBRID_CONFIG.lbfgs_steps, HYBRID_CONFIG.learning_rate)
    clf = train_hybrid(X, win.labels(), cfg, seed=win.seed, mask=train)
    what = "Fourier(25)" + (f" + worm PCA({Z.shape[1]})" if worm else "") + (f" + ODE residual (γ={phys[0]:.2f}, ω={phys[1]:.2f})" if phys else "")
    return StepOutput(score=clf.predict_proba(X), info=f"MLP(128,64) on {what}")


def step9_hybrid(win: Window, train: np.ndarray) -> StepOutput:
    return _hybrid(win, train, worm=True, residual=False)


def step9b_hybrid_residual(win: Window, train: np.ndarray) -> StepOutput:
    return _hybrid(win, train, worm=True, residual=True)


def ref_time_only(win: Window, train: np.ndarray) -> StepOutput:
    return _hybrid(win, train, worm=False, residual=False)


@dataclass(frozen=True)
class Step:
    key: str
    method: str
    seed_f1: str  # what the original reported (seed any-match, in-sample)
    scope: str  # "window" or "full"
    fn: StepFn


STEPS: tuple[Step, ...] = (
    Step("0", "deterministic body wave: the worm's own notes (baseline)", "0.217", "window", step0_baseline),
    Step("1a", "rSVD (k=4) neural scores", "0.186", "window", step1a_rsvd),
    Step("1b", "rSVD + Procrustes to Chopin features (standardised)", "0.095", "window", step1b_procrustes),
    Step("2", "PCA + K-means motor primitives (k=4)", "0.109", "window", step2_primitives),
    Step("3", "ridge regression, λ by CV", "0.286", "window", step3_ridge),
    Step("4-6", "MLP tanh(32) + Adam + L-BFGS", "~0.25", "window", step4_mlp),
    Step("7", "random forest on worm PCA + body-wave phase", "0.872", "window", step7_forest),
    Step("8a", "ODE PINN (decoded from q)", "—", "window", step8a_ode_pinn),
    Step("8b", "PDE PINN (decoded from Σ_x q)", "—", "window", step8b_pde_pinn),
    Step("9", "Worm+Time hybrid MLP(128,64)", "0.933", "window", step9_hybrid),
    Step("9b", "Worm+Time hybrid + ODE residual", "≈0.933", "window", step9b_hybrid_residual),
    Step("0-full", "deterministic body wave on the full piece (baseline)", "—", "full", step0_baseline),
    Step("10", "step 9b on the full piece (t/T_full)", "— (WAVs)", "full", step9b_hybrid_residual),
    Step("ref", "pure Fourier-time net on the full piece", "0.858", "full", ref_time_only),
)
