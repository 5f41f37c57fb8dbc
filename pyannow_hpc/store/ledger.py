"""The sweep ledger: one HDF5 file, readable with plain h5py, that survives kill -9.

Layout (format ``pyannow-ledger/1``)::

    /                   attrs: package_version, git_hash, host, mpi_size, config_text,
                               config_hash, start_utc, end_utc, backend, model, target_name,
                               sampler, n_tasks_total, shard, fixed_params (json), ...
    /tasks/task_id      int64 (n,)      global task id (shards hold a subset)
    /tasks/params       float64 (n, k)  varied parameters, columns = param_names
    /tasks/param_names  str (k,)
    /tasks/seed         int64 (n,)
    /tasks/status       int8 (n,)       store.tasks.TaskStatus: 0 pending, 1 done, 2 failed
    /tasks/error        str (n,)        "" unless failed
    /tasks/metrics/<k>  float64 (n,)    pyannow_hpc.music.metrics.evaluate() keys, NaN if not done
    /tasks/onset_offsets int64 (n+1,)   CSR: task i's notes are [off[i], off[i+1])
    /tasks/onsets_s     float64, /tasks/pitches int16
    /target             onset_s, pitch, velocity, duration_s (the scored target)
    /refine             attrs: the refine run's settings; /refine/<task_id>: attrs status,
                        error, wall_s and every metric, datasets onsets_s, pitches (``refine``)

The root attrs also hold the run settings every task shares
(:class:`~.tasks.RunSettings`: backend, model, duration_s, dt_ms, integrator,
onset_method, window_start_s) and ``fixed_params``; with a row's params and
seed they are the whole recipe of that task (:meth:`LedgerData.task`,
:meth:`LedgerData.settings`). ``/refine`` lives in :class:`LedgerData` too,
so every rewrite (a resumed sweep's flushes) keeps it; groups other commands
add (``/retest``, ``/prior``) are carried over verbatim (:mod:`.groups`).

Crash safety is by construction, not by luck: rank 0 keeps the ledger in
memory and every flush writes a complete new file beside the old one, fsyncs
it and ``os.replace``s it over the ledger (copy-on-write). HDF5 itself is not
crash-safe mid-write (a killed writer can leave broken metadata), but a kill
here can only hit the temporary file; the ledger on disk is always the last
complete flush. The price is rewriting the whole file per flush, which the
sweep keeps to a bounded share of the run (docs/sweep.md, scaling model).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import LedgerError  # noqa: F401  (re-exported: store.ledger.LedgerError)
from ..music.metrics import KEYS as METRIC_KEYS  # the evaluate() keys; extra keys are kept too
from ..music.notes import NoteSequence
from .atomic import atomic_bytes, own_temps
from .groups import restore as restore_groups, snapshot as snapshot_groups
from .result import read_notes, write_notes
from .tasks import RunSettings, Task, TaskStatus

FORMAT = "pyannow-ledger/1"
#: the status codes under their old names (TaskStatus is the one definition)
PENDING, DONE, FAILED = TaskStatus.PENDING, TaskStatus.DONE, TaskStatus.FAILED


@dataclass
class LedgerData:
    """A whole ledger in memory: what :func:`read_ledger` returns and rank 0 updates."""

    param_names: tuple[str, ...]
    params: np.ndarray
    seeds: np.ndarray
    status: np.ndarray
    metrics: dict[str, np.ndarray]
    errors: list[str]
    onsets_s: list[np.ndarray]
    pitches: list[np.ndarray]
    attrs: dict = field(default_factory=dict)
    target: NoteSequence | None = None
    task_ids: np.ndarray | None = None
    #: ``/refine``: the refine run's settings, and per task id its record
    #: (status, error, wall_s, metric keys, onsets_s, pitches)
    refine_attrs: dict = field(default_factory=dict)
    refine: dict[int, dict] = field(default_factory=dict)
    #: the groups other commands added (``/retest``, ``/prior``, ...) as an
    #: in-memory HDF5 image, written back unchanged (:mod:`.groups`)
    carried: bytes | None = None

    def __post_init__(self) -> None:
        if self.task_ids is None:
            self.task_ids = np.arange(len(self.status), dtype=np.int64)

    @classmethod
    def new(cls, task_ids, param_names, params, seeds, *, attrs=None, target=None, metric_keys=METRIC_KEYS) -> "LedgerData":
        n = len(task_ids)
        return cls(
            param_names=tuple(param_names),
            params=np.asarray(params, dtype=np.float64).reshape(n, len(param_names)),
            seeds=np.asarray(seeds, dtype=np.int64),
            status=np.zeros(n, dtype=np.int8),
            metrics={k: np.full(n, np.nan) for k in metric_keys},
            errors=[""] * n,
            onsets_s=[np.zeros(0)] * n,
            pitches=[np.zeros(0, dtype=np.int16)] * n,
            attrs=dict(attrs or {}),
            target=target,
            task_ids=np.asarray(task_ids, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.status)

    def counts(self) -> dict[str, int]:
        return {
            "pending": int(np.sum(self.status == PENDING)),
            "done": int(np.sum(self.status == DONE)),
            "failed": int(np.sum(self.status == FAILED)),
        }

    def record(self, row: int, status: int, metrics: Mapping[str, float] | None = None, error: str = "",
               onsets_s=None, pitches=None) -> None:
        """Store one task's outcome in row ``row``."""
        self.status[row] = status
        self.errors[row] = error
        for key in self.metrics:
            self.metrics[key][row] = np.nan
        for key, value in (metrics or {}).items():
            if key not in self.metrics:
                self.metrics[key] = np.full(len(self), np.nan)
            self.metrics[key][row] = float(value)
        self.onsets_s[row] = np.asarray(onsets_s if onsets_s is not None else (), dtype=np.float64)
        self.pitches[row] = np.asarray(pitches if pitches is not None else (), dtype=np.int16)

    def record_block(self, rows: list[int], status, metrics: Mapping[str, np.ndarray], errors, onsets_s, pitches) -> None:
        """Store k outcomes at once in rows ``rows``: what :meth:`record` does row by row,
        with one vectorised store per metric column (rank 0's per-outcome cost at
        scale, docs/sweep.md).  ``metrics``: key -> (k,) column, NaN where absent;
        ``errors``, ``onsets_s``, ``pitches``: k items each."""
        rows = list(rows)
        consecutive = bool(rows) and rows == list(range(rows[0], rows[0] + len(rows)))
        # a chunk of consecutive tasks (the usual case): slice stores, lists included
        at = slice(rows[0], rows[0] + len(rows)) if consecutive else np.asarray(rows, dtype=np.intp)
        self.status[at] = status
        for key in self.metrics.keys() - metrics.keys():
            self.metrics[key][at] = np.nan
        for key, column in metrics.items():
            if key not in self.metrics:
                self.metrics[key] = np.full(len(self), np.nan)
            self.metrics[key][at] = column
        if consecutive:
            self.errors[at], self.onsets_s[at], self.pitches[at] = list(errors), list(onsets_s), list(pitches)
            return
        for row, error, onsets, notes_pitch in zip(rows, errors, onsets_s, pitches):
            self.errors[row] = error
            self.onsets_s[row] = onsets
            self.pitches[row] = notes_pitch

    def reset(self, rows) -> None:
        """Mark rows pending again (resume: in-flight or to-be-retried tasks)."""
        for row in np.atleast_1d(rows):
            self.record(int(row), PENDING)

    # -- a row as a task --------------------------------------------------
    def fixed_params(self) -> dict[str, float]:
        """The sweep's ``[fixed]`` values (held for every task)."""
        raw = self.attrs.get("fixed_params", "{}")
        return {k: float(v) for k, v in (json.loads(raw) if isinstance(raw, str) else raw).items()}

    def task(self, row: int) -> Task:
        """Row ``row`` as the task the sweep ran: fixed + varied parameters, its seed."""
        varied = dict(zip(self.param_names, map(float, self.params[row])))
        return Task(int(self.task_ids[row]), {**self.fixed_params(), **varied}, int(self.seeds[row]))

    def settings(self) -> RunSettings:
        """How the sweep simulated and scored every task (:class:`RunSettings`).

        Read from the attrs; a ledger written before they were stored gets them
        from its ``config_text`` (the sweep's TOML), parsed as the sweep did.
        """
        if all(k in self.attrs for k in RunSettings.required_fields()):
            a = self.attrs
            return RunSettings(str(a["backend"]), str(a["model"]), float(a["duration_s"]), float(a["dt_ms"]),
                               str(a["integrator"]), str(a["onset_method"]), float(a["window_start_s"]),
                               float(a.get("burn_in_s", 0.0)), int(a.get("min_notes", 10)))
        text = self.attrs.get("config_text")
        if not text:
            raise LedgerError("the ledger stores neither its run settings nor its config_text: re-run the sweep")
        from ..config import loads_config

        return RunSettings.from_config(loads_config(str(text), source="ledger:/config_text"))

    def best_rows(self, key: str, k: int, *, higher_is_better: bool) -> list[int]:
        """Rows of the best ``k`` done tasks by metric ``key`` (ties: lower task id first)."""
        vals = self.metrics.get(key)
        if vals is None:
            return []
        rows = np.flatnonzero((self.status == DONE) & np.isfinite(vals))
        order = np.lexsort((np.asarray(self.task_ids)[rows], -vals[rows] if higher_is_better else vals[rows]))
        return [int(r) for r in rows[order][:k]]

    def record_refine(self, task_id: int, status: int, metrics: Mapping[str, float], error: str = "",
                      wall_s: float = 0.0, onsets_s=(), pitches=()) -> None:
        """Store (or replace) task ``task_id``'s refine result."""
        rec = {"status": int(status), "error": error, "wall_s": float(wall_s)}
        rec.update({k: float(v) for k, v in metrics.items()})
        rec["onsets_s"] = np.asarray(onsets_s, dtype=np.float64)
        rec["pitches"] = np.asarray(pitches, dtype=np.int16)
        self.refine[int(task_id)] = rec


