"""The pitch map: muscle slot -> MIDI note, and MIDI note names.

SCIENCE.md section 1: muscle ``i`` in pitch order (DL 0-23, VL 24-47,
DR 48-71, VR 72-95, see :func:`pyannow_hpc.worm.activity.muscle_names`) plays
MIDI ``24 + i``.  The 96 muscles therefore span MIDI 24 (C1) .. 119 (B8): all
12 pitch classes, eight octaves.  A piano's 88 keys are MIDI 21 (A0) .. 108
(C8), so muscles 85-95 (VR14..VR24, MIDI 109-119) play notes above the
keyboard; the synthesiser renders them anyway (their upper partials fall above
Nyquist and are dropped there).
"""
from __future__ import annotations

import numpy as np

#: MIDI note of muscle 0 (DL01)
MIDI_OFFSET = 24
N_MUSCLES = 96
#: the 88-key piano: A0 .. C8
PIANO_LOW_MIDI = 21
PIANO_HIGH_MIDI = 108

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def muscle_to_midi(i):
    """MIDI note of muscle slot ``i`` (int or integer array), 24 + i."""
    arr = np.asarray(i)
    if np.any((arr < 0) | (arr >= N_MUSCLES)):
        raise ValueError(f"muscle index must be in [0, {N_MUSCLES - 1}], got {i!r}")
    out = arr.astype(int) + MIDI_OFFSET
    return int(out) if out.ndim == 0 else out


def midi_to_muscle(midi):
    """Inverse of :func:`muscle_to_midi` (MIDI 24..119 -> 0..95)."""
    arr = np.asarray(midi)
    if np.any((arr < MIDI_OFFSET) | (arr >= MIDI_OFFSET + N_MUSCLES)):
        raise ValueError(f"MIDI note must be in [{MIDI_OFFSET}, {MIDI_OFFSET + N_MUSCLES - 1}], got {midi!r}")
    out = arr.astype(int) - MIDI_OFFSET
    return int(out) if out.ndim == 0 else out


def midi_name(midi: int) -> str:
    """Scientific pitch name with sharps: 60 -> "C4", 61 -> "C#4", 21 -> "A0"."""
    m = int(midi)
    if not 0 <= m <= 127:
        raise ValueError(f"MIDI note must be in [0, 127], got {midi!r}")
    return f"{_NAMES[m % 12]}{m // 12 - 1}"


def pitch_class(midi):
    """Pitch class 0..11 (C = 0), elementwise."""
    return np.asarray(midi, dtype=int) % 12


def midi_to_hz(midi):
    """Equal temperament, A4 = MIDI 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def on_keyboard(midi):
    """True where the note is one of the 88 piano keys (MIDI 21..108)."""
    arr = np.asarray(midi)
    return (arr >= PIANO_LOW_MIDI) & (arr <= PIANO_HIGH_MIDI)


def muscle_pitch_table() -> list[tuple[str, int, str]]:
    """(muscle slot name, MIDI, note name) for all 96 slots, in pitch order."""
    from ..worm.activity import muscle_names

    return [(name, MIDI_OFFSET + i, midi_name(MIDI_OFFSET + i)) for i, name in enumerate(muscle_names())]
