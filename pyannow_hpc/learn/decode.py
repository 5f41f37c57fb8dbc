"""Onset probabilities on the frame grid -> note onsets.

Peaks of the score above a threshold, thinned by a refractory time (the
seed's 0.28 s) keeping the strongest first. The threshold is *calibrated* on
the training frames only: the candidate that maximises mir_eval's one-to-one
onset F-measure there. Held-out frames never influence it.
"""
from __future__ import annotations

import mir_eval
import numpy as np
from scipy.signal import find_peaks

REFRACTORY_S = 0.28


def decode_onsets(score: np.ndarray, frame_hz: float, threshold: float, refractory_s: float = REFRACTORY_S) -> np.ndarray:
    """Frame indices of the onsets: local maxima >= threshold, >= refractory apart."""
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-np.inf)
    distance = max(1, int(round(refractory_s * frame_hz)))
    # find_peaks' `distance` removes the smaller of two peaks closer than it: the greedy refractory rule
    peaks, _ = find_peaks(np.r_[-np.inf, score, -np.inf], height=threshold, distance=distance)
    return peaks - 1


def frames_to_s(frames: np.ndarray, frame_hz: float) -> np.ndarray:
    """Frame index -> time of the frame's centre (labels put an onset in the frame that holds it)."""
    return (np.asarray(frames, dtype=np.float64) + 0.5) / frame_hz


def calibrate_threshold(
    score: np.ndarray,
    target_onsets_s: np.ndarray,
    frame_hz: float,
    refractory_s: float = REFRACTORY_S,
    window_s: float = 0.05,
    n_candidates: int = 60,
) -> float:
    """The threshold maximising mir_eval onset F (±window) on these frames."""
    score = np.asarray(score, dtype=np.float64)
    if not np.isfinite(score).any() or len(target_onsets_s) == 0:
        return float("inf")
    # the decoded set only changes where the threshold crosses a peak height: try the midpoints
    heights = np.unique(score[decode_onsets(score, frame_hz, -np.inf, refractory_s=0.0)])
    if len(heights) > n_candidates:
        heights = np.unique(np.quantile(heights, np.linspace(0.0, 1.0, n_candidates)))
    cands = np.r_[heights[0] - 1e-9, (heights[1:] + heights[:-1]) / 2.0]
    ref = np.asarray(target_onsets_s, dtype=np.float64)
    fs = []
    for thr in cands:
        est = frames_to_s(decode_onsets(score, frame_hz, thr, refractory_s), frame_hz)
        fs.append(mir_eval.onset.f_measure(ref, est, window=window_s)[0] if len(est) else 0.0)
    fs = np.asarray(fs)
    # the middle of the best plateau, not its edge: the largest margin for unseen frames
    best = cands[fs >= fs.max() - 1e-12]
    return float(best[len(best) // 2])