def diff_results(a: LedgerData, b: LedgerData) -> list[str]:
    """Fields where two ledgers' per-task results differ bitwise ([] = identical).

    Provenance attrs (times, host, MPI size) are not results and are ignored.
    """
    diffs = [name for name, x, y in (
        ("task_id", a.task_ids, b.task_ids), ("params", a.params, b.params),
        ("seed", a.seeds, b.seeds), ("status", a.status, b.status),
    ) if not np.array_equal(x, y)]
    if a.errors != b.errors:
        diffs.append("error")
    if set(a.metrics) != set(b.metrics):
        diffs.append("metric keys")
    diffs += [f"metrics/{k}" for k in a.metrics if k in b.metrics and not np.array_equal(a.metrics[k], b.metrics[k], equal_nan=True)]
    for name, xs, ys in (("onsets_s", a.onsets_s, b.onsets_s), ("pitches", a.pitches, b.pitches)):
        if len(xs) != len(ys) or not all(np.array_equal(x, y) for x, y in zip(xs, ys)):
            diffs.append(name)
    return diffs


def _dataset(group, name: str, data: np.ndarray) -> None:
    """Chunked + gzip-compressed where there is data (gzip, not lzf: readable by
    any HDF5 tool); HDF5 cannot chunk an empty dataset."""
    if data.size == 0:
        group.create_dataset(name, data=data)
    elif data.dtype.kind in "fi":
        group.create_dataset(name, data=data, chunks=True, compression="gzip", compression_opts=1, shuffle=True)
    else:
        group.create_dataset(name, data=data, chunks=True, compression="gzip", compression_opts=1)


