"""One-run result files (``pyannow-hpc demo``, ``simulate``): HDF5 readable with
plain h5py, written atomically (built in memory: a full disk is one line, not
libhdf5's crash).

Layout::

    /                 attrs: provenance (package_version, git_hash, host, ...),
                              job, model, backend, seed, ...
    /params           attrs: one per parameter (value), units in attrs of /params/units
    /metrics          attrs: one per metric key (labelled in attrs 'labels')
    /worm, /target    datasets onset_s, pitch, velocity, duration_s (NoteSequence)
    /f1_table         datasets tolerance_ms, f1_mireval, f1_seed (both metrics)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np

from ..music.notes import NoteSequence
from .atomic import atomic_bytes


def write_notes(group, notes: NoteSequence) -> None:
    """Store a NoteSequence as four equal-length datasets in an h5py group."""
    group.attrs["name"] = notes.name
    for field, dtype in (("onset_s", "f8"), ("pitch", "i2"), ("velocity", "i2"), ("duration_s", "f8")):
        group.create_dataset(field, data=np.asarray(getattr(notes, field), dtype=dtype))


def read_notes(group) -> NoteSequence:
    return NoteSequence(
        group["onset_s"][()], group["pitch"][()].astype(int), group["velocity"][()].astype(int),
        group["duration_s"][()], str(group.attrs.get("name", "")),
    )


def write_result(
    path: str | Path,
    *,
    worm: NoteSequence,
    target: NoteSequence,
    params: Mapping[str, float],
    metrics: Mapping[str, float],
    attrs: Mapping[str, object],
    f1_rows: list[Mapping[str, float]] | None = None,
    units: Mapping[str, str] | None = None,
) -> Path:
    import h5py

    with atomic_bytes(path, what="result") as buf:
        with h5py.File(buf, "w") as f:
            for k, v in attrs.items():
                f.attrs[k] = v if isinstance(v, (int, float, str, np.number)) else json.dumps(v)
            g = f.create_group("params")
            for k, v in params.items():
                g.attrs[k] = float(v)
            if units:
                g.attrs["units"] = json.dumps(dict(units))
            g = f.create_group("metrics")
            for k, v in metrics.items():
                g.attrs[k] = float(v)
            write_notes(f.create_group("worm"), worm)
            write_notes(f.create_group("target"), target)
            if f1_rows:
                g = f.create_group("f1_table")
                for key in f1_rows[0]:
                    g.create_dataset(key, data=np.array([float(r[key]) for r in f1_rows]))
    return Path(path)
