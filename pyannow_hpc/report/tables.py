"""The report's tables: which tasks are best, their scores and parameters.

Rows are plain dicts whose keys are the labelled column names of
:func:`pyannow_hpc.music.metrics.metric_label` ("F1 (mir_eval one-to-one,
±50 ms)", "F1 (seed any-match, ±50 ms)", ...): the two F1 scores disagree by an
order of magnitude on the same notes (SCIENCE.md section 2), so every header
says which one it is. Markdown and CSV come from music.metrics'
``format_table_markdown`` / ``format_table_csv`` (one table format in the
project, shared with the demo); only the HTML rendering lives here.
"""
from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np

from ..music.alignment import MIN_NOTES, null_columns
from ..music.metrics import KEYS, TOL_S, metric_label
from ..store.tasks import TaskStatus

#: ranking keys: metric -> True when larger is better.  "shift_excess" (the
#: default), "f1" and "shift_z" are music.alignment.rank_score's (below a
#: minimum note count last); onset_loss ranks a silent worm first.
RANK_KEYS: dict[str, bool] = {"shift_excess": True, "f1": True, "shift_z": True, "onset_loss": False,
                              "f1_mireval": True, "f1_seed": True, "pitch_f1": True}
#: the metric each min-notes ranking reads
_GATED = {"shift_excess": "shift_excess", "f1": "f1_mireval", "shift_z": "shift_z"}


def rank_label(rank_by: str, min_notes: int = MIN_NOTES, tol_s: float = TOL_S) -> str:
    if rank_by in _GATED:
        return f"{metric_label(_GATED[rank_by], tol_s)}, worms with fewer than {min_notes} notes last"
    return metric_label(rank_by, tol_s)


def rank_values(metrics: dict[str, np.ndarray], rank_by: str, n_notes=None, min_notes: int = MIN_NOTES) -> np.ndarray:
    """The number each task is ranked by (NaN: not rankable; -inf: too few notes)."""
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_KEYS)}")
    key = _GATED.get(rank_by, rank_by)
    n = len(next(iter(metrics.values()))) if metrics else 0
    score = np.asarray(metrics.get(key, np.full(n, np.nan)), dtype=float).copy()
    if rank_by in _GATED and n_notes is not None:
        score[(np.asarray(n_notes) < min_notes) & np.isfinite(score)] = -np.inf
    return score


def rank_tasks(metrics: dict[str, np.ndarray], status: np.ndarray, rank_by: str, top_k: int,
               n_notes=None, min_notes: int = MIN_NOTES) -> np.ndarray:
    """Row indices of the best ``top_k`` done tasks by ``rank_by``; ties broken by row.

    Tasks that failed, are pending, or have a NaN score are never ranked; with
    "f1"/"shift_z", tasks with fewer than ``min_notes`` notes rank after all others.
    """
    score = rank_values(metrics, rank_by, n_notes, min_notes)
    ok = np.flatnonzero((np.asarray(status) == TaskStatus.DONE) & ~np.isnan(score))
    key = -score[ok] if RANK_KEYS[rank_by] else score[ok]
    order = np.lexsort((ok, key))  # last key is the primary one
    return ok[order][: max(int(top_k), 0)]


def best_rows(
    ranked_rows: Sequence[int],
    task_ids: np.ndarray,
    metrics: dict[str, np.ndarray],
    params: np.ndarray,
    param_names: Sequence[str],
    seeds: np.ndarray,
    tol_s: float = TOL_S,
    scores: Sequence | None = None,
    n_notes=None,
    rank_values: tuple[str, np.ndarray] | None = None,
) -> list[dict]:
    """One dict per ranked ledger row: rank, global task id, seed, worm notes,
    every labelled metric (evaluate() order) with the row's nulls
    (``scores[i]``, music.alignment.AlignmentScore) right after the one-to-one
    F1, then the parameters."""
    from ..pipeline import NULL_KEYS

    keys = [k for k in KEYS if k in metrics] + sorted(k for k in metrics if k not in KEYS and k not in NULL_KEYS)
    rows = []
    for i, r in enumerate(ranked_rows):
        row: dict[str, object] = {"rank": i + 1, "task": int(task_ids[r]), "seed": int(seeds[r])}
        if rank_values is not None:  # (label, values): what the rows are ranked by (-inf: too few notes)
            row[f"rank score = {rank_values[0]}"] = float(rank_values[1][r])
        if n_notes is not None:
            row["worm notes"] = int(n_notes[r])
        for k in keys:
            row[metric_label(k, tol_s)] = float(metrics[k][r])
            if k == "f1_mireval" and scores is not None:
                row.update(null_columns(scores[i]))
        row.update({name: float(params[r, j]) for j, name in enumerate(param_names)})
        rows.append(row)
    return rows


