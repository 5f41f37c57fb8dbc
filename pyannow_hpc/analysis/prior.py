"""The Bayesian prior (theta_bar, Sigma) of the musical cluster, in HDF5.

Format (read by the optimiser's Mahalanobis penalty, SCIENCE.md section 3)::

    /prior              group
      mean              float64 (d,)    theta_bar
      cov               float64 (d, d)  Sigma
      attrs names       parameter names, in order (str array)
            coords      "search": log10(value) where the space says log, the value otherwise
            scales      the scale of each parameter ("log" / "linear"), in order
            score       the ledger key that defined "musical" (e.g. shift_z)
            score_label that score in words
            n_members   evaluations in the musical cluster
            criterion, sources, created_utc   how and from what it was made

It is written to its own file (``prior.h5``) and into each analysed ledger. A
ledger is never modified in place: under the ledger lock, a copy built in
memory gets the group and replaces the ledger atomically
(:func:`pyannow_hpc.store.groups.write_group`), so a kill leaves the old
ledger or the new one and a sweep writing at the same moment is refused. A
sweep that later rewrites its ledger (resume) carries the group over.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import OutputError

GROUP = "prior"
COORDS = "search"


@dataclass
class Prior:
    names: tuple[str, ...]
    scales: tuple[str, ...]
    mean: np.ndarray
    cov: np.ndarray
    score: str
    score_label: str
    n_members: int
    criterion: str = ""
    sources: tuple[str, ...] = ()
    created_utc: str = ""
    extra: dict = field(default_factory=dict)


def write_group(f, prior: Prior) -> None:
    """(Re)create ``/prior`` in an open, writable h5py file."""
    import h5py

    if GROUP in f:
        del f[GROUP]
    _fill(f.create_group(GROUP), prior)


def _fill(g, prior: Prior) -> None:
    """Write ``prior`` into the empty group ``g``."""
    import h5py

    g.create_dataset("mean", data=np.asarray(prior.mean, dtype=np.float64))
    g.create_dataset("cov", data=np.asarray(prior.cov, dtype=np.float64).reshape(len(prior.names), len(prior.names)))
    g.attrs["names"] = np.array(prior.names, dtype=h5py.string_dtype())
    g.attrs["scales"] = np.array(prior.scales, dtype=h5py.string_dtype())
    g.attrs["coords"] = COORDS
    g.attrs["score"] = prior.score
    g.attrs["score_label"] = prior.score_label
    g.attrs["n_members"] = int(prior.n_members)
    g.attrs["criterion"] = prior.criterion
    g.attrs["sources"] = np.array(prior.sources, dtype=h5py.string_dtype())
    g.attrs["created_utc"] = prior.created_utc


def write_file(path: str | os.PathLike, prior: Prior) -> Path:
    """A new HDF5 file holding only ``/prior`` (atomic)."""
    import h5py

    from ..store.atomic import atomic_bytes

    with atomic_bytes(path, suffix=".h5", what="prior") as buf:  # in memory: a full disk is one line
        with h5py.File(buf, "w") as f:
            write_group(f, prior)
    return Path(path)


def add_to_ledger(ledger: str | os.PathLike, prior: Prior) -> Path:
    """Put ``/prior`` into ``ledger``: under the ledger lock, built in memory,
    replaced atomically (:func:`pyannow_hpc.store.groups.write_group`)."""
    from ..store.groups import write_group as replace_group  # (this module's write_group takes an open file)

    p = Path(ledger)
    if not os.access(p, os.W_OK) or not os.access(p.parent, os.W_OK):
        raise OutputError(f"cannot write the prior into {p}: the ledger or its folder is read-only "
                          "(use --no-ledger-prior to write only the output's prior.h5)")
    return replace_group(p, GROUP, lambda g: _fill(g, prior))



def _str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def read(path: str | os.PathLike) -> Prior:
    """The ``/prior`` of a prior file or a ledger."""
    import h5py

    p = Path(path)
    try:
        with h5py.File(p, "r") as f:
            if GROUP not in f:
                raise OutputError(f"{p} has no /{GROUP} group (run pyannow-hpc analyze on a ledger first)")
            g = f[GROUP]
            a = g.attrs
            return Prior(
                names=tuple(_str(x) for x in a["names"]), scales=tuple(_str(x) for x in a.get("scales", ())),
                mean=g["mean"][()], cov=g["cov"][()], score=_str(a["score"]), score_label=_str(a.get("score_label", "")),
                n_members=int(a["n_members"]), criterion=_str(a.get("criterion", "")),
                sources=tuple(_str(x) for x in a.get("sources", ())), created_utc=_str(a.get("created_utc", "")),
            )
    except OSError as exc:
        raise OutputError(f"cannot read a prior from {p}: {exc}") from None
