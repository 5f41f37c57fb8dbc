"""Note sequences: what both the worm and the target score become."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NoteSequence:
    """Notes sorted by onset. Arrays of equal length; times in seconds."""

    onset_s: np.ndarray
    pitch: np.ndarray  # MIDI note number (int)
    velocity: np.ndarray  # 1..127 (int)
    duration_s: np.ndarray
    name: str = ""
    #: the score's beat period (s) and a time (s, this sequence's clock) a beat
    #: falls on; None where no beat is known (worm notes, bare onset lists)
    beat_s: float | None = None
    beat_origin_s: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.onset_s)
        if not (len(self.pitch) == len(self.velocity) == len(self.duration_s) == n):
            raise ValueError("NoteSequence arrays must have equal length")

    @classmethod
    def from_arrays(cls, onset_s, pitch, velocity=None, duration_s=None, name: str = "") -> "NoteSequence":
        onset = np.asarray(onset_s, dtype=float)
        order = np.argsort(onset, kind="stable")
        n = len(onset)
        vel = np.full(n, 80, dtype=int) if velocity is None else np.asarray(velocity, dtype=int)
        dur = np.full(n, 0.25) if duration_s is None else np.asarray(duration_s, dtype=float)
        return cls(onset[order], np.asarray(pitch, dtype=int)[order], vel[order], dur[order], name)

    def __len__(self) -> int:
        return len(self.onset_s)

    @property
    def end_s(self) -> float:
        return float(np.max(self.onset_s + self.duration_s)) if len(self) else 0.0

    def window(self, start_s: float, stop_s: float) -> "NoteSequence":
        """Notes with onset in [start_s, stop_s), times shifted to start at 0."""
        keep = (self.onset_s >= start_s) & (self.onset_s < stop_s)
        origin = self.beat_origin_s - start_s
        if self.beat_s:
            origin = float(origin % self.beat_s)  # the beat grid moves with the window
        return NoteSequence(self.onset_s[keep] - start_s, self.pitch[keep], self.velocity[keep], self.duration_s[keep],
                            self.name, self.beat_s, origin)

    def rate_hz(self, duration_s: float | None = None) -> float:
        d = duration_s if duration_s is not None else (float(self.onset_s[-1]) if len(self) else 0.0)
        return len(self) / d if d > 0 else 0.0
