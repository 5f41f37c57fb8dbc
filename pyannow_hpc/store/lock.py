"""One writer per ledger: an advisory ``fcntl`` lock on a sidecar file.

    with ledger_lock("out/sweep.h5"):      # the sweep, the optimiser, refine ...
        ...read, run, flush...

The lock is ``fcntl.lockf`` (POSIX record lock) on ``.<ledger name>.lock``
beside the ledger, held for as long as the block runs and dropped by the
kernel when the process dies (kill -9 included), so a stale lock cannot
outlive its holder. The sidecar holds ``host pid utc`` of the holder; a second
writer gets :class:`~pyannow_hpc.errors.LockError` naming them (exit 6).
The sidecar file itself stays (removing it would race with the next locker).

NFS: POSIX locks go through the NFS lock manager (NLM on v3, built into v4),
so they work across nodes where the cluster runs it (most do). Where it does
not (``mount -o nolock``, or ``local_lock=all``), locks are only seen on one
node: two jobs on *different* nodes can then both write one ledger; keep
each sweep's ledger to one job, or put it on a local or Lustre/GPFS disk
(both lock across nodes).
"""
from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from pathlib import Path
from typing import Iterator

from ..errors import LockError, OutputError


#: sidecars this process holds: POSIX locks do not conflict within one process
#: (and closing any descriptor of the file drops them), so a second lock from
#: here is refused before the file is even opened
_HELD: set[str] = set()
#: bytes of the "host pid utc" record in the sidecar
RECORD_BYTES = 256


def lock_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p.with_name(f".{p.name}.lock")


def _open_sidecar(side: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(side, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"refusing to lock through {side}: it is a symlink") from None
        raise OutputError(f"cannot create the lock file {side}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"refusing to lock {side}: it is not a regular file")
    return fd


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, RECORD_BYTES, 0).decode(errors="replace").split()
    except OSError:
        text = []
    if len(text) >= 2:
        return f"host {text[0]}, pid {text[1]}" + (f", since {text[2]}" if len(text) > 2 else "")
    return "an unknown process"


@contextlib.contextmanager
def ledger_lock(path: str | os.PathLike, what: str = "ledger") -> Iterator[Path]:
    """Hold the write lock of ``path`` for the block; LockError if someone else holds it."""
    import fcntl

    from .provenance import utc_now

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    side = lock_path(path)
    key = os.path.realpath(side)
    if key in _HELD:
        raise LockError(f"{what} {path} is being written by this process (host {socket.gethostname()}, "
                        f"pid {os.getpid()}); use another output path (lock: {side})")
    fd = _open_sidecar(side)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                raise LockError(f"{what} {path} is being written by another process ({_holder(fd)}); "
                                f"wait for it, or use another output path (lock: {side})") from None
            if exc.errno == errno.ENOLCK:
                raise LockError(f"cannot lock {side}: this filesystem has no locking (NFS mounted with nolock?); "
                                "see pyannow_hpc/store/lock.py") from None
            raise
        try:
            # a fixed-width record overwrites the last holder's without ftruncate (6 ms on overlayfs)
            record = f"{socket.gethostname()} {os.getpid()} {utc_now()}".encode()[:RECORD_BYTES - 1]
            os.pwrite(fd, record.ljust(RECORD_BYTES - 1) + b"\n", 0)
        except OSError:  # a full disk: the lock holds anyway, only its label is missing
            pass
        _HELD.add(key)
        try:
            yield side
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # releases the lock


def held_here(path: str | os.PathLike) -> bool:
    """Whether this process holds ``path``'s lock now (a writer that holds it for a
    whole run flushes without taking it again)."""
    return os.path.realpath(lock_path(path)) in _HELD


def check_unlocked(path: str | os.PathLike, what: str = "ledger") -> None:
    """--dry-run: fail as a real run would if a writer holds the lock (takes it for an instant)."""
    with ledger_lock(path, what):
        pass
