"""Muscle activity -> piano notes (onset, pitch, velocity, duration).

Two detectors, both vectorised over cycles/onsets (no Python loop over samples):

``crest`` -- the seed's phase-gated crest detector (SCIENCE.md section 1), kept
    exactly for reproduction.  The trace is cut into drive cycles of
    ``L = round(1000 / (f * dt))`` samples (``dt`` = the activity's sample
    interval; at the seed's 0.5 ms that is 1333 steps at 1.5 Hz).  Only complete
    cycles count.  In cycle ``c`` the muscles ``(c * n_fires + k) mod 96``,
    ``k < n_fires = 3``, may fire; each fires once, at the time of its maximum V
    in the cycle; the note is dropped if that peak is below ``ca_thresh_mV``.
    velocity = clip(round((peak - ca_thresh) / 65 * 50), 1, 127).
    So the output rate is ``n_fires * f`` notes/s whatever the membrane does
    (4.5/s at 1.5 Hz).  ``gated=False`` lets every muscle fire once per cycle
    (the seed's ungated variant: 96 notes at ~3 distinct times per cycle).

``threshold`` -- what real spiking traces (C302) need: upward crossings of a
    threshold, a minimum inter-onset (refractory) time per muscle, velocity from
    the peak V in the ``peak_window_ms`` after the crossing (same rule as
    above).  By default it reads the spike trains the backend recorded
    (``activity.spike_times_ms`` / ``spike_muscle``); ``source="v"`` finds the
    crossings in the V traces itself with the surrogates' own spike rule
    (:func:`pyannow_hpc.worm.spikes.detect_spikes`: the first sample at or
    above the threshold, refractory in whole samples).

Note durations (both detectors): from the onset until V first falls back below
the threshold, at least one sample; capped by the end of the cycle (crest) or
by ``max_note_ms`` (threshold).  The synthesiser clips note lengths to
0.3..0.7 s anyway, so durations matter for MIDI export and piano rolls.
Pitch: muscle ``i`` -> MIDI ``24 + i`` (:mod:`pyannow_hpc.music.pitch`).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..music.notes import NoteSequence
from ..music.pitch import MIDI_OFFSET
from .activity import MuscleActivity
from .spikes import detect_spikes

METHODS = ("crest", "threshold")
#: the seed's velocity scale: (peak - threshold) / 65 mV * 50
VELOCITY_SPAN_MV = 65.0
VELOCITY_GAIN = 50.0
DEFAULT_THRESH_MV = -10.0
_OPTIONS = {
    "crest": {"freq_hz", "thresh_mV", "n_fires", "gated"},
    "threshold": {"thresh_mV", "refractory_ms", "source", "peak_window_ms", "max_note_ms"},
}


def extract_notes(activity: MuscleActivity, method: str = "crest", **kw) -> NoteSequence:
    """Detect onsets in ``activity`` and return them as a :class:`NoteSequence`.

    ``method="crest"`` keywords: ``freq_hz`` (default ``params["drive_freq_hz"]``),
    ``thresh_mV`` (default ``params["ca_thresh_mV"]``), ``n_fires=3``,
    ``gated=True``.  ``method="threshold"`` keywords: ``thresh_mV``,
    ``refractory_ms=50``, ``source="spikes"|"v"``, ``peak_window_ms=50``,
    ``max_note_ms=500``.
    """
    if method in _OPTIONS and not set(kw) <= _OPTIONS[method]:
        unknown = ", ".join(sorted(set(kw) - _OPTIONS[method]))
        raise ConfigError(f"unknown option(s) for onset method {method!r}: {unknown}; known: {', '.join(sorted(_OPTIONS[method]))}")
    if method == "crest":
        onset_ms, muscle, peak, dur_ms, thresh = _crest(activity, **kw)
    elif method == "threshold":
        onset_ms, muscle, peak, dur_ms, thresh = _threshold(activity, **kw)
    else:
        raise ConfigError(f"unknown onset method {method!r}; choose one of {', '.join(METHODS)}")
    return NoteSequence.from_arrays(
        onset_ms / 1000.0,
        muscle.astype(int) + MIDI_OFFSET,
        velocity_from_peak(peak, thresh),
        dur_ms / 1000.0,
        name=f"worm ({activity.backend}/{activity.model}, {method})",
    )


def velocity_from_peak(peak_mV, thresh_mV: float) -> np.ndarray:
    """The seed's rule: clip(round((peak - thresh) / 65 * 50), 1, 127)."""
    v = (np.asarray(peak_mV, dtype=float) - thresh_mV) / VELOCITY_SPAN_MV * VELOCITY_GAIN
    return np.clip(np.rint(v), 1, 127).astype(int)


