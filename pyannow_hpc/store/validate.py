"""Check a ledger's datasets (shape, dtype, the CSR offsets) before reading them.

:func:`check_ledger` runs inside ``read_ledger`` on the open h5py file: a
corrupt or hand-edited ledger (a dataset missing, of the wrong type or
length, offsets out of order, statuses that are no status) is one
:class:`~pyannow_hpc.errors.LedgerError` naming the dataset, never an
IndexError or a partly written report later on.

:data:`TASK_DATASETS` is the schema. A dataset added to the ledger format is
checked once it is listed here (``n`` = rows, ``k`` = varied parameters);
datasets not listed are left to their reader.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import LedgerError, ResourceLimitError
from ..limits import memory_budget_bytes

#: /tasks/<name> -> (dtype kinds accepted, shape in terms of n and k; "*" = any length)
TASK_DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "task_id": ("iu", ("n",)),
    "params": ("f", ("n", "k")),
    "param_names": ("SUO", ("k",)),
    "seed": ("iu", ("n",)),
    "status": ("iu", ("n",)),
    "error": ("SUO", ("n",)),
    "onset_offsets": ("iu", ("n+1",)),
    "onsets_s": ("f", ("*",)),
    "pitches": ("iu", ("*",)),
}
#: /target/<name>: the scored target, equal lengths
TARGET_DATASETS = {"onset_s": "fiu", "pitch": "iu", "velocity": "iu", "duration_s": "fiu"}
VALID_STATUS = (0, 1, 2)


def check_input_file(path: str | os.PathLike, what: str = "ledger") -> Path:
    """A file to read must be a regular file (a FIFO would block, a device never
    end) whose HDF5 global heaps libhdf5 can parse without looping (:func:`check_heaps`)."""
    p = Path(path)
    if not p.exists():
        raise LedgerError(f"{what} {p} does not exist")
    if not p.is_file():
        raise LedgerError(f"{what} {p} is not a regular file")
    bad = check_heaps(p)
    if bad:
        raise LedgerError(f"{p} is a corrupt {what}: {bad}")
    return p


#: HDF5 global heap collection ("GCOL", version 1, 8-byte lengths): where the
#: ledger's variable-length strings (param names, errors) live
_GCOL = b"GCOL\x01"
_OBJ_HEADER = 16  # index (2) + refcount (2) + reserved (4) + size (8)


def check_heaps(path: Path) -> str:
    """Walk every global heap collection as libhdf5 does and say what is wrong ('' = fine).

    Why by hand: a heap object of size 0 makes libhdf5's heap loader (1.14)
    loop forever (the fuzz suite found it: a zeroed block in a ledger hung
    ``merge``). No h5py call can be interrupted inside that loop, so the bytes
    are checked before h5py opens the file. A "GCOL" that happens to occur in
    data is walked too; only an impossible walk is reported.
    """
    import mmap

    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return ""
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            at = m.find(_GCOL)
            while at >= 0:
                bad = _walk_collection(m, at, size)
                if bad:
                    return bad
                at = m.find(_GCOL, at + 1)
    return ""


def _walk_collection(m, start: int, file_size: int) -> str:
    coll = int.from_bytes(m[start + 8:start + 16], "little")
    if coll < 4096 or start + coll > file_size:
        return "" if coll < 4096 else f"global heap at byte {start} claims {coll} bytes, past the end of the file"
    p, end = start + 16, start + coll
    while p < end:
        if p + _OBJ_HEADER > end:
            break  # a tail too small for a header is free space
        idx = int.from_bytes(m[p:p + 2], "little")
        obj = int.from_bytes(m[p + 8:p + 16], "little")
        need = obj if idx == 0 else _OBJ_HEADER + ((obj + 7) // 8) * 8
        if need <= 0 or p + need > end:
            return f"global heap object at byte {p} has size {obj} (libhdf5 would loop or read past its heap)"
        p += need
    return ""


def _kind_ok(ds, kinds: str) -> bool:
    import h5py

    if "O" in kinds and h5py.check_string_dtype(ds.dtype) is not None:
        return True
    return ds.dtype.kind in kinds


def _need(group, name: str, where: str):
    import h5py

    if name not in group:
        raise LedgerError(f"{where}: dataset {group.name.rstrip('/')}/{name} is missing")
    ds = group[name]
    if not isinstance(ds, h5py.Dataset):
        raise LedgerError(f"{where}: {ds.name} is not a dataset")
    return ds


def check_ledger(f, path: str | os.PathLike) -> None:
    """Raise LedgerError naming the first dataset of ``f`` (an open h5py.File) that is wrong."""
    import h5py

    where = f"{path} is a corrupt ledger"
    t = f["tasks"]
    if not isinstance(t, h5py.Group):
        raise LedgerError(f"{where}: /tasks is not a group")
    datasets = {name: _need(t, name, where) for name in TASK_DATASETS}
    n = datasets["task_id"].shape[0] if datasets["task_id"].ndim == 1 else -1
    k = datasets["param_names"].shape[0] if datasets["param_names"].ndim == 1 else -1
    sizes = {"n": n, "k": k, "n+1": n + 1}
    for name, (kinds, shape) in TASK_DATASETS.items():
        ds = datasets[name]
        if not _kind_ok(ds, kinds):
            raise LedgerError(f"{where}: /tasks/{name} has dtype {ds.dtype}, expected {_kinds(kinds)}")
        want = tuple(sizes.get(s, -2) for s in shape)
        got = ds.shape
        if len(got) != len(want) or any(w >= 0 and g != w for g, w in zip(got, want)):
            shown = "(" + ", ".join(s if s != "*" else "any" for s in shape) + ")"
            raise LedgerError(f"{where}: /tasks/{name} has shape {got}, expected {shown} with n={n} tasks, k={k} parameters")
    if "metrics" not in t or not isinstance(t["metrics"], h5py.Group):
        raise LedgerError(f"{where}: group /tasks/metrics is missing")
    for key, ds in t["metrics"].items():
        if not isinstance(ds, h5py.Dataset) or ds.dtype.kind != "f" or ds.shape != (n,):
            raise LedgerError(f"{where}: /tasks/metrics/{key} must be float ({n},), got "
                              f"{getattr(ds, 'dtype', 'a group')} {getattr(ds, 'shape', '')}")
    if datasets["pitches"].shape != datasets["onsets_s"].shape:
        raise LedgerError(f"{where}: /tasks/pitches has {datasets['pitches'].shape[0]} notes, "
                          f"/tasks/onsets_s {datasets['onsets_s'].shape[0]}")
    _check_size(f, path)
    offsets = datasets["onset_offsets"][()]
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != datasets["onsets_s"].shape[0]:
        raise LedgerError(f"{where}: /tasks/onset_offsets must rise from 0 to {datasets['onsets_s'].shape[0]} "
                          f"(the number of stored notes)")
    status = datasets["status"][()]
    bad = ~np.isin(status, VALID_STATUS)
    if np.any(bad):
        raise LedgerError(f"{where}: /tasks/status holds {status[bad][0]} (valid: 0 pending, 1 done, 2 failed)")
    if "target" in f:
        _check_target(f["target"], where)


def _check_target(g, where: str) -> None:
    import h5py

    if not isinstance(g, h5py.Group):
        raise LedgerError(f"{where}: /target is not a group")
    lengths = set()
    for name, kinds in TARGET_DATASETS.items():
        ds = _need(g, name, where)
        if ds.dtype.kind not in kinds or ds.ndim != 1:
            raise LedgerError(f"{where}: /target/{name} has dtype {ds.dtype} and shape {ds.shape}, expected 1-D {_kinds(kinds)}")
        lengths.add(ds.shape[0])
    if len(lengths) > 1:
        raise LedgerError(f"{where}: the /target datasets differ in length ({sorted(lengths)})")


def _check_size(f, path) -> None:
    """A ledger (or a corrupt header claiming 10^12 rows) larger than memory can hold."""
    import h5py

    total = 0

    def add(name, obj):
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += int(np.prod(obj.shape, dtype=np.float64)) * max(obj.dtype.itemsize, 8)

    f.visititems(add)
    budget = memory_budget_bytes()
    if total > budget:
        raise ResourceLimitError(f"{path}: its datasets need {total / 2**30:.1f} GiB in memory; the limit is "
                                 f"{budget / 2**30:.1f} GiB (half of this machine's available memory)")


def _kinds(kinds: str) -> str:
    names = {"f": "float", "i": "int", "u": "unsigned int", "S": "string", "U": "string", "O": "string"}
    return " or ".join(dict.fromkeys(names[c] for c in kinds))
