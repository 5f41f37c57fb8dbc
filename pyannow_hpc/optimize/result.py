"""The honest result: before/after on the training window AND on unseen time.

Rows (``before`` = the defaults / [fixed] start, ``after`` = the best point
found): the training windows (in-sample, labelled so), later windows of the
piece never trained on, other noise seeds, and a second target when given.
Every F1 stands beside its nulls: the circular-shift null of the worm's own
onsets (z, p), uniform chance at the worm's note count, and the metronome
ceiling at that count.

The ablation decomposes the gain at the optimum: the optimum with the channel
parameters reset to their defaults (what tempo + phase alone give), with the
drive parameters and offset reset (what the channels alone give), and both as
found.  It re-evaluates, it does not re-optimise: the table says so.
"""
from __future__ import annotations

import csv
import io

import numpy as np

from .config import OFFSET_NAME
from .objective import Problem, Window, unseen_windows

DRIVE_NAMES = ("drive_freq_hz", "drive_amp_uA", "drive_g_syn", OFFSET_NAME)
COLUMNS = ("set", "window", "point", "loss", "f1", "f1_any", "shift_z", "shift_p", "uniform_mean", "metronome_f1", "n_notes")


def _row(kind: str, window: str, point: str, m: dict) -> dict:
    return {"set": kind, "window": window, "point": point, **{k: m.get(k, np.nan) for k in COLUMNS[3:]}}


def _reset(pb: Problem, u: np.ndarray, names) -> np.ndarray:
    out = np.array(u, float)
    idx = pb.space.group_indices(names)
    if len(idx):
        out[idx] = pb.space.start_unit()[idx]
    return out


def result_table(pb: Problem, u_best: np.ndarray, heldout=None) -> list[dict]:
    u0 = pb.space.start_unit()
    points = {"before": u0, "after": np.asarray(u_best, float)}
    rows = []
    for name, u in points.items():
        rows.append(_row("train (in-sample)", _windows_label(pb.windows), name, pb.evaluate_training(pb.space.values(u))))
    unseen = unseen_windows(pb.cfg, pb.target.end_s)
    for w in unseen:
        label = f"{w.start_s:g}-{w.start_s + pb.cfg.simulation.duration_s:g} s seed {w.seed}"
        kind = "later window (unseen)" if w.kind == "later" else "other seed (unseen)"
        for name, u in points.items():
            rows.append(_row(kind, label, name, pb.evaluate(pb.space.values(u), w)))
    if heldout is not None:
        w = Window(pb.cfg.simulation.start_s, pb.cfg.simulation.seed, "heldout")
        for name, u in points.items():
            rows.append(_row(f"held-out target {heldout.name}", f"{w.start_s:g} s", name,
                             pb.evaluate(pb.space.values(u), w, target=heldout)))
    channels = [n for n in pb.space.names if n not in DRIVE_NAMES]
    drive = [n for n in pb.space.names if n in DRIVE_NAMES]
    for label, u in (("ablation: tempo+phase only (channels at defaults)", _reset(pb, u_best, channels)),
                     ("ablation: channels only (drive+offset at defaults)", _reset(pb, u_best, drive))):
        rows.append(_row(label + ", re-evaluated not re-optimised", "train", "after", pb.evaluate_training(pb.space.values(u))))
    return rows


def _windows_label(windows) -> str:
    return ", ".join(f"{w.start_s:g} s/seed {w.seed}" for w in windows[:3]) + (" ..." if len(windows) > 3 else "")


def verdict(rows: list[dict]) -> str:
    """One sentence: does the optimum beat the shift null on unseen time?"""
    unseen = [r for r in rows if "unseen" in r["set"] and r["point"] == "after"]
    if not unseen:
        return ("No unseen window was scored (evaluate.later_windows and other_seeds are 0, or no later window fits "
                "in the target): this table is in-sample only.")
    zs = [r["shift_z"] for r in unseen]
    beats = [z for z in zs if z > 2.0]
    if not beats:
        return (f"Nothing beats the shift null on unseen time: after optimisation the worm's own rhythm, shifted, "
                f"scores as well (z {min(zs):.2f} .. {max(zs):.2f} on {len(zs)} unseen windows/seeds; z > 2 needed).")
    return f"{len(beats)} of {len(zs)} unseen windows/seeds beat the shift null at z > 2 (z {min(zs):.2f} .. {max(zs):.2f})."


def _cell(column: str, v) -> str:
    if not isinstance(v, float):
        return str(v)
    if column == "n_notes":  # a count (a mean over windows may be fractional)
        return f"{v:.0f}" if v.is_integer() else f"{v:.1f}"
    return f"{v:.3f}"


def markdown(rows: list[dict]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    body = ""
    for r in rows:
        body += "| " + " | ".join(_cell(c, r[c]) for c in COLUMNS) + " |\n"
    return head + body


def csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
