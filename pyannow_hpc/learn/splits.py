"""Time-block held-out split: the later blocks are never seen in training.

Frames of a music/worm time series are strongly autocorrelated, so a random
frame split leaks (a held-out frame's neighbours are in training). The honest
split cuts the window into contiguous blocks and holds out the LAST ones: the
models are then asked to play music they have never heard, later in time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class TimeBlockSplit:
    """Boolean frame masks for training and held-out evaluation."""

    train: np.ndarray
    test: np.ndarray
    split_frame: int  # first held-out frame
    n_blocks: int
    n_heldout_blocks: int

    def split_time_s(self, frame_hz: float) -> float:
        return self.split_frame / frame_hz


def time_block_split(n_frames: int, n_blocks: int = 10, heldout_frac: float = 0.3) -> TimeBlockSplit:
    """Cut ``n_frames`` into ``n_blocks`` contiguous blocks; hold out the last ``round(heldout_frac * n_blocks)``."""
    if n_blocks < 2 or n_frames < n_blocks:
        raise ConfigError(f"need at least 2 blocks of >= 1 frame, got {n_blocks} blocks for {n_frames} frames")
    if not (0.0 < heldout_frac < 1.0):
        raise ConfigError(f"heldout_frac must lie in (0, 1), got {heldout_frac!r}")
    n_out = min(n_blocks - 1, max(1, int(round(heldout_frac * n_blocks))))
    edges = np.linspace(0, n_frames, n_blocks + 1).round().astype(int)
    split = int(edges[n_blocks - n_out])
    train = np.zeros(n_frames, dtype=bool)
    train[:split] = True
    return TimeBlockSplit(train, ~train, split, n_blocks, n_out)


def in_sample(n_frames: int) -> TimeBlockSplit:
    """The seed's protocol: train and evaluate on every frame."""
    every = np.ones(n_frames, dtype=bool)
    return TimeBlockSplit(every, every, 0, 1, 0)


def contiguous_folds(n_frames: int, n_folds: int = 5):
    """K-fold CV with contiguous, unshuffled folds (for choosing λ without leaking neighbours)."""
    from sklearn.model_selection import KFold

    return KFold(n_splits=min(n_folds, n_frames), shuffle=False)
