"""Modal piano synthesis: the seed's ``render_string``, vectorised and cached.

One note of MIDI pitch p (SCIENCE.md section 2), modes n = 1..40:

    f0  = 440 * 2^((p - 69) / 12)
    f_n = n f0 sqrt(1 + B n^2)                 B = 4e-4 (string stiffness)
    g_n = s0 + s1 (2 pi f_n)^2                 s0 = 1.5 /s, s1 = 5e-5 s
    A_n = sin(n pi 0.12) / n * sin(n pi 0.5)   strike at 0.12, pickup at 0.5
    y(t) = sum_n A_n exp(-g_n t) sin(2 pi f_n t), peak-normalised to 0.8 vel/127

Notes last clip(duration + 0.4, 0.3, 0.7) s at 22050 Hz; the mix is
peak-normalised.  Modes at or above Nyquist are dropped (they would alias), and
so are the even modes, whose amplitude sin(n pi / 2) is zero.

Speed (why this is not the seed's per-note loop): all modes of one pitch are
rendered at once (see :func:`render_string`), and each pitch is rendered
ONCE per sample rate, at the longest note length.  A shorter note of that pitch
is a prefix of the same waveform, and its peak-normalisation factor is read
from the waveform's running |max| -- so every (pitch, length, velocity) note is
exactly the seed's note, without rendering it again.
"""
from __future__ import annotations

import functools

import numpy as np

from .notes import NoteSequence
from .pitch import midi_to_hz

FS_HZ = 22050
N_MODES = 40
INHARMONICITY_B = 4e-4
SIGMA0_PER_S = 1.5
SIGMA1_S = 5e-5
STRIKE_POS = 0.12
PICKUP_POS = 0.5
NOTE_TAIL_S = 0.4
NOTE_MIN_S = 0.3
NOTE_MAX_S = 0.7
NOTE_PEAK = 0.8
MIX_PEAK = 0.9
_BLOCK = 128  # samples per block of render_string's factorised exponentials


def modes(pitch: int, fs: int = FS_HZ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f_n Hz, gamma_n 1/s, A_n) of the audible modes of ``pitch``: f_n < fs/2 and A_n != 0."""
    n = np.arange(1, N_MODES + 1, dtype=float)
    f = n * float(midi_to_hz(pitch)) * np.sqrt(1.0 + INHARMONICITY_B * n**2)
    gamma = SIGMA0_PER_S + SIGMA1_S * (2.0 * np.pi * f) ** 2
    amp = np.sin(n * np.pi * STRIKE_POS) / n * np.sin(n * np.pi * PICKUP_POS)
    keep = (f < fs / 2.0) & (np.abs(amp) > 1e-12)
    return f[keep], gamma[keep], amp[keep]


def render_string(pitch: int, n_samples: int, fs: int = FS_HZ) -> np.ndarray:
    """The raw (not normalised) modal waveform of one string, float64.

    Each mode is exp(-g t) sin(2 pi f t) = Im(z^k) at sample k, with
    z = exp((-g + 2 pi i f) / fs).  Writing k = a*BLOCK + b, z^k = z^(a BLOCK) z^b,
    so the (modes x samples) sum is the imaginary part of the product of a
    (blocks x modes) and a (modes x BLOCK) table of exponentials:
    Im(hi @ lo) = Re(hi) Im(lo) + Im(hi) Re(lo).  That needs ~100x fewer
    exp/sin calls than broadcasting them over modes x samples and gives the
    same numbers to ~1e-12 (tests compare against the plain formula).
    np.einsum (plain C loops) rather than BLAS: for these small products a
    multithreaded BLAS on a busy node is 20-40x slower, not faster.
    """
    f, gamma, amp = modes(pitch, fs)
    s = (-gamma + 2j * np.pi * f) / fs  # log z per mode
    n_blocks = -(-int(n_samples) // _BLOCK)
    lo = np.exp(s[:, None] * np.arange(_BLOCK)[None, :])  # (modes, BLOCK)
    hi = np.exp(np.arange(n_blocks)[:, None] * _BLOCK * s[None, :]) * amp  # (blocks, modes)
    y = np.einsum("bm,mk->bk", np.hstack([hi.real, hi.imag]), np.vstack([lo.imag, lo.real]))
    return y.ravel()[: int(n_samples)]


def note_length_s(duration_s) -> np.ndarray:
    """The seed's rendered note length: clip(duration + 0.4, 0.3, 0.7) s."""
    return np.clip(np.asarray(duration_s, dtype=float) + NOTE_TAIL_S, NOTE_MIN_S, NOTE_MAX_S)


@functools.lru_cache(maxsize=512)
def _pitch_wave(pitch: int, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """(waveform at the longest note length, running max |waveform|), read-only."""
    y = render_string(pitch, int(round(NOTE_MAX_S * fs)), fs)
    run_max = np.maximum.accumulate(np.abs(y))
    y.flags.writeable = False
    run_max.flags.writeable = False
    return y, run_max


def clear_cache() -> None:
    """Forget the rendered pitches (benchmarks time cold renders)."""
    _pitch_wave.cache_clear()


def render_note(pitch: int, duration_s: float, velocity: int = 100, fs: int = FS_HZ) -> np.ndarray:
    """One note as the seed renders it: length clip(dur + 0.4, 0.3, 0.7) s,
    peak 0.8 * velocity / 127.  float64."""
    y, run_max = _pitch_wave(int(pitch), int(fs))
    n = int(round(float(note_length_s(duration_s)) * fs))
    peak = run_max[n - 1]
    return y[:n] * ((NOTE_PEAK * velocity / 127.0) / peak if peak > 0 else 0.0)


def render(notes: NoteSequence, fs: int = FS_HZ, duration_s: float | None = None, peak: float = MIX_PEAK) -> np.ndarray:
    """Render ``notes`` to a mono float32 signal, peak-normalised to ``peak``.

    The signal lasts until the last note ends, or ``duration_s`` if that is
    longer (so a worm and a target rendering can be the same length).
    """
    fs = int(fs)
    onset_s = np.asarray(notes.onset_s, dtype=float)
    keep = np.isfinite(onset_s) & (onset_s >= 0) & np.isfinite(np.asarray(notes.duration_s, dtype=float))
    onset = np.rint(onset_s[keep] * fs).astype(np.int64)
    length = np.rint(note_length_s(np.asarray(notes.duration_s)[keep]) * fs).astype(np.int64)
    pitch = np.asarray(notes.pitch, dtype=int)[keep]
    vel = np.asarray(notes.velocity, dtype=float)[keep]
    total = int(max(np.max(onset + length, initial=0), round((duration_s or 0.0) * fs)))
    out = np.zeros(total, dtype=np.float64)
    # one Python iteration per NOTE (a slice add); the samples and modes of a
    # pitch were rendered once, vectorised, in _pitch_wave
    for p, i0, n, v in zip(pitch.tolist(), onset.tolist(), length.tolist(), vel.tolist()):
        y, run_max = _pitch_wave(p, fs)
        top = run_max[n - 1]
        if top > 0:
            out[i0 : i0 + n] += y[:n] * (NOTE_PEAK * v / 127.0 / top)
    m = np.max(np.abs(out), initial=0.0)
    if m > 0:
        out *= peak / m
    return out.astype(np.float32)


__all__ = ["FS_HZ", "modes", "render_string", "render_note", "render", "note_length_s", "clear_cache"]
