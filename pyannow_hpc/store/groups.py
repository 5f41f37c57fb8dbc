"""Top-level groups other commands add to a ledger, and how a rewrite keeps them.

The sweep owns ``/tasks``, ``/target`` and ``/refine`` (:mod:`.ledger` reads
them into :class:`~.ledger.LedgerData`). Other commands add groups of their
own: ``/retest`` (``pyannow-hpc retest``, report/retest.py) and ``/prior``
(``pyannow-hpc analyze``, analysis/prior.py). A resumed sweep rewrites the
whole ledger on every flush, so those groups must travel with it.

Why carry them verbatim instead of teaching the ledger their layouts: the
ledger then needs no copy of the retest or prior schema (one definition, in
the module that writes and reads it), and a group added later by a new
command survives a resume without a change here. :func:`snapshot` takes an
in-memory HDF5 image of every group the ledger does not own when it is read;
:func:`restore` copies them back, object for object (h5py ``copy``: datasets,
dtypes, attrs and filters unchanged), into each rewrite.

:func:`write_group` is how those commands write their group: under the
ledger lock (a running sweep holds it, so neither side can lose the other's
write), built in memory and replaced atomically (:func:`~.atomic.atomic_bytes`:
a full disk is one error line, a kill leaves the old ledger).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable

#: the groups :mod:`.ledger` reads into LedgerData and writes itself
OWNED = frozenset({"tasks", "target", "refine"})


def foreign_names(f, owned: frozenset[str] = OWNED) -> list[str]:
    """Top-level members of an open h5py file that its writer (``owned``: the sweep
    ledger's groups by default) does not own."""
    return [name for name in f if name not in owned]


def snapshot(f, owned: frozenset[str] = OWNED) -> bytes | None:
    """An in-memory HDF5 image of ``f``'s foreign groups (None when there are none)."""
    import h5py

    names = foreign_names(f, owned)
    if not names:
        return None
    buf = io.BytesIO()
    with h5py.File(buf, "w") as out:
        for name in names:
            f.copy(f[name], out, name=name)
    return buf.getvalue()


def restore(f, image: bytes | None) -> None:
    """Copy the groups of a :func:`snapshot` into the open, writable file ``f``."""
    import h5py

    if not image:
        return
    with h5py.File(io.BytesIO(image), "r") as src:
        for name in src:
            if name not in f:  # what the ledger wrote itself wins
                src.copy(src[name], f, name=name)


def write_group(path: str | os.PathLike, name: str, fill: Callable[[object], None], what: str = "ledger") -> Path:
    """Replace top-level group ``name`` of the HDF5 file ``path`` with what ``fill(group)`` writes.

    Every other member and the root attrs are copied unchanged. Holds the
    ledger lock for the read and the write: a sweep running on ``path`` makes
    this a one-line LockError instead of a lost write (theirs or ours).
    """
    import h5py

    from ..errors import OutputError
    from .atomic import atomic_bytes
    from .lock import ledger_lock

    p = Path(path)
    with ledger_lock(p, what):
        try:
            old = p.read_bytes()  # read under the lock: the copy is of the latest complete file
        except OSError as exc:
            raise OutputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
        with atomic_bytes(p, suffix=".h5", what=what) as buf:
            with h5py.File(io.BytesIO(old), "r") as src, h5py.File(buf, "w") as dst:
                for key, value in src.attrs.items():
                    dst.attrs[key] = value
                for member in src:
                    if member != name:
                        src.copy(src[member], dst, name=member)
                fill(dst.create_group(name))
    return p
