"""The one structure every worm backend returns: muscle activity + spikes.

The native and JAX surrogates, C302 (95 muscles mapped onto 96 slots) and the
Sibernetic container all produce a :class:`MuscleActivity`, so onset detection,
metrics and learning code never care which backend ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

QUADRANTS = ("DL", "VL", "DR", "VR")
N_SEGMENTS = 24
N_MUSCLES = 96


def muscle_names() -> tuple[str, ...]:
    """Slot names in pitch order: DL01..DL24, VL01..VL24, DR01..DR24, VR01..VR24.

    C302 spells them MDL01, MVL01, ... (``"M" + name``); its MVL24 does not exist.
    """
    return tuple(f"{q}{s + 1:02d}" for q in QUADRANTS for s in range(N_SEGMENTS))


@dataclass(frozen=True)
class SimulationSpec:
    """Everything a backend needs to run one simulation (validated upstream)."""

    params: Mapping[str, float]
    model: str = "pyannow"
    duration_ms: float = 10_000.0
    dt_ms: float = 0.5
    seed: int = 0
    integrator: str = "exponential"  # or "seed_euler"
    sample_rate_hz: float = 1000.0
    record_gates: bool = False
    #: also record the cell model's own traces (boyle2008: ``ca_mM``); off by default so
    #: a long run stores V alone (229 s at 1 kHz: 88 MB of float32 per trace)
    record_traces: bool = False
    spike_thresh_mV: float = -10.0
    refractory_ms: float = 50.0
    float32: bool = True  # dtype of the recorded traces

    @property
    def n_steps(self) -> int:
        return int(round(self.duration_ms / self.dt_ms))

    @property
    def record_every(self) -> int:
        """Integration steps per recorded sample (>= 1)."""
        return max(1, int(round(1000.0 / (self.sample_rate_hz * self.dt_ms))))


@dataclass(frozen=True)
class MuscleActivity:
    """Recorded muscle traces and spike trains of one simulation.

    ``v_mV[i, j]`` is muscle ``j``'s membrane potential at ``t_ms[i]``. Other
    traces (gates ``m``/``n``, calcium ``ca_mM``) live in ``traces``.
    Spikes are a flat, time-sorted list: ``spike_times_ms[k]`` in muscle
    ``spike_muscle[k]``.
    """

    t_ms: np.ndarray
    v_mV: np.ndarray
    spike_times_ms: np.ndarray
    spike_muscle: np.ndarray
    backend: str
    model: str
    params: Mapping[str, float]
    seed: int = 0
    traces: Mapping[str, np.ndarray] = field(default_factory=dict)
    muscle_names: tuple[str, ...] = field(default_factory=muscle_names)

    @property
    def n_muscles(self) -> int:
        return self.v_mV.shape[1]

    @property
    def duration_ms(self) -> float:
        return float(self.t_ms[-1]) if len(self.t_ms) else 0.0

    @property
    def sample_rate_hz(self) -> float:
        return 1000.0 / float(self.t_ms[1] - self.t_ms[0]) if len(self.t_ms) > 1 else float("nan")

    def spikes_of(self, muscle: int) -> np.ndarray:
        return self.spike_times_ms[self.spike_muscle == muscle]