# --------------------------------------------------------------------- helpers
def _param(activity: MuscleActivity, given, name: str, kwarg: str, method: str, default=None) -> float:
    if given is not None:
        return float(given)
    if name in activity.params:
        return float(activity.params[name])
    if default is not None:
        return float(default)
    raise ConfigError(
        f"onset method {method!r} needs {name}: the activity's parameters lack it; pass it explicitly "
        f"(extract_notes(..., method={method!r}, {kwarg}=...))"
    )


def _sample_interval_ms(t_ms: np.ndarray) -> float:
    if len(t_ms) < 2:
        raise ConfigError("onset detection needs at least two samples of muscle activity")
    dt = float(np.median(np.diff(t_ms)))
    if not dt > 0:
        raise ConfigError("muscle activity sample times must increase")
    return dt


def _time_above(v: np.ndarray, start: np.ndarray, muscle: np.ndarray, n_max: np.ndarray, thresh: float) -> np.ndarray:
    """Samples from ``start`` until ``v[:, muscle]`` first drops below ``thresh``.

    At least 1, at most ``n_max`` (per note) and never past the trace's end.
    Two exact strategies, chosen by cost: gather each note's window (cheap for
    few notes: the gated crest's 3 per cycle), or search the sorted keys
    muscle*N + i of all sub-threshold samples (memory O(samples) however many
    notes: the seed's trace has 130,000 threshold onsets).
    """
    n = len(v)
    n_max = np.minimum(np.maximum(np.asarray(n_max, dtype=np.int64), 1), n - start)
    if len(start) == 0:
        return np.zeros(0, dtype=np.int64)
    width = int(n_max.max())
    if len(start) * width <= v.size:
        below_at = _first_below_gather(v, start, muscle, width, thresh)
    else:
        below_at = _first_below_search(v, start, muscle, thresh)
    return np.maximum(np.minimum(below_at, n_max), 1)