def summary_rows(status: np.ndarray, metrics: dict[str, np.ndarray], tol_s: float = TOL_S,
                 z_values: np.ndarray | None = None, z_note: str = "") -> list[dict]:
    """Sweep-level counts, the best and mean of each score over done tasks, and
    the distribution of ``z_values`` (default: every done task's shift z)."""
    status = np.asarray(status)
    done = status == TaskStatus.DONE
    rows: list[dict] = [
        {"quantity": "tasks", "value": int(status.size)},
        {"quantity": "done", "value": int(done.sum())},
        {"quantity": "failed", "value": int((status == TaskStatus.FAILED).sum())},
        {"quantity": "pending", "value": int((status == TaskStatus.PENDING).sum())},
    ]
    for key, larger_better in RANK_KEYS.items():
        if key not in metrics or key in _GATED:
            continue
        vals = np.asarray(metrics[key], dtype=float)[done]
        vals = vals[np.isfinite(vals)]
        best = (vals.max() if larger_better else vals.min()) if vals.size else float("nan")
        mean = vals.mean() if vals.size else float("nan")
        rows.append({"quantity": f"best {metric_label(key, tol_s)}", "value": float(best)})
        rows.append({"quantity": f"mean {metric_label(key, tol_s)}", "value": float(mean)})
    if z_values is not None:
        rows += z_rows(z_values, z_note)
    elif "shift_z" in metrics:
        rows += z_rows(np.asarray(metrics["shift_z"], dtype=float)[done], z_note)
    return rows


def z_rows(z_values, note: str = "") -> list[dict]:
    """The distribution of every done point's shift-null z beside what the max
    of that many pure-null z draws would be (a sweep's best is selected)."""
    from ..music.alignment import z_distribution_summary

    d = z_distribution_summary(z_values)
    if not d.get("n"):
        return []
    n = d["n"]
    return [
        {"quantity": f"z vs worm's own shifts over {n} points{note}: min / q25 / median / q75 / max",
         "value": " / ".join(f"{d[k]:+.2f}" for k in ("min", "q25", "median", "q75", "max"))},
        {"quantity": f"mean z over {n} points (0 if none aligns beyond its own rhythm)", "value": float(d["mean"])},
        {"quantity": f"expected max of {n} null z draws (the best point's z by selection alone)",
         "value": float(d["expected_max_null"])},
    ]


def failure_rows(status: np.ndarray, errors: Sequence[str], task_ids: np.ndarray, limit: int = 10) -> list[dict]:
    """Failed tasks grouped by error message, most common first: what broke,
    how often, and which task ids to rerun or inspect."""
    groups: dict[str, list[int]] = {}
    for r in np.flatnonzero(np.asarray(status) == TaskStatus.FAILED):
        msg = (errors[r] or "(no message)").strip().splitlines()[0][:200]
        groups.setdefault(msg, []).append(int(task_ids[r]))
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))[:limit]
    return [
        {"tasks": len(ids), "error": msg, "task ids": " ".join(map(str, ids[:8])) + (" ..." if len(ids) > 8 else "")}
        for msg, ids in ordered
    ]


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return "n/a" if math.isnan(v) else f"{v:.4g}"
    return str(value)


def to_html(rows: Sequence[dict], css_class: str = "table") -> str:
    """An HTML table; columns are the union of the rows' keys, in order."""
    cols = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c, '')))}</td>" for c in cols) + "</tr>" for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
