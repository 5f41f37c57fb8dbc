"""Worm activity -> feature matrices on a frame grid; target notes -> labels.

Every learning step sees the worm through :class:`WormFeatures`: the muscle
membrane potentials and spike rates of a :class:`~pyannow_hpc.worm.MuscleActivity`
averaged into frames (default 50 Hz = the 20 ms grid of the onset loss).
The same code takes any backend's output: C302 has 95 muscles in 96 slots
(MVL24 missing, NaN or all-zero), Sibernetic logs coarsely; missing slots are
flagged in ``valid`` and enter the matrices as zeros, never as NaN.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import ConfigError
from ..music.notes import NoteSequence
from ..worm.activity import MuscleActivity

FRAME_HZ = 50.0


@dataclass(frozen=True)
class WormFeatures:
    """Frame-averaged muscle activity. Frame ``i`` covers ``[t_s[i], t_s[i] + 1/frame_hz)``."""

    t_s: np.ndarray  # (n_frames,)
    v_mV: np.ndarray  # (n_frames, n_slots) frame-mean V; NaN in missing slots
    rate_hz: np.ndarray  # (n_frames, n_slots) spikes per second in each frame
    valid: np.ndarray  # (n_slots,) bool: the slot holds a recorded muscle
    frame_hz: float
    drive_freq_hz: float | None = None
    #: frames the z-score of :meth:`matrix` is fitted on (a training mask); None = all frames
    fit_frames: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return len(self.t_s)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.frame_hz

    def matrix(self) -> np.ndarray:
        """(n_frames, n_features) z-scored V (+ z-scored spike rates when any
        training frame has a spike), the mean and spread taken over
        :attr:`fit_frames` only: a held-out protocol must not normalise with
        the frames it is scored on.

        Constant or missing columns become zeros: a plateaued cell carries no
        information, and dividing by its zero spread would make NaNs.
        """
        fit = slice(None) if self.fit_frames is None else np.asarray(self.fit_frames, dtype=bool)
        cols = [_zscore(np.where(self.valid, self.v_mV, 0.0), fit)]
        if np.any(self.rate_hz[fit] > 0):
            cols.append(_zscore(self.rate_hz, fit))
        return np.hstack(cols)

    def fitted_on(self, train: np.ndarray | None) -> "WormFeatures":
        """The same features with :meth:`matrix`'s normalisation fitted on ``train``."""
        return dataclasses.replace(self, fit_frames=None if train is None else np.asarray(train, dtype=bool))

    def slice(self, start: int, stop: int) -> "WormFeatures":
        fit = None if self.fit_frames is None else self.fit_frames[start:stop]
        return WormFeatures(self.t_s[start:stop] - self.t_s[start], self.v_mV[start:stop], self.rate_hz[start:stop],
                            self.valid, self.frame_hz, self.drive_freq_hz, fit)


