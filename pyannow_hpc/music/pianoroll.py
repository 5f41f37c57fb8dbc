"""A piano roll of the worm's notes over the target's (PNG/PDF/SVG).

Target notes are grey bars; worm notes are bars coloured by whether
mir_eval's one-to-one matching (+-50 ms) pairs their onset with a target
onset (green) or not (red), so the plot shows what "F1 (mir_eval one-to-one,
+-50 ms)" counts.  The band above MIDI 108 (the 88 keys end at C8) is shaded:
muscles 85-95 play there.  Matplotlib's object API (no pyplot): no global
state, safe in worker processes and threads.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import OutputError
from .notes import NoteSequence
from .pitch import PIANO_HIGH_MIDI, midi_name

TOL_S = 0.05


def matched_onsets(worm: NoteSequence, target: NoteSequence, tol_s: float = TOL_S) -> np.ndarray:
    """Boolean mask over worm notes: paired one-to-one with a target onset (mir_eval)."""
    hit = np.zeros(len(worm), dtype=bool)
    if len(worm) and len(target):
        from mir_eval.util import match_events

        pairs = match_events(np.asarray(target.onset_s, float), np.asarray(worm.onset_s, float), tol_s)
        hit[[j for _, j in pairs]] = True
    return hit


def plot_pianoroll(
    worm: NoteSequence,
    target: NoteSequence,
    path: str | os.PathLike,
    title: str = "",
    duration_s: float | None = None,
    tol_s: float = TOL_S,
    dpi: int = 120,
) -> Path:
    """Draw worm vs target notes into ``path`` (format from its extension) and return it.

    ``duration_s`` sets the time axis (default: the later of the two ends).
    Worm notes are drawn at least 1/400 of the axis wide so that the seed's
    one-sample crests stay visible.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from ..store.atomic import atomic_path

    final = Path(path)
    span = float(duration_s) if duration_s else max(worm.end_s, target.end_s, 1e-3)
    fig = Figure(figsize=(12, 5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if len(target):
        ax.barh(target.pitch, target.duration_s, left=target.onset_s, height=0.9, color="0.6", alpha=0.6, lw=0)
    hit = matched_onsets(worm, target, tol_s)
    if len(worm):
        width = np.maximum(worm.duration_s, span / 400.0)
        colors = np.where(hit, "#2a9d48", "#c44e52")
        ax.barh(worm.pitch, width, left=worm.onset_s, height=0.6, color=colors, lw=0, alpha=0.9)
    pitches = np.concatenate([np.asarray(target.pitch), np.asarray(worm.pitch), [60]])
    lo, hi = int(pitches.min()) - 2, int(pitches.max()) + 2
    if hi > PIANO_HIGH_MIDI:
        ax.axhspan(PIANO_HIGH_MIDI + 0.5, hi, color="#f3e6c4", zorder=0)
    ticks = [m for m in range(lo, hi + 1) if m % 12 == 0]  # every C
    ax.set_yticks(ticks, [midi_name(m) for m in ticks])
    ax.set_ylim(lo, hi)
    ax.set_xlim(0.0, span)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pitch (MIDI, C ticks)")
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.set_title(title or f"worm vs {target.name or 'target'}")
    handles = [
        Patch(color="0.6", alpha=0.6, label=f"target ({len(target)} notes)"),
        Patch(color="#2a9d48", label=f"worm, onset matched one-to-one ±{tol_s * 1000:g} ms ({int(hit.sum())})"),
        Patch(color="#c44e52", label=f"worm, unmatched ({int((~hit).sum())})"),
    ]
    if hi > PIANO_HIGH_MIDI:
        handles.append(Patch(color="#f3e6c4", label="above the 88 keys (MIDI > 108)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    with atomic_path(final) as tmp:
        try:
            fig.savefig(tmp)
        except ValueError as exc:  # unknown image format
            raise OutputError(f"cannot write plot {final}: {exc}") from None
    return final


__all__ = ["plot_pianoroll", "matched_onsets"]
