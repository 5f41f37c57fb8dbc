"""Re-test a sweep's best points on time they were not selected on.

A sweep's best point is selected on one window with one noise seed: the best
of 448 points had z 2.27 there, 0.80 reseeded and -2.8 ... +0.9 on the later
windows of the piece (SCIENCE.md section 5).  :func:`retest` re-scores the best
K points, with the same pipeline and nulls (:func:`pyannow_hpc.pipeline.evaluate_params`):

- **later windows**: the worm keeps playing -- one run covering the sweep's
  window and the next ``n_windows`` windows of the same length, each scored
  against the same stretch of the piece (window 0 of that run is the sweep's
  own score, recomputed: a check that the pipeline reproduces the ledger);
- **other noise seeds**: the sweep's window, ``seeds`` instead of the task's;
- **other targets**: the first window of each named score.

Rows are stored in the ledger's ``/retest`` group (one row per point and
condition; under the ledger lock a copy is built in memory and renamed over
the ledger, so a crash leaves the old ledger and a running sweep makes it a
one-line lock error).  A resumed sweep carries the group over (store/groups.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

#: stored per row (AlignmentScore.as_dict keys + evaluate()'s F1s)
COLUMNS = ("n_worm", "f1", "f1_any", "shift_z", "shift_p", "shift_excess", "uniform_mean", "uniform_sd", "refractory_mean",
           "metronome_f1", "beat_ceiling_f1")
IN_WINDOW = "in-window"


@dataclass(frozen=True)
class Condition:
    kind: str  # "in-window" | "later" | "seed" | "target"
    label: str


def _score_dict(score) -> dict[str, float]:
    d = score.as_dict()
    return {k: float(d[k]) for k in COLUMNS}


def retest(ledger_path, *, top_k: int = 5, n_windows: int = 3, seeds: Sequence[int] = (), targets: Sequence[str] = (),
           rank_by: str | None = None, progress: bool = True) -> list[dict]:
    """Re-score the best ``top_k`` points of a ledger; returns the long-form rows
    (also written to the ledger's ``/retest`` group)."""
    from tqdm import tqdm

    from ..config import loads_config
    from ..errors import ConfigError
    from ..music.alignment import MIN_NOTES
    from ..music.target import load_target
    from ..pipeline import evaluate_params, score_notes
    from . import tables
    from .render import _attr, _window, load_ledger

    data = load_ledger(ledger_path)
    text = str(_attr(data.attrs, "config_text", default=""))
    if not text:
        raise ConfigError(f"{ledger_path}: the ledger keeps no config_text; cannot re-run its points")
    cfg = loads_config(text, source=f"{ledger_path} (stored config)")
    sim = cfg.simulation
    burn_in_s = float(_attr(data.attrs, "burn_in_s", default=sim.burn_in_s))
    rank_by = rank_by or str(_attr(data.attrs, "rank_by", default="shift_excess"))
    min_notes = int(_attr(data.attrs, "min_notes", default=MIN_NOTES))
    metrics = {k: np.asarray(v, dtype=float) for k, v in data.metrics.items()}
    n_notes = np.array([len(o) for o in data.onsets_s])
    best = tables.rank_tasks(metrics, np.asarray(data.status), rank_by, top_k, n_notes, min_notes)
    if not len(best):
        raise ConfigError(f"{ledger_path}: no done task to retest")
    start_s, duration_s = _window(data)
    from ..parallel.sweep import _with_beat

    piece = (_with_beat(data.target, data.attrs) if data.target is not None
             else load_target(None if cfg.target in ("", "default") else cfg.target))
    # later windows that fit inside the piece
    n_later = int(max(0, min(n_windows, np.floor((piece.end_s - start_s) / duration_s) - 1)))
    others = [(t, load_target(t)) for t in targets]
    common = dict(backend=cfg.backend, model=cfg.model, dt_ms=sim.dt_ms, integrator=sim.integrator,
                  onset_method=sim.onset_method, burn_in_s=burn_in_s, min_notes=min_notes)
    rows: list[dict] = []
    names = list(data.param_names)
    n_runs = len(best) * (1 + len(seeds) + len(others))
    with tqdm(total=n_runs, desc="retest", unit="run", disable=not progress or None) as bar:
        for rank, r in enumerate(best, start=1):
            params = {**cfg.fixed_params, **dict(zip(names, map(float, np.asarray(data.params)[r])))}
            tid, seed = int(np.asarray(data.task_ids)[r]), int(np.asarray(data.seeds)[r])
            base = dict(rank=rank, task=tid)
            long = evaluate_params(params, target=piece, duration_s=duration_s * (1 + n_later), seed=seed,
                                   window_start_s=start_s, nulls=False, **common)
            bar.update()
            for k in range(n_later + 1):
                a = k * duration_s
                notes = long.notes.window(a, a + duration_s)
                window = piece.window(start_s + a, start_s + a + duration_s)
                _, sc = score_notes(notes, window, duration_s, null_seed=seed, min_notes=min_notes)
                label = IN_WINDOW if k == 0 else f"later window {start_s + a:g}-{start_s + a + duration_s:g} s"
                rows.append({**base, "condition": label, "kind": "in-window" if k == 0 else "later",
                             "seed": seed, "target": piece.name, "window_start_s": start_s + a, **_score_dict(sc)})
            for s in seeds:
                res = evaluate_params(params, target=piece, duration_s=duration_s, seed=int(s), window_start_s=start_s,
                                      **common)
                rows.append({**base, "condition": f"seed {int(s)}", "kind": "seed", "seed": int(s),
                             "target": piece.name, "window_start_s": start_s, **_score_dict(res.score)})
                bar.update()
            for path, other in others:
                res = evaluate_params(params, target=other, duration_s=duration_s, seed=seed, window_start_s=0.0,
                                      **common)
                rows.append({**base, "condition": f"target {Path(path).name} 0-{duration_s:g} s", "kind": "target",
                             "seed": seed, "target": other.name or str(path), "window_start_s": 0.0,
                             **_score_dict(res.score)})
                bar.update()
    write_retest(ledger_path, rows, attrs={"top_k": int(top_k), "rank_by": rank_by, "burn_in_s": burn_in_s})
    return rows


# ----------------------------------------------------------------- storage
_STR_COLS = ("condition", "kind", "target")
_INT_COLS = ("rank", "task", "seed")


def write_retest(ledger_path, rows: Sequence[dict], attrs: dict | None = None) -> Path:
    """Replace the ledger's ``/retest`` group with ``rows``: under the ledger lock,
    built in memory, replaced atomically (:func:`pyannow_hpc.store.groups.write_group`)."""
    import h5py

    from ..store.groups import write_group
    from ..store.provenance import utc_now

    def fill(g) -> None:
        for key in rows[0]:
            col = [row[key] for row in rows]
            if key in _STR_COLS:
                g.create_dataset(key, data=np.array(col, dtype=h5py.string_dtype()))
            else:
                g.create_dataset(key, data=np.asarray(col, dtype=np.int64 if key in _INT_COLS else np.float64))
        for k, v in {**(attrs or {}), "created_utc": utc_now()}.items():
            g.attrs[k] = v

    return write_group(Path(ledger_path), "retest", fill)


def read_retest_long(ledger_path) -> list[dict]:
    """The stored long-form rows; [] when the ledger has no ``/retest``."""
    import h5py

    if not os.path.isfile(ledger_path):
        return []
    try:
        with h5py.File(ledger_path, "r") as f:
            if "retest" not in f:
                return []
            g = f["retest"]
            cols = {k: g[k][()] for k in g}
    except OSError:
        return []
    n = len(next(iter(cols.values())))
    out = []
    for i in range(n):
        row = {}
        for k, v in cols.items():
            x = v[i]
            row[k] = x.decode() if isinstance(x, bytes) else (int(x) if k in _INT_COLS else float(x))
        out.append(row)
    return out


def side_by_side(rows: Sequence[dict]) -> list[dict]:
    """One row per point: in-window F1 / z beside each unseen condition's, and
    the unseen conditions' mean z (labelled: only those are held out)."""
    by_task: dict[int, list[dict]] = {}
    for row in rows:
        by_task.setdefault(int(row["task"]), []).append(row)
    out = []
    for tid, group in sorted(by_task.items(), key=lambda kv: kv[1][0]["rank"]):
        line: dict = {"rank": group[0]["rank"], "task": tid}
        unseen_z, unseen_f1, unseen_ex = [], [], []
        for row in group:
            tag = "in-window (selected on)" if row["kind"] == "in-window" else f"unseen: {row['condition']}"
            line[f"{tag} F1 (one-to-one)"] = row["f1"]
            line[f"{tag} z vs own shifts"] = row["shift_z"]
            if row["kind"] == "in-window":
                line["in-window F1 above own shifts"] = row["shift_excess"]
                line["in-window uniform chance F1"] = row["uniform_mean"]
                line["in-window worm notes"] = int(row["n_worm"])
            else:
                unseen_z.append(row["shift_z"])
                unseen_f1.append(row["f1"])
                unseen_ex.append(row["shift_excess"])
        if unseen_z:
            line["unseen mean F1 (one-to-one)"] = float(np.nanmean(unseen_f1))
            line["unseen mean z vs own shifts"] = float(np.nanmean(unseen_z))
            line["unseen mean F1 above own shifts"] = float(np.nanmean(unseen_ex))
        out.append(line)
    return out


def read_retest(ledger_path) -> list[dict]:
    """The side-by-side table of a ledger's ``/retest`` ([] when absent)."""
    return side_by_side(read_retest_long(ledger_path))


__all__ = ["retest", "write_retest", "read_retest", "read_retest_long", "side_by_side", "COLUMNS"]