def _write_h5(path: Path, led: LedgerData) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        for key, value in led.attrs.items():
            f.attrs[key] = value if isinstance(value, (str, int, float, np.integer, np.floating)) else json.dumps(value)
        t = f.create_group("tasks")
        _dataset(t, "task_id", np.asarray(led.task_ids, dtype=np.int64))
        _dataset(t, "params", led.params)
        t.create_dataset("param_names", data=np.array(led.param_names, dtype=h5py.string_dtype()))
        _dataset(t, "seed", led.seeds)
        _dataset(t, "status", led.status)
        _dataset(t, "error", np.array(led.errors, dtype=h5py.string_dtype()))
        m = t.create_group("metrics")
        for key, values in led.metrics.items():
            _dataset(m, key, values)
        lengths = np.array([len(o) for o in led.onsets_s], dtype=np.int64)
        offsets = np.zeros(len(led) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        _dataset(t, "onset_offsets", offsets)
        _dataset(t, "onsets_s", np.concatenate([np.zeros(0), *led.onsets_s]).astype(np.float64))
        _dataset(t, "pitches", np.concatenate([np.zeros(0, np.int16), *led.pitches]).astype(np.int16))
        if led.target is not None:
            write_notes(f.create_group("target"), led.target)
        if led.refine or led.refine_attrs:
            _write_refine(f.create_group("refine"), led)
        restore_groups(f, led.carried)


def _write_refine(g, led: LedgerData) -> None:
    for k, v in led.refine_attrs.items():
        g.attrs[k] = v
    for task_id, rec in sorted(led.refine.items()):
        t = g.create_group(str(task_id))
        for k, v in rec.items():
            if k in ("onsets_s", "pitches"):
                t.create_dataset(k, data=v)
            else:
                t.attrs[k] = v


def _read_refine(g) -> tuple[dict, dict[int, dict]]:
    records = {}
    for name, grp in g.items():
        rec = {k: _attr(v) for k, v in grp.attrs.items()}
        rec["onsets_s"], rec["pitches"] = grp["onsets_s"][()], grp["pitches"][()]
        records[int(name)] = rec
    return {k: _attr(v) for k, v in g.attrs.items()}, records


def write_ledger(path: str | os.PathLike, led: LedgerData) -> Path:
    """Write the whole ledger atomically (temp file, fsync, os.replace)."""
    with atomic_bytes(path, suffix=".h5", what="ledger") as buf:  # in memory: a full disk is one line
        _write_h5(buf, led)
    return Path(path)


def stale_temps(path: str | os.PathLike) -> list[Path]:
    """Temporary siblings left by a writer that was killed mid-flush."""
    p = Path(path)
    return own_temps(p, ".h5")  # exact name pattern: no glob of a name like "*.h5"


def remove_stale_temps(path: str | os.PathLike) -> int:
    gone = 0
    for tmp in stale_temps(path):
        tmp.unlink(missing_ok=True)
        gone += 1
    return gone


def _attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_ledger(path: str | os.PathLike) -> LedgerData:
    """Load a ledger written by :func:`write_ledger` (plain h5py underneath)."""
    import h5py

    from .validate import check_input_file

    p = check_input_file(path)  # a regular file with parseable heaps: h5py could hang on worse
    try:
        with h5py.File(p, "r") as f:
            if "tasks" not in f:
                raise LedgerError(f"{p} is an HDF5 file but not a sweep ledger (no /tasks group)")
            from .validate import check_ledger

            check_ledger(f, p)  # shapes and dtypes of every dataset, before anything is indexed
            t = f["tasks"]
            offsets = t["onset_offsets"][()]
            onsets, pitches = t["onsets_s"][()], t["pitches"][()]
            n = len(offsets) - 1
            names = tuple(_attr(x) for x in t["param_names"][()])
            refine_attrs, refine = _read_refine(f["refine"]) if "refine" in f else ({}, {})
            return LedgerData(
                param_names=names,
                params=t["params"][()].reshape(n, len(names)),
                seeds=t["seed"][()],
                status=t["status"][()],
                metrics={k: t["metrics"][k][()] for k in t["metrics"]},
                errors=[_attr(x) for x in t["error"][()]],
                onsets_s=[onsets[offsets[i]:offsets[i + 1]] for i in range(n)],
                pitches=[pitches[offsets[i]:offsets[i + 1]] for i in range(n)],
                attrs={k: _attr(v) for k, v in f.attrs.items()},
                target=read_notes(f["target"]) if "target" in f else None,
                task_ids=t["task_id"][()],
                refine_attrs=refine_attrs,
                refine=refine,
                carried=snapshot_groups(f),
            )
    except LedgerError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, IndexError, TypeError) as exc:  # what h5py raises on bad bytes
        raise LedgerError(f"{p} is not a readable sweep ledger: {type(exc).__name__}: {exc}") from None
