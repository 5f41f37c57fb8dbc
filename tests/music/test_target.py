"""Target scores: formats, tempo, ties, repeats, the default mazurka, bad files."""
from __future__ import annotations

import mido
import numpy as np
import pytest

from pyannow_hpc.errors import OutputError, TargetError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.music.target import load_target, save_midi


def test_default_is_the_mazurka_with_repeats_stripped_and_tempo_honoured():
    t = load_target()
    assert t.name == "chopin/mazurka06-2"
    # 787 notes (789 written, 2 tied continuations merged), MIDI 32..81
    assert len(t) == 787
    assert (t.pitch.min(), t.pitch.max(), len(np.unique(t.pitch))) == (32, 81, 39)
    # 72 bars of 3/4 at quarter = 189: 216 * 60 / 189 = 68.571 s (seed: 68.6 s)
    assert t.end_s == pytest.approx(216 * 60 / 189)
    assert t.onset_s[-1] == pytest.approx(67.9365, abs=1e-4)
    # onsets fall on a 1/12-quarter grid of a 189 bpm beat
    grid = t.onset_s * 189 / 60 * 12
    np.testing.assert_allclose(grid, np.rint(grid), atol=1e-6)
    assert np.all(np.diff(t.onset_s) >= 0)
    # a fresh copy each call: mutating one does not change the next
    t.onset_s[:] = -1
    assert load_target().onset_s[0] == 0.0


def _write_midi(path, events, ticks=480, drums=False):
    """events: (delta_ticks, message) on one track."""
    mf = mido.MidiFile(ticks_per_beat=ticks)
    tr = mido.MidiTrack()
    for delta, msg in events:
        tr.append(msg.copy(time=delta))
    mf.tracks.append(tr)
    if drums:
        d = mido.MidiTrack()
        d.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
        d.append(mido.Message("note_off", channel=9, note=36, velocity=0, time=240))
        mf.tracks.append(d)
    mf.save(path)
    return path


def test_midi_tempo_map_is_honoured_and_drums_skipped(tmp_path):
    on = lambda n, v=90: mido.Message("note_on", note=n, velocity=v)  # noqa: E731
    off = lambda n: mido.Message("note_off", note=n, velocity=0)  # noqa: E731
    events = [
        (0, mido.MetaMessage("set_tempo", tempo=500_000)),  # 120 bpm: a beat = 0.5 s
        (0, on(60, 100)), (480, off(60)),  # 0.0 - 0.5 s
        (0, mido.MetaMessage("set_tempo", tempo=1_000_000)),  # 60 bpm from 0.5 s
        (0, on(64)), (480, off(64)),  # 0.5 - 1.5 s
        (480, on(67, 30)), (240, off(67)),  # 2.5 - 3.0 s
    ]
    t = load_target(_write_midi(tmp_path / "tempo.mid", events, drums=True))
    assert t.name == "tempo"
    np.testing.assert_allclose(t.onset_s, [0.0, 0.5, 2.5])
    np.testing.assert_allclose(t.duration_s, [0.5, 1.0, 0.5])
    assert t.pitch.tolist() == [60, 64, 67] and t.velocity.tolist() == [100, 90, 30]


def _m21_score(tmp_path, name, with_tie=True, repeat=False, bpm=60):
    import music21 as m21

    part = m21.stream.Part()
    m1 = m21.stream.Measure(number=1)
    m1.append(m21.tempo.MetronomeMark(number=bpm))
    m1.append(m21.meter.TimeSignature("4/4"))
    c1, c2 = m21.note.Note("C4", quarterLength=2), m21.note.Note("C4", quarterLength=1)
    if with_tie:
        c1.tie, c2.tie = m21.tie.Tie("start"), m21.tie.Tie("stop")
        m1.append([c1])
        m2 = m21.stream.Measure(number=2)
        m2.append([c2, m21.chord.Chord(["E4", "G4"], quarterLength=3)])
        m1.append(m21.note.Note("D4", quarterLength=2))
    else:
        m1.append([m21.note.Rest(quarterLength=4)])
        m2 = m21.stream.Measure(number=2)
        m2.append(m21.note.Rest(quarterLength=4))
    if repeat:
        m1.leftBarline = m21.bar.Repeat(direction="start")
        m2.rightBarline = m21.bar.Repeat(direction="end")
    part.append([m1, m2])
    score = m21.stream.Score([part])
    fmt = {".musicxml": "musicxml", ".mxl": "mxl", ".xml": "musicxml"}[name[name.rindex("."):]]
    return score.write(fmt, fp=tmp_path / name)


