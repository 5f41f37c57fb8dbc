"""Piano synthesis: 1000 notes through pyannow_hpc.music.synth.render vs the
seed's approach written plainly (each note rendered on its own, a Python loop
over the 40 modes, no caching, no Nyquist cut), measured in the same run.

Issue target: 1000 notes in < 1 s and >= 9x the seed's 8.7 ms/note.
The notes are a seeded draw shaped like the nocturne: 1000 notes over 227 s
(4.4 notes/s), MIDI 32-99, durations 0.1-1.5 s, velocities 40-100.
"""
from __future__ import annotations

import numpy as np
from _harness import Result, best_time

from pyannow_hpc.music import synth
from pyannow_hpc.music.notes import NoteSequence

SEED_MS_PER_NOTE = 8.7  # SCIENCE.md, the original's synthesiser on this kind of machine


def nocturne_like(n: int, seed: int = 0) -> NoteSequence:
    rng = np.random.default_rng(seed)
    span_s = n / 4.4
    return NoteSequence.from_arrays(
        np.sort(rng.uniform(0.0, span_s, n)),
        rng.integers(32, 100, n),
        rng.integers(40, 101, n),
        rng.uniform(0.1, 1.5, n),
        name="nocturne-like draw",
    )


def seed_style_render(notes: NoteSequence, fs: int = synth.FS_HZ) -> np.ndarray:
    """The baseline: one note at a time, one mode at a time (SCIENCE.md section 2)."""
    ends = np.rint((notes.onset_s + synth.note_length_s(notes.duration_s)) * fs).astype(int)
    out = np.zeros(int(ends.max()) if len(notes) else 0)
    for t0, p, v, d in zip(notes.onset_s, notes.pitch, notes.velocity, notes.duration_s):
        length = float(np.clip(d + 0.4, 0.3, 0.7))
        t = np.arange(int(round(length * fs))) / fs
        f0 = 440.0 * 2.0 ** ((p - 69) / 12.0)
        y = np.zeros_like(t)
        for n in range(1, 41):
            fn = n * f0 * np.sqrt(1.0 + 4e-4 * n * n)
            gamma = 1.5 + 5e-5 * (2 * np.pi * fn) ** 2
            amp = np.sin(n * np.pi * 0.12) / n * np.sin(n * np.pi * 0.5)
            y += amp * np.exp(-gamma * t) * np.sin(2 * np.pi * fn * t)
        y *= 0.8 * v / 127.0 / np.max(np.abs(y))
        i0 = int(round(t0 * fs))
        out[i0 : i0 + len(y)] += y
    return (out * (0.9 / np.max(np.abs(out)))).astype(np.float32)


def run(quick: bool = False) -> list[Result]:
    n = 200 if quick else 1000
    notes = nocturne_like(n)

    def ours_cold():
        synth.clear_cache()  # every pitch rendered afresh: the honest first-call time
        return synth.render(notes)

    t_ours = best_time(ours_cold, repeat=3)
    t_warm = best_time(lambda: synth.render(notes), repeat=3)
    t_base = best_time(lambda: seed_style_render(notes), repeat=1 if not quick else 2)
    per_note_ours, per_note_base = 1e3 * t_ours / n, 1e3 * t_base / n
    ratio_seed = SEED_MS_PER_NOTE / per_note_ours
    return [
        Result(f"synth {n} notes, cold cache", t_ours, "s", t_base, "seed-style per-note 40-mode loop",
               target=f"< {n / 1000:g} s", met=t_ours < n / 1000),
        Result(f"synth {n} notes, warm cache (pitches rendered)", t_warm, "s", t_base, "seed-style per-note 40-mode loop"),
        Result("synth per note, cold cache", per_note_ours, "ms/note", SEED_MS_PER_NOTE, "seed's measured 8.7 ms/note",
               target=">= 9x the seed", met=ratio_seed >= 9.0),
        Result("seed-style baseline per note (this run)", per_note_base, "ms/note"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
