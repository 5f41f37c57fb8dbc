"""The pitch map muscle i -> MIDI 24 + i and note names."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.music import pitch as P


def test_muscle_to_midi_covers_24_to_119_in_quadrant_order():
    assert P.muscle_to_midi(0) == 24 and P.muscle_to_midi(95) == 119
    midi = P.muscle_to_midi(np.arange(96))
    assert midi.tolist() == list(range(24, 120))
    assert P.midi_to_muscle(midi).tolist() == list(range(96))
    assert len(set(P.pitch_class(midi).tolist())) == 12
    table = P.muscle_pitch_table()
    assert table[0] == ("DL01", 24, "C1")
    assert table[24] == ("VL01", 48, "C3")
    assert table[48] == ("DR01", 72, "C5")
    assert table[95] == ("VR24", 119, "B8")
    with pytest.raises(ValueError):
        P.muscle_to_midi(96)
    with pytest.raises(ValueError):
        P.midi_to_muscle(23)


def test_note_names_and_frequencies():
    assert [P.midi_name(m) for m in (21, 60, 61, 69, 108, 119)] == ["A0", "C4", "C#4", "A4", "C8", "B8"]
    assert P.midi_to_hz(69) == 440.0 and P.midi_to_hz(81) == pytest.approx(880.0)
    with pytest.raises(ValueError):
        P.midi_name(128)


def test_eleven_muscles_play_above_the_88_keys():
    midi = P.muscle_to_midi(np.arange(96))
    above = midi[~P.on_keyboard(midi)]
    assert above.tolist() == list(range(109, 120))
    assert [n for n, m, _ in P.muscle_pitch_table() if m > 108] == [f"VR{s:02d}" for s in range(14, 25)]
