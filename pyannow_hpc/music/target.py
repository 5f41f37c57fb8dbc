"""Target scores: MIDI, MusicXML and kern files -> NoteSequence (seconds).

- ``.mid``/``.midi``: pretty_midi (tempo map honoured, drum tracks skipped).
- ``.xml``/``.musicxml``/``.mxl``/``.krn``: music21.  Ties are merged into one
  note (``stripTies``); times come from music21's ``secondsMap``, which honours
  the score's metronome marks (quarter = 120 where a score has none).
- ``None``: the embedded default, music21's corpus piece ``chopin/mazurka06-2``
  (Mazurka in C# minor, Op. 6 No. 2; quarter = 189).  Its repeat barlines are
  malformed for music21 (a final start-repeat with no end: ``expandRepeats``
  raises ExpanderException), so they are stripped: each section plays once,
  787 notes over 68.57 s (last onset 67.94 s), MIDI 32-81, 39 distinct pitches.
  SCIENCE.md's "789 notes" counts the two tied continuations as notes.
  Any score whose repeats DO expand is played with them expanded.

Each target carries its beat period (``NoteSequence.beat_s``): the first
metronome mark's seconds per quarter times the first time signature's beat
(a dotted unit in compound metres), on a grid through the score's start.

Every failure is a one-line :class:`~pyannow_hpc.errors.TargetError` naming
the file: missing, unknown extension, malformed, truncated, or without notes.
"""
from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import OutputError, TargetError
from .notes import NoteSequence

DEFAULT_CORPUS = "chopin/mazurka06-2"
MIDI_EXTENSIONS = (".mid", ".midi")
MUSIC21_EXTENSIONS = (".xml", ".musicxml", ".mxl", ".krn")
DEFAULT_VELOCITY = 80
#: save_midi: 1000 ticks per quarter at 120 bpm = 0.5 ms per tick
MIDI_RESOLUTION = 1000
MIDI_TEMPO_BPM = 120.0

log = logging.getLogger(__name__)