@pytest.mark.parametrize("name", ["tie.musicxml", "tie.mxl"])
def test_musicxml_ties_merged_and_tempo_in_seconds(tmp_path, name):
    t = load_target(_m21_score(tmp_path, name, bpm=60))
    # C4 half tied to a quarter in the next bar: ONE note of 3 beats = 3 s at 60 bpm
    assert t.pitch.tolist() == [60, 62, 64, 67]
    np.testing.assert_allclose(t.onset_s, [0.0, 2.0, 5.0, 5.0])
    np.testing.assert_allclose(t.duration_s, [3.0, 2.0, 3.0, 3.0])
    fast = load_target(_m21_score(tmp_path, "fast.musicxml", bpm=120))
    np.testing.assert_allclose(fast.onset_s, [0.0, 1.0, 2.5, 2.5])


def test_well_formed_repeats_are_expanded(tmp_path):
    t = load_target(_m21_score(tmp_path, "rep.musicxml", repeat=True, bpm=60))
    assert len(t) == 8  # both bars twice
    np.testing.assert_allclose(t.onset_s[:4], [0.0, 2.0, 5.0, 5.0])
    np.testing.assert_allclose(t.onset_s[4:], [8.0, 10.0, 13.0, 13.0])


def test_kern_with_tie_and_tempo(tmp_path):
    krn = tmp_path / "tiny.krn"
    krn.write_text("**kern\n*MM120\n*M2/4\n=1\n4c\n[4e\n=2\n4e]\n4g\n==\n*-\n")
    t = load_target(krn)
    assert t.pitch.tolist() == [60, 64, 67]  # kern: lower-case c is middle C (C4), C is C3
    np.testing.assert_allclose(t.onset_s, [0.0, 0.5, 1.5])
    np.testing.assert_allclose(t.duration_s, [0.5, 1.0, 0.5])


def test_save_midi_roundtrip(tmp_path):
    notes = NoteSequence.from_arrays([0.0, 0.0125, 1.5, 2.0005], [24, 119, 60, 61], [1, 127, 64, 80], [0.0, 0.2, 1.0, 0.3])
    p = save_midi(notes, tmp_path / "out.mid")
    back = load_target(p)
    assert back.pitch.tolist() == notes.pitch.tolist() and back.velocity.tolist() == notes.velocity.tolist()
    np.testing.assert_allclose(back.onset_s, notes.onset_s, atol=0.00025)  # 0.5 ms ticks
    np.testing.assert_allclose(back.duration_s, np.maximum(notes.duration_s, 0.0005), atol=0.0005)
    assert [x.name for x in tmp_path.iterdir()] == ["out.mid"]
    with pytest.raises(OutputError, match=r"\.mid"):
        save_midi(notes, tmp_path / "out.wav")
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(OutputError):
        save_midi(notes, blocker / "x.mid")


def _one_line_error(path, match):
    with pytest.raises(TargetError) as info:
        load_target(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    assert match in msg
    return msg


def test_bad_files_raise_one_line_target_errors(tmp_path, rng):
    junk = tmp_path / "junk.mid"
    junk.write_bytes(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
    _one_line_error(junk, "cannot read target")

    on = mido.Message("note_on", note=60, velocity=90)
    good = _write_midi(tmp_path / "good.mid", [(0, on), (480, on.copy(velocity=0))] * 50)
    truncated = tmp_path / "truncated.mid"
    truncated.write_bytes(good.read_bytes()[:60])
    _one_line_error(truncated, "cannot read target")

    empty_midi = _write_midi(tmp_path / "empty.mid", [(0, mido.MetaMessage("set_tempo", tempo=500_000))])
    _one_line_error(empty_midi, "contains no notes")

    _one_line_error(_m21_score(tmp_path, "rests.musicxml", with_tie=False), "contains no notes")

    bad_xml = tmp_path / "bad.musicxml"
    bad_xml.write_text("<score-partwise><part id='P1'><measure")
    _one_line_error(bad_xml, "cannot read target")

    bad_krn = tmp_path / "bad.krn"
    bad_krn.write_text("hello world\n")
    _one_line_error(bad_krn, "cannot read target")
    bad_mxl = tmp_path / "bad.mxl"
    bad_mxl.write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    _one_line_error(bad_mxl, "cannot read target")
    empty_krn = tmp_path / "empty.krn"
    empty_krn.write_text("**kern\n*-\n")
    _one_line_error(empty_krn, "contains no notes")

    _one_line_error(tmp_path / "missing.mid", "does not exist")
    (tmp_path / "folder.krn").mkdir()
    _one_line_error(tmp_path / "folder.krn", "is not a file")
    txt = tmp_path / "score.txt"
    txt.write_text("C D E")
    _one_line_error(txt, "unsupported extension '.txt'")
