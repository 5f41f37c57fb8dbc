"""The analysed design: every finished evaluation of one or more ledgers as a
matrix in each parameter's search coordinates.

Search coordinates are what samplers and optimisers move in: log10(value) for a
parameter whose scale is "log", the value otherwise. Distances, clusters, the
prior (theta_bar, Sigma) and regression slopes are all in these coordinates, so
a conductance spanning a decade weighs like a linear parameter spanning its range.

Two sources are read:

* sweep ledgers (``pyannow-ledger/1``, ``/tasks``) through the public reader
  :func:`pyannow_hpc.store.ledger.read_ledger`; an optimiser that writes its
  evaluations with the same writer (one row per evaluation, status 1 = done)
  is read the same way;
* an evaluation table: an HDF5 file with a group ``/evaluations`` holding
  ``params`` float64 (n, k) in physical units, ``param_names`` str (k,),
  optional ``status`` int8 (n,) (1 = done; absent = all done), ``metrics/<key>``
  float64 (n,), and file attrs ``model`` and optionally ``param_scales`` (JSON
  name -> "log"/"linear") and ``sampler`` (docs/analyze.md); the optimiser's
  own ledger (``values``, attr ``labels``, one dataset per score) is read too.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, PyannowError
from . import scoring


class AnalysisError(ConfigError):
    """The ledgers cannot be analysed together (other models, too few rows)."""


@dataclass
class Source:
    """One file's finished rows, before the ledgers are stacked."""

    path: str
    model: str
    sampler: str
    names: tuple[str, ...]
    scales: dict[str, str]
    values: np.ndarray
    metrics: dict[str, np.ndarray]
    task_ids: np.ndarray
    n_rows: int
    complete: bool  # every row of the file finished, in task order (a Saltelli design stays intact)
    target: object = None  # the scored NoteSequence (sweep ledgers), for the chance level of an F1
    window_s: tuple[float, float] = (0.0, 0.0)  # (start, duration) of the scored window


@dataclass
class Design:
    """Finished evaluations with a finite score, in search coordinates."""

    names: tuple[str, ...]
    scales: tuple[str, ...]
    X: np.ndarray  # (n, d) search coordinates
    values: np.ndarray  # (n, d) physical values
    score: scoring.Score
    y: np.ndarray  # (n,) the analysed score
    metrics: dict[str, np.ndarray]
    task_ids: np.ndarray
    source_index: np.ndarray
    paths: tuple[str, ...]
    model: str
    samplers: tuple[str, ...]
    n_rows_total: int
    complete: bool
    sources: tuple = ()  # the Source of each path (targets and windows for the chance level)
    dropped: tuple[str, ...] = ()  # parameters left out because they never varied
    n_no_evidence: int = 0  # evaluations left out: their shift null has no spread (z = 0 by construction)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def d(self) -> int:
        return len(self.names)

    @property
    def coord_names(self) -> tuple[str, ...]:
        """Column labels in search coordinates: ``log10(g_ca_boyle)``, ``noise_sd_uA``."""
        return tuple(f"log10({n})" if s == "log" else n for n, s in zip(self.names, self.scales))

    def row_label(self, i: int) -> str:
        """``task 12`` (one ledger) or ``b.h5:12`` (several)."""
        tid = int(self.task_ids[i])
        if len(self.paths) == 1:
            return f"task {tid}"
        return f"{Path(self.paths[int(self.source_index[i])]).name}:{tid}"