def load_target(path: str | os.PathLike | None = None) -> NoteSequence:
    """Read a target score; ``None`` gives the embedded Chopin mazurka."""
    if path is None:
        return _default_target()
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in MIDI_EXTENSIONS + MUSIC21_EXTENSIONS:
        known = ", ".join(MIDI_EXTENSIONS + MUSIC21_EXTENSIONS)
        raise TargetError(f"target {p}: unsupported extension {p.suffix!r} (use one of {known})")
    if not p.is_file():
        raise TargetError(f"target {p} does not exist" if not p.exists() else f"target {p} is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi/music21 warn about harmless meta events
            notes = _read_midi(p) if ext in MIDI_EXTENSIONS else _read_music21(p)
    except TargetError:
        raise
    except Exception as exc:  # the parsers raise anything from OSError to IndexError on bad bytes
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise TargetError(f"cannot read target {p}: {msg[:200]}") from None
    if len(notes) == 0:
        raise TargetError(f"target {p} contains no notes")
    return notes


def _sequence(onset_s, pitch, velocity, duration_s, name: str, beat_s: float | None = None) -> NoteSequence:
    onset = np.asarray(onset_s, dtype=float)
    order = np.lexsort((np.asarray(pitch), onset))  # by time, then pitch: deterministic
    return NoteSequence(
        onset[order],
        np.asarray(pitch, dtype=int)[order],
        np.clip(np.asarray(velocity, dtype=int), 1, 127)[order],
        np.maximum(np.asarray(duration_s, dtype=float), 0.0)[order],
        name,
        beat_s,
    )


def _read_midi(path: Path) -> NoteSequence:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    return _sequence(
        [n.start for n in notes], [n.pitch for n in notes], [n.velocity for n in notes],
        [n.end - n.start for n in notes], path.stem, _midi_beat_s(pm),
    )


def _beat_quarters(numerator: int, denominator: int) -> float:
    """The beat of a time signature in quarter notes: the denominator's note,
    or a dotted one in compound metres (6/8, 9/8, 12/8: beat = 3 eighths)."""
    unit = 4.0 / denominator
    return 3.0 * unit if numerator % 3 == 0 and numerator > 3 and denominator >= 8 else unit


def _midi_beat_s(pm) -> float | None:
    """The beat period at the file's first tempo and time signature (a MIDI file
    without a tempo event plays at 120 bpm; without a time signature, beat = quarter)."""
    _, tempi = pm.get_tempo_changes()
    quarter_s = 60.0 / float(tempi[0]) if len(tempi) else 0.5
    ts = pm.time_signature_changes
    beat_q = _beat_quarters(ts[0].numerator, ts[0].denominator) if ts else 1.0
    return quarter_s * beat_q if quarter_s > 0 else None


def _music21_beat_s(score) -> float | None:
    """The beat period at the score's first metronome mark (quarter = 120 where
    none, as secondsMap) and first time signature (beat = quarter where none)."""
    import music21

    try:
        marks = score.metronomeMarkBoundaries()
        quarter_s = float(marks[0][2].secondsPerQuarter()) if marks else 0.5
    except Exception:  # music21 raises assorted errors on odd marks; the beat is optional
        quarter_s = 0.5
    ts = next(iter(score.recurse().getElementsByClass(music21.meter.TimeSignature)), None)
    beat_q = _beat_quarters(ts.numerator, ts.denominator) if ts is not None else 1.0
    return quarter_s * beat_q if quarter_s > 0 else None


def _read_music21(path: Path) -> NoteSequence:
    import music21

    score = music21.converter.parse(str(path))
    notes, how = _score_to_notes(score)
    log.info("target %s: repeats %s, %d notes", path, how, len(notes[0]))
    return _sequence(*notes, path.stem, _music21_beat_s(score))


def _score_to_notes(score):
    """((onset_s, pitch, velocity, duration_s) lists, "expanded"|"stripped"|"none")."""
    import music21

    has_repeats = any(
        isinstance(b, music21.bar.Repeat) for b in score.recurse().getElementsByClass(music21.bar.Barline)
    ) or bool(score.recurse().getElementsByClass(music21.repeat.RepeatExpression))
    how = "none"
    if has_repeats:
        try:
            score = score.expandRepeats()
            how = "expanded"
        except music21.repeat.ExpanderException:
            # Malformed repeats: play each section once.  Repeat barlines do not
            # move offsets in music21, so "stripping" is simply not expanding.
            how = "stripped"
    flat = score.stripTies().flatten()
    onset, pitch, vel, dur = [], [], [], []
    for entry in flat.secondsMap:  # honours metronome marks
        el = entry["element"]
        if not isinstance(el, (music21.note.Note, music21.chord.Chord)):
            continue  # rests, unpitched percussion, clefs ...
        v = el.volume.velocity
        for p in el.pitches:
            onset.append(entry["offsetSeconds"])
            pitch.append(p.midi)
            vel.append(DEFAULT_VELOCITY if v is None else v)
            dur.append(entry["durationSeconds"])
    return (onset, pitch, vel, dur), how


@functools.lru_cache(maxsize=1)
def _default_notes() -> tuple:
    import music21

    score = music21.corpus.parse(DEFAULT_CORPUS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        notes, how = _score_to_notes(score)
        beat_s = _music21_beat_s(score)
    log.info("default target %s: repeats %s, %d notes", DEFAULT_CORPUS, how, len(notes[0]))
    return (*notes, beat_s)


def _default_target() -> NoteSequence:
    """The parsed default is cached per process (music21 takes ~0.5 s); each
    call returns fresh arrays so callers cannot corrupt the cache."""
    *notes, beat_s = _default_notes()
    return _sequence(*notes, DEFAULT_CORPUS, beat_s)


def save_midi(notes: NoteSequence, path: str | os.PathLike) -> Path:
    """Write ``notes`` as a one-track piano MIDI file (0.5 ms tick), atomically."""
    import pretty_midi

    from ..store.atomic import atomic_path

    final = Path(path)
    if final.suffix.lower() not in MIDI_EXTENSIONS:
        raise OutputError(f"cannot write MIDI {final}: extension must be .mid or .midi")
    pitch = np.asarray(notes.pitch, dtype=int)
    if len(pitch) and (pitch.min() < 0 or pitch.max() > 127):
        raise OutputError(f"cannot write MIDI {final}: pitches must be MIDI 0..127, got {pitch.min()}..{pitch.max()}")
    pm = pretty_midi.PrettyMIDI(resolution=MIDI_RESOLUTION, initial_tempo=MIDI_TEMPO_BPM)
    piano = pretty_midi.Instrument(program=0, name=notes.name or "pyannow_hpc")
    tick_s = 60.0 / MIDI_TEMPO_BPM / MIDI_RESOLUTION
    for t, p, v, d in zip(notes.onset_s.tolist(), pitch.tolist(), notes.velocity.tolist(), notes.duration_s.tolist()):
        piano.notes.append(pretty_midi.Note(velocity=int(np.clip(v, 1, 127)), pitch=p, start=t, end=t + max(d, tick_s)))
    pm.instruments.append(piano)
    with atomic_path(final) as tmp:
        pm.write(str(tmp))
    return final


__all__ = ["DEFAULT_CORPUS", "load_target", "save_midi"]