def _zscore(x: np.ndarray, fit=slice(None)) -> np.ndarray:
    """Columns centred and scaled by the mean and sd of the rows ``fit``."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))
    ref = x[fit]
    sd = ref.std(axis=0)
    return np.where(sd > 1e-9, (x - ref.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0), 0.0)


def activity_features(activity: MuscleActivity, frame_hz: float = FRAME_HZ, duration_s: float | None = None) -> WormFeatures:
    """Average a backend's traces into frames and count spikes per frame."""
    if not (np.isfinite(frame_hz) and frame_hz > 0):
        raise ConfigError(f"frame_hz must be a positive number, got {frame_hz!r}")
    t_s = np.asarray(activity.t_ms, dtype=np.float64) / 1000.0
    v = np.asarray(activity.v_mV, dtype=np.float64)
    if v.ndim != 2 or len(t_s) != v.shape[0] or len(t_s) < 2:
        raise ConfigError(f"muscle activity must be (n_samples >= 2, n_muscles) with matching t_ms, got v {v.shape}, t {t_s.shape}")
    dt_s = float(np.median(np.diff(t_s)))
    total_s = duration_s if duration_s is not None else float(t_s[-1] - t_s[0] + dt_s)
    n_frames = int(np.floor(total_s * frame_hz + 1e-9))
    if n_frames < 2:
        raise ConfigError(f"activity of {total_s:.3f} s gives fewer than 2 frames at {frame_hz:g} Hz")
    finite = np.isfinite(v)
    # a slot is missing when it never holds a finite value or is identically zero (C302's absent MVL24)
    valid = finite.any(axis=0) & (np.nanmax(np.abs(np.where(finite, v, 0.0)), axis=0) > 0)
    if np.any(np.diff(t_s) <= 0):
        raise ConfigError("muscle activity times t_ms must be strictly increasing")
    frame = np.floor((t_s - t_s[0]) * frame_hz + 1e-9).astype(np.int64)
    keep = frame < n_frames
    frame, vk, fk = frame[keep], np.where(finite, v, 0.0)[keep], finite[keep]
    sums = np.zeros((n_frames, v.shape[1]))
    counts = np.zeros((n_frames, v.shape[1]))
    _bin_sorted(sums, frame, vk)
    _bin_sorted(counts, frame, fk.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        v_frames = sums / counts
    t_frames = np.arange(n_frames) / frame_hz
    # coarse logs (Sibernetic) leave frames without samples: interpolate in time
    for j in np.flatnonzero(valid):
        col = v_frames[:, j]
        ok = np.isfinite(col)
        if not ok.all() and ok.any():
            v_frames[:, j] = np.interp(t_frames, t_frames[ok], col[ok])
    v_frames[:, ~valid] = np.nan

    rate = np.zeros((n_frames, v.shape[1]))
    sp_t = np.asarray(activity.spike_times_ms, dtype=np.float64) / 1000.0 - t_s[0]
    sp_m = np.asarray(activity.spike_muscle, dtype=np.int64)
    sp_f = np.floor(sp_t * frame_hz + 1e-9).astype(np.int64)
    ok = (sp_f >= 0) & (sp_f < n_frames) & (sp_m >= 0) & (sp_m < v.shape[1])
    np.add.at(rate, (sp_f[ok], sp_m[ok]), frame_hz)
    f = activity.params.get("drive_freq_hz") if activity.params else None
    return WormFeatures(t_frames, v_frames, rate, valid, float(frame_hz), None if f is None else float(f))


def _bin_sorted(out: np.ndarray, frame: np.ndarray, values: np.ndarray) -> None:
    """Sum rows of ``values`` into ``out[frame]`` for non-decreasing ``frame``.

    Samples are time-sorted, so a segmented sum (reduceat) does in one pass what
    np.add.at does ~50x slower on a 229 s, 96-muscle, 1 kHz trace.
    """
    if len(frame) == 0:
        return
    starts = np.flatnonzero(np.r_[True, frame[1:] != frame[:-1]])
    out[frame[starts]] += np.add.reduceat(values, starts, axis=0)


def onset_labels(notes: NoteSequence, n_frames: int, frame_hz: float = FRAME_HZ) -> np.ndarray:
    """1 in every frame that holds at least one note onset, else 0."""
    idx = np.floor(np.asarray(notes.onset_s) * frame_hz + 1e-9).astype(np.int64)
    y = np.zeros(n_frames, dtype=np.int8)
    y[idx[(idx >= 0) & (idx < n_frames)]] = 1
    return y


def onset_density(notes: NoteSequence, n_frames: int, frame_hz: float = FRAME_HZ, sigma_s: float = 0.04) -> np.ndarray:
    """Onsets per frame, Gaussian-blurred (the smooth target of the regressors and the onset loss)."""
    y = np.zeros(n_frames)
    idx = np.floor(np.asarray(notes.onset_s) * frame_hz + 1e-9).astype(np.int64)
    np.add.at(y, idx[(idx >= 0) & (idx < n_frames)], 1.0)
    return gaussian_filter1d(y, sigma_s * frame_hz, mode="constant") if sigma_s > 0 else y


def chroma_density(notes: NoteSequence, n_frames: int, frame_hz: float = FRAME_HZ, sigma_s: float = 0.08) -> np.ndarray:
    """(n_frames, 12) blurred onsets per pitch class: the 'Chopin features' of steps 1b and 8."""
    y = np.zeros((n_frames, 12))
    idx = np.floor(np.asarray(notes.onset_s) * frame_hz + 1e-9).astype(np.int64)
    ok = (idx >= 0) & (idx < n_frames)
    np.add.at(y, (idx[ok], np.asarray(notes.pitch)[ok] % 12), 1.0)
    return gaussian_filter1d(y, sigma_s * frame_hz, axis=0, mode="constant")


def fourier_time_features(t_s: np.ndarray, period_s: float, n_harmonics: int = 12) -> np.ndarray:
    """[t/T, cos 2πk t/T, sin 2πk t/T for k = 1..n]: the seed's 25-D time code (NB04)."""
    phase = np.asarray(t_s, dtype=np.float64) / period_s
    cols = [phase]
    for k in range(1, n_harmonics + 1):
        cols += [np.cos(2 * np.pi * k * phase), np.sin(2 * np.pi * k * phase)]
    return np.column_stack(cols)


def beat_phase(t_s: np.ndarray, freq_hz: float) -> np.ndarray:
    """(n, 2) cos/sin of the body-wave phase: the worm's own clock (step 7's 'beat position').

    Taken from the worm's drive frequency, not from the score, so no target
    information leaks into the features.
    """
    ph = 2 * np.pi * freq_hz * np.asarray(t_s, dtype=np.float64)
    return np.column_stack([np.cos(ph), np.sin(ph)])


def ode_residual(z: np.ndarray, frame_hz: float, gamma_per_s: float, omega_rad_s: float) -> np.ndarray:
    """q̈ + 2γq̇ + ω²q of each column of ``z`` by central differences (step 9b's physics feature)."""
    dt = 1.0 / frame_hz
    qd = np.gradient(z, dt, axis=0)
    qdd = np.gradient(qd, dt, axis=0)
    return qdd + 2.0 * gamma_per_s * qd + omega_rad_s**2 * z