def to_search(values: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    out = np.array(values, dtype=np.float64, copy=True)
    for j, s in enumerate(scales):
        if s == "log":
            out[:, j] = np.log10(out[:, j])
    return out


def from_search(coords: np.ndarray, scales: Sequence[str]) -> np.ndarray:
    out = np.array(coords, dtype=np.float64, copy=True)
    for j, s in enumerate(scales):
        if s == "log":
            out[..., j] = 10.0 ** out[..., j]
    return out


def _scales(attrs: dict, model: str, names: Sequence[str]) -> dict[str, str]:
    """The scale each parameter was searched in: the ledger's own record (a
    sweep config may override the space), else the model's parameter space."""
    try:
        stored = json.loads(str(attrs.get("param_scales", "")))
    except ValueError:
        stored = {}
    out = {}
    for name in names:
        base = name.split("[", 1)[0]  # an optimiser's per-muscle entry g_k_slow[DL] scales like g_k_slow
        scale = stored.get(name, stored.get(base)) if isinstance(stored, dict) else None
        if scale is None:
            try:
                from ..params import space

                sp = space(model)
                scale = sp[base].scale if base in sp else "linear"
            except PyannowError:
                scale = "linear"
        out[name] = "log" if scale == "log" else "linear"
    return out


#: per-evaluation bookkeeping columns of an evaluation table that are not scores
_BOOKKEEPING = frozenset({"iteration", "start", "rank", "seed", "wall_s", "status", "task_id"})


def _read_evaluations(path: Path) -> Source | None:
    """The ``/evaluations`` table (module doc), or None when the file has none.

    Two spellings are read: the documented one (``params``, ``param_names``,
    ``metrics/<key>``, ``status``) and the optimiser's ledger
    (``pyannow-optimize-1``: ``values`` (n, d), root attr ``labels`` (JSON names),
    one 1-D dataset per score, done = finite ``loss``).
    """
    import h5py

    from ..store.ledger import LedgerError

    try:
        with h5py.File(path, "r") as f:
            if "evaluations" not in f:
                return None
            g = f["evaluations"]
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            if "param_names" in g:
                names = tuple(x.decode() if isinstance(x, bytes) else str(x) for x in g["param_names"][()])
            else:
                names = tuple(json.loads(str(attrs["labels"])))
            values = np.asarray(g["params" if "params" in g else "values"][()], dtype=np.float64).reshape(-1, len(names))
            n = len(values)
            if "metrics" in g:
                metrics = {k: np.asarray(g["metrics"][k][()], dtype=np.float64) for k in g["metrics"]}
            else:
                metrics = {k: np.asarray(ds[()], dtype=np.float64) for k, ds in g.items()
                           if isinstance(ds, h5py.Dataset) and ds.shape == (n,) and ds.dtype.kind in "fiu"
                           and k not in _BOOKKEEPING}
            if "status" in g:
                status = np.asarray(g["status"][()])
            elif "loss" in metrics:
                status = np.where(np.isfinite(metrics["loss"]), 1, 2)
            else:
                status = np.ones(n, dtype=np.int8)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise LedgerError(f"{path} is not a readable evaluation table: {exc}") from None
    done = status == 1
    model = str(attrs.get("model", "unknown"))
    sampler = str(attrs.get("sampler", f"optimiser:{attrs['method']}" if "method" in attrs else "optimiser"))
    return Source(str(path), model, sampler, names, _scales(attrs, model, names), values[done],
                  {k: v[done] for k, v in metrics.items()}, np.flatnonzero(done).astype(np.int64), n, bool(done.all()))


def read_source(path: str | os.PathLike) -> Source:
    """One ledger's (or evaluation table's) finished rows."""
    import h5py

    from ..store.ledger import DONE, LedgerError, read_ledger

    p = Path(path)
    if not p.exists():
        raise LedgerError(f"ledger {p} does not exist")
    try:
        with h5py.File(p, "r") as f:
            has_tasks = "tasks" in f
    except OSError as exc:
        raise LedgerError(f"{p} is not a readable HDF5 ledger: {exc}") from None
    if not has_tasks:
        src = _read_evaluations(p)
        if src is None:
            raise LedgerError(f"{p} holds neither a sweep ledger (/tasks) nor an evaluation table (/evaluations)")
        return src
    led = read_ledger(p)
    done = np.asarray(led.status) == DONE
    model = str(led.attrs.get("model", "unknown"))
    order = np.argsort(led.task_ids, kind="stable")
    complete = bool(done.all()) and np.array_equal(led.task_ids[order], np.arange(len(led)))
    return Source(str(p), model, str(led.attrs.get("sampler", "unknown")), tuple(led.param_names),
                  _scales(led.attrs, model, led.param_names), np.asarray(led.params)[done],
                  {k: np.asarray(v, dtype=np.float64)[done] for k, v in led.metrics.items()},
                  np.asarray(led.task_ids)[done], len(led), complete, led.target,
                  (float(led.attrs.get("window_start_s", 0.0)), float(led.attrs.get("duration_s", 0.0))))


def load_design(paths: Sequence[str | os.PathLike], score: str | None = None) -> Design:
    """Stack the finished rows of ``paths`` (same cell model, same parameters)."""
    if not paths:
        raise AnalysisError("no ledger given")
    sources = [read_source(p) for p in paths]
    first = sources[0]
    models = {s.model for s in sources}
    if len(models) > 1:
        which = ", ".join(f"{Path(s.path).name} is {s.model}" for s in sources)
        raise AnalysisError(f"the ledgers are of different cell models ({which}); analyse one model at a time")
    for s in sources[1:]:
        if s.names != first.names:
            raise AnalysisError(f"{Path(s.path).name} varies {', '.join(s.names)} but {Path(first.path).name} "
                                f"varies {', '.join(first.names)}; analyse ledgers of one parameter set together")
        if s.scales != first.scales:
            raise AnalysisError(f"{Path(s.path).name} searched other scales ({s.scales}) than "
                                f"{Path(first.path).name} ({first.scales})")
    common = set(first.metrics).intersection(*(s.metrics for s in sources[1:]))
    chosen = scoring.choose(common, score)
    values = np.concatenate([s.values for s in sources])
    metrics = {k: np.concatenate([s.metrics[k] for s in sources]) for k in sorted(common)}
    task_ids = np.concatenate([s.task_ids for s in sources])
    src_idx = np.concatenate([np.full(len(s.values), i) for i, s in enumerate(sources)])
    scales = tuple(first.scales[n] for n in first.names)
    with np.errstate(divide="ignore", invalid="ignore"):  # a non-positive value on a log axis is dropped below
        coords = to_search(values, scales)
    keep = np.isfinite(metrics[chosen.key]) & np.all(np.isfinite(coords), axis=1)
    no_evidence = keep & _no_evidence(chosen.key, metrics)
    keep &= ~no_evidence
    d = len(first.names)
    n = int(keep.sum())
    if n < d + 3:
        why = (f" ({int(no_evidence.sum())} more have a shift null with no spread or no notes: z says nothing)"
               if no_evidence.any() else "")
        raise AnalysisError(f"only {n} finished evaluation(s) with a finite {chosen.key}{why}; the analysis needs at "
                            f"least {d + 3} for {d} parameters (try --score f1_mireval)")
    y = metrics[chosen.key][keep]
    if np.ptp(y) == 0:
        raise AnalysisError(f"{chosen.key} is {y[0]:g} for every finished evaluation; there is nothing to explain "
                            "(choose another score with --score)")
    # a parameter that never varied carries no information and makes every fit singular
    varied = np.ptp(coords[keep], axis=0) > 0
    if not varied.any():
        raise AnalysisError("no parameter varies across the finished evaluations")
    dropped = tuple(n for n, v in zip(first.names, varied) if not v)
    names = tuple(n for n, v in zip(first.names, varied) if v)
    scales = tuple(s for s, v in zip(scales, varied) if v)
    return Design(
        names=names, scales=scales, X=coords[keep][:, varied], values=values[keep][:, varied], score=chosen,
        y=y, metrics={k: v[keep] for k, v in metrics.items()}, task_ids=task_ids[keep],
        source_index=src_idx[keep], paths=tuple(s.path for s in sources), model=first.model,
        samplers=tuple(s.sampler for s in sources), n_rows_total=sum(s.n_rows for s in sources),
        complete=len(sources) == 1 and first.complete and bool(keep.all()), sources=tuple(sources),
        dropped=dropped, n_no_evidence=int(no_evidence.sum()),
    )


def _no_evidence(key: str, metrics: dict[str, np.ndarray]) -> np.ndarray:
    """Rows whose shift-null z carries no evidence: the null's sd column
    (``shift_sd`` beside ``shift_z``) is 0, i.e. a silent or flooding worm whose
    shifted copies all score the same; the nulls then set z = 0 by construction
    (music/nulls.py), and dozens of such exact zeros would pose as a "cluster".
    Without an sd column (the optimiser's ledger), a worm with no notes
    (``n_notes`` / ``n_worm`` = 0) is the case that can still be told."""
    none = np.zeros(len(metrics[key]), dtype=bool)
    if not scoring.is_shift_z(key):
        return none
    sd_key = key[:-1] + "sd" if key.endswith("_z") else ""
    if sd_key in metrics:
        return metrics[sd_key] == 0
    for count in ("n_notes", "n_worm"):
        if count in metrics:
            return metrics[count] == 0
    return none