def _first_below_gather(v, start, muscle, width: int, thresh: float, chunk: int = 1 << 21) -> np.ndarray:
    """Offset of the first sample after ``start`` below ``thresh`` (``width`` if none within it)."""
    out = np.empty(len(start), dtype=np.int64)
    j = np.arange(1, max(width, 1))[None, :]
    step = max(1, chunk // max(width, 1))
    for lo in range(0, len(start), step):  # chunks of notes bound the memory
        rows = np.minimum(start[lo : lo + step, None] + j, len(v) - 1)
        below = v[rows, muscle[lo : lo + step, None]] < thresh
        out[lo : lo + step] = np.where(below.any(axis=1), below.argmax(axis=1) + 1, width)
    return out


def _first_below_search(v, start, muscle, thresh: float) -> np.ndarray:
    """Same as :func:`_first_below_gather` with no window: ``N - start`` if V never drops."""
    n = len(v)
    mus, idx = np.nonzero(np.asarray(v).T < thresh)  # sorted by muscle, then sample
    keys = mus.astype(np.int64) * n + idx
    base = muscle.astype(np.int64) * n
    pos = np.searchsorted(keys, base + start + 1)
    nxt = keys[np.minimum(pos, len(keys) - 1)] if len(keys) else np.zeros(len(start), dtype=np.int64)
    same = (pos < len(keys)) & (nxt // n == muscle)
    return np.where(same, nxt - base - start, n - start)


def _window_max(v: np.ndarray, start: np.ndarray, muscle: np.ndarray, width: int, chunk: int = 1 << 21) -> np.ndarray:
    """max of ``v[start:start+width, muscle]`` per onset, gathered in bounded chunks."""
    out = np.empty(len(start), dtype=float)
    step = max(1, chunk // max(width, 1))
    offs = np.arange(width)[None, :]
    for lo in range(0, len(start), step):  # loop over chunks of onsets, not samples
        rows = np.minimum(start[lo : lo + step, None] + offs, len(v) - 1)
        out[lo : lo + step] = v[rows, muscle[lo : lo + step, None]].max(axis=1)
    return out


# ------------------------------------------------------------------ detectors
def _crest(activity, *, freq_hz=None, thresh_mV=None, n_fires: int = 3, gated: bool = True):
    f = _param(activity, freq_hz, "drive_freq_hz", "freq_hz", "crest")
    thresh = _param(activity, thresh_mV, "ca_thresh_mV", "thresh_mV", "crest")
    if not f > 0:
        raise ConfigError(f"crest detector needs a drive frequency > 0 Hz, got {f}")
    if n_fires < 1:
        raise ConfigError(f"n_fires must be >= 1, got {n_fires}")
    t_ms = np.asarray(activity.t_ms, dtype=float)
    dt = _sample_interval_ms(t_ms)
    v = np.asarray(activity.v_mV)
    n_mus = v.shape[1]
    cycle = max(1, int(round(1000.0 / (f * dt))))  # the seed's cycle length, in samples
    n_cycles = len(t_ms) // cycle  # complete cycles only (the seed's 4.46 notes/s)
    empty = np.zeros(0)
    if n_cycles == 0:
        return empty, empty.astype(int), empty, empty, thresh
    v_cyc = v[: n_cycles * cycle].reshape(n_cycles, cycle, n_mus)  # a view
    if gated:
        c = np.arange(n_cycles)[:, None]
        muscle = (c * n_fires + np.arange(n_fires)[None, :]) % n_mus  # (n_cycles, n_fires)
        sel = np.take_along_axis(v_cyc, muscle[:, None, :], axis=2)  # (n_cycles, cycle, n_fires)
    else:
        muscle = np.broadcast_to(np.arange(n_mus), (n_cycles, n_mus))
        sel = v_cyc
    at = np.argmax(sel, axis=1)  # (n_cycles, n_fires): first maximum, as np.argmax in the seed
    peak = np.take_along_axis(sel, at[:, None, :], axis=1)[:, 0, :]
    start = np.arange(n_cycles)[:, None] * cycle + at
    keep = peak >= thresh
    start, muscle, peak = start[keep], muscle[keep], peak[keep].astype(float)
    to_cycle_end = (start // cycle + 1) * cycle - start
    dur = _time_above(v, start, muscle, to_cycle_end, thresh) * dt
    return t_ms[start], muscle, peak, dur, thresh


def _threshold(
    activity,
    *,
    thresh_mV=None,
    refractory_ms: float = 50.0,
    source: str = "spikes",
    peak_window_ms: float = 50.0,
    max_note_ms: float = 500.0,
):
    thresh = _param(activity, thresh_mV, "ca_thresh_mV", "thresh_mV", "threshold", default=DEFAULT_THRESH_MV)
    if not refractory_ms >= 0:
        raise ConfigError(f"refractory_ms must be >= 0, got {refractory_ms}")
    t_ms = np.asarray(activity.t_ms, dtype=float)
    dt = _sample_interval_ms(t_ms)
    v = np.asarray(activity.v_mV)
    if source == "spikes":
        times = np.asarray(activity.spike_times_ms, dtype=float)
        muscle = np.asarray(activity.spike_muscle, dtype=int)
        times, muscle = _refractory(times, muscle, refractory_ms)
    elif source == "v":
        # the project's one spike rule (the surrogates' own): first sample at or
        # above thresh, refractory in whole samples
        times, muscle = detect_spikes(v, dt, thresh, refractory_ms)
        times = times + t_ms[0]
    else:
        raise ConfigError(f"unknown onset source {source!r}; choose 'spikes' or 'v'")
    # the sample at (or right after) each onset; velocity from the peak after it
    start = np.minimum(np.searchsorted(t_ms, times - 1e-9 * dt), len(t_ms) - 1)
    n_peak = max(1, int(round(peak_window_ms / dt)))
    peak = _window_max(v, start, muscle, n_peak)
    n_max = np.full(len(start), max(1, int(round(max_note_ms / dt))))
    dur = _time_above(v, start, muscle, n_max, thresh) * dt
    return times, muscle, peak, dur, thresh


def _refractory(times: np.ndarray, muscle: np.ndarray, refractory_ms: float):
    """Keep, per muscle, onsets at least ``refractory_ms`` after the last kept
    one; return them in time order.

    Greedy from the first onset.  The loop runs over kept onsets of muscles
    that violate the refractory time (each step jumps with searchsorted), never
    over samples; trains that already respect it pass through untouched.
    """
    order = np.lexsort((times, muscle))
    t, m = times[order], muscle[order]
    same = m[1:] == m[:-1]
    keep = np.ones(len(t), dtype=bool)
    if refractory_ms > 0 and np.any(same & (np.diff(t) < refractory_ms)):
        keep[:] = False
        bounds = np.flatnonzero(np.r_[True, ~same, True])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            tt = t[lo:hi]
            nxt = np.searchsorted(tt, tt + refractory_ms, side="left")
            k = 0
            while k < len(tt):
                keep[lo + k] = True
                k = nxt[k]
    t, m = t[keep], m[keep]
    by_time = np.lexsort((m, t))
    return t[by_time], m[by_time]


__all__ = ["METHODS", "extract_notes", "velocity_from_peak"]
