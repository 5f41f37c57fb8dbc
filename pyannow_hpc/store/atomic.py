"""Atomic file writes: write to a temporary sibling, fsync, then os.replace.

A crash, a kill or a full disk leaves either the old file or the new one,
never a half-written result. The rules every output follows:

- an output only ever replaces a *regular file*: a symlink, device node,
  FIFO, socket or folder at the output path is refused (as root,
  ``--out /dev/null`` would otherwise replace the machine's /dev/null);
- the temporary sibling is ``.<name>.<8 random chars><suffix>``, created
  with O_EXCL by :func:`tempfile.mkstemp` (unguessable, never an existing
  file) and removed on every exit path: an exception, a full disk, Ctrl-C,
  SIGTERM/SIGHUP (the CLI turns them into SystemExit); only SIGKILL can leave
  one, and :func:`own_temps` finds exactly those (a fixed pattern on the
  name, no glob of user text);
- HDF5 files are built in memory (:func:`atomic_bytes`) and written with
  plain ``os.write``: libhdf5 crashes (SIGSEGV) on a full disk, ``os.write``
  raises ENOSPC, which becomes one line.
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import OutputError

#: tempfile.mkstemp's random part: 8 characters of this alphabet
_RANDOM = r"[a-z0-9_]{8}"
#: bytes kept free beyond a write's own size (filesystem metadata, the rename)
FREE_MARGIN_BYTES = 64 * 1024


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_output_file(path: str | os.PathLike) -> Path:
    """Refuse an output path that exists and is not a regular file (or is a symlink)."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        return p  # nothing there yet; creating its folder says what is wrong
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"refusing to write {p}: it is {_kind(st.st_mode)}, which cannot be replaced by an "
                          "output (only regular files are)")
    return p


def check_output_dir(path: str | os.PathLike) -> Path:
    """Refuse an output folder that exists as anything but a real folder (a symlink included)."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        return p
    except OSError as exc:
        raise OutputError(f"cannot use output folder {p}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"refusing to use {p} as output folder: it is {_kind(st.st_mode)}")
    return p


def check_creatable_dir(path: str | os.PathLike) -> Path:
    """An output folder that is ours or can be made: checked now, created only when
    the first file is written (a command that fails early leaves no empty folder)."""
    p = check_output_dir(path)
    parent = next((q for q in (p, *p.parents) if os.path.lexists(q)), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"output folder {p} cannot be created: {parent} is not a writable folder")
    return p


def prepare_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (a directory) or raise OutputError saying why not."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {p}: {exc.strerror}") from None
    if not os.access(p, os.W_OK):
        raise OutputError(f"output folder {p} is not writable")
    return p


def output_dir(path: str | os.PathLike) -> Path:
    """An output folder the command owns: not a symlink/file/device, created if missing."""
    return prepare_dir(check_output_dir(path))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _temp_prefix(final: Path, suffix: str) -> str:
    prefix = f".{final.name}."
    longest = _name_max(final.parent)
    if len(os.fsencode(prefix + "x" * 8 + suffix)) > longest:
        raise OutputError(f"file name too long: {final.name[:40]}... ({len(os.fsencode(final.name))} bytes); "
                          f"at most {longest - 10 - len(suffix)} bytes here ({longest} minus the temporary file's "
                          f"{10 + len(suffix)})")
    return prefix


def own_temps(path: str | os.PathLike, suffix: str | None = None) -> list[Path]:
    """Temporary siblings :func:`atomic_path` made for ``path`` (left by SIGKILL).

    Matched by exact prefix and a fixed pattern, never by a glob built from the
    file name: a ledger called ``*.h5`` must not match other files.
    """
    final = Path(path)
    suffix = final.suffix if suffix is None else suffix
    pattern = re.compile(re.escape(f".{final.name}.") + _RANDOM + re.escape(suffix))
    try:
        names = os.listdir(final.parent)
    except OSError:
        return []
    return sorted(final.parent / n for n in names if pattern.fullmatch(n) and (final.parent / n).is_file()
                  and not (final.parent / n).is_symlink())


def free_bytes(folder: str | os.PathLike) -> int | None:
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def check_free_space(path: str | os.PathLike, need_bytes: int) -> None:
    """Fail before writing ``need_bytes`` next to ``path`` if the disk cannot take them."""
    final = Path(path)
    free = free_bytes(final.parent)
    if free is not None and need_bytes + FREE_MARGIN_BYTES > free:
        raise OutputError(f"no space left on device for {final}: it needs {_mib(need_bytes)}, "
                          f"{_mib(free)} free on its filesystem")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def _os_error(final: Path, exc: OSError) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"no space left on device while writing {final}")
    if exc.errno == errno.ENAMETOOLONG:
        return OutputError(f"file name too long: {final}")
    return OutputError(f"cannot write {final}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    ``suffix`` defaults to the target's suffix so libraries that pick the format
    from the extension (soundfile, matplotlib) still do.
    """
    final = check_output_file(path)
    prepare_dir(final.parent)
    suffix = final.suffix if suffix is None else suffix
    try:
        # hidden sibling on the same filesystem, so os.replace is atomic; O_EXCL + random name
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(final, suffix), suffix=suffix, dir=final.parent)
    except OSError as exc:
        raise _os_error(final, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
        check_output_file(final)  # a symlink/device put there while we wrote is not replaced either
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _os_error(final, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


@contextlib.contextmanager
def atomic_bytes(path: str | os.PathLike, suffix: str | None = None, what: str = "file") -> Iterator[io.BytesIO]:
    """Yield an in-memory buffer; on success its bytes replace ``path`` atomically.

    For writers that crash rather than fail on a full disk (libhdf5) or that
    raise odd types (h5py's TypeError for a value it cannot store): they only
    ever touch memory, so any failure of theirs becomes one OutputError, and
    the disk sees one ``os.write`` loop after a free-space check.
    """
    final = check_output_file(path)
    buf = io.BytesIO()
    try:
        yield buf
    except (OutputError, KeyboardInterrupt, SystemExit):
        raise
    except (RuntimeError, ValueError, TypeError, KeyError, OSError) as exc:  # what h5py / soundfile raise
        msg = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise OutputError(f"cannot write {what} {final}: {type(exc).__name__}: {msg}") from None
    data = buf.getbuffer()
    check_free_space(final, len(data))
    with atomic_path(final, suffix=suffix) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)


def write_text(path: str | os.PathLike, text: str) -> Path:
    data = text.encode()
    check_free_space(path, len(data))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
