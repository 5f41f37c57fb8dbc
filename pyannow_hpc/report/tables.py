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

from ..music.metrics import KEYS, TOL_S, metric_label

#: ranking keys: metric -> True when larger is better
RANK_KEYS: dict[str, bool] = {"onset_loss": False, "f1_mireval": True, "f1_seed": True, "pitch_f1": True}


def rank_tasks(metrics: dict[str, np.ndarray], status: np.ndarray, rank_by: str, top_k: int) -> np.ndarray:
    """Row indices of the best ``top_k`` done tasks by ``rank_by``; ties broken by row.

    Tasks that failed, are pending, or have a NaN score are never ranked.
    """
    if rank_by not in RANK_KEYS:
        raise ValueError(f"rank_by must be one of {', '.join(RANK_KEYS)}")
    score = np.asarray(metrics[rank_by], dtype=float)
    ok = np.flatnonzero((np.asarray(status) == 1) & np.isfinite(score))
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
) -> list[dict]:
    """One dict per ranked ledger row: rank, global task id, seed, every
    labelled metric (evaluate() order), then the parameters."""
    keys = [k for k in KEYS if k in metrics] + sorted(k for k in metrics if k not in KEYS)
    rows = []
    for rank, r in enumerate(ranked_rows, start=1):
        row: dict[str, object] = {"rank": rank, "task": int(task_ids[r]), "seed": int(seeds[r])}
        row.update({metric_label(k, tol_s): float(metrics[k][r]) for k in keys})
        row.update({name: float(params[r, j]) for j, name in enumerate(param_names)})
        rows.append(row)
    return rows


def with_chance(row: dict, chance, tol_s: float = TOL_S) -> dict:
    """``row`` with the chance level (:class:`~pyannow_hpc.music.chance.ChanceF1`)
    inserted right after its one-to-one F1 column."""
    f1_key = metric_label("f1_mireval", tol_s)
    label = f"chance F1 (mir_eval one-to-one, ±{tol_s * 1000:g} ms, same note count at random times)"
    out: dict = {}
    for k, v in row.items():
        out[k] = v
        if k == f1_key:
            out[label] = round(chance.f1_mireval_mean, 4)
    return out


def summary_rows(status: np.ndarray, metrics: dict[str, np.ndarray], tol_s: float = TOL_S) -> list[dict]:
    """Sweep-level counts, and the best and mean of each score over done tasks."""
    status = np.asarray(status)
    done = status == 1
    rows: list[dict] = [
        {"quantity": "tasks", "value": int(status.size)},
        {"quantity": "done", "value": int(done.sum())},
        {"quantity": "failed", "value": int((status == 2).sum())},
        {"quantity": "pending", "value": int((status == 0).sum())},
    ]
    for key, larger_better in RANK_KEYS.items():
        if key not in metrics:
            continue
        vals = np.asarray(metrics[key], dtype=float)[done]
        vals = vals[np.isfinite(vals)]
        best = (vals.max() if larger_better else vals.min()) if vals.size else float("nan")
        mean = vals.mean() if vals.size else float("nan")
        rows.append({"quantity": f"best {metric_label(key, tol_s)}", "value": float(best)})
        rows.append({"quantity": f"mean {metric_label(key, tol_s)}", "value": float(mean)})
    return rows


def failure_rows(status: np.ndarray, errors: Sequence[str], task_ids: np.ndarray, limit: int = 10) -> list[dict]:
    """Failed tasks grouped by error message, most common first: what broke,
    how often, and which task ids to rerun or inspect."""
    groups: dict[str, list[int]] = {}
    for r in np.flatnonzero(np.asarray(status) == 2):
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
