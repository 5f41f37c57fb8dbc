"""Load libpyannow (the C ABI in native/include/pyannow.h) with ctypes.

Search order: ``$PYANNOW_NATIVE_LIB``; the package's own ``_native/`` folder
(where a wheel and ``make native`` put it); ``pyannow_hpc/_native/`` under each
``sys.path`` entry (where an editable install puts it).  The loaded
library's ``pw_abi_version()`` must equal :data:`ABI_VERSION`; a missing or
stale library raises :class:`~pyannow_hpc.errors.NativeLibraryError` naming
the path and the fix.
"""
from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path

from .errors import NativeLibraryError

#: The ABI this Python code was written for (PW_ABI_VERSION in pyannow.h).
ABI_VERSION = 1

_LIBNAME = {"darwin": "libpyannow.dylib", "win32": "pyannow.dll"}.get(sys.platform, "libpyannow.so")


def candidate_paths() -> list[Path]:
    """Where the library is looked for, in order."""
    paths = []
    env = os.environ.get("PYANNOW_NATIVE_LIB")
    if env:
        paths.append(Path(env))
    paths.append(Path(__file__).resolve().parent / "_native" / _LIBNAME)
    # an editable install (scikit-build-core redirect mode) keeps the Python
    # sources in the checkout but installs the compiled library in site-packages
    for entry in sys.path:
        p = Path(entry or ".") / "pyannow_hpc" / "_native" / _LIBNAME
        if p not in paths:
            paths.append(p)
    return paths


@functools.lru_cache(maxsize=None)
def load() -> ctypes.CDLL:
    """Return the loaded library, checking its ABI version (cached)."""
    tried = candidate_paths()
    for path in tried:
        if not path.exists():
            continue
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as exc:
            raise NativeLibraryError(f"cannot load native library {path}: {exc}") from None
        lib.pw_abi_version.restype = ctypes.c_int
        found = lib.pw_abi_version()
        if found != ABI_VERSION:
            raise NativeLibraryError(
                f"native library {path} has ABI version {found}, this pyannow_hpc needs "
                f"{ABI_VERSION}: rebuild it with `make native` (or reinstall the package)"
            )
        lib.pw_build_info.restype = ctypes.c_char_p
        lib.pw_strerror.restype = ctypes.c_char_p
        lib.pw_strerror.argtypes = [ctypes.c_int]
        lib.pw_normal.restype = ctypes.c_double
        lib.pw_normal.argtypes = [ctypes.c_uint64, ctypes.c_uint64]
        return lib
    where = ", ".join(str(p) for p in tried)
    raise NativeLibraryError(f"native library {_LIBNAME} not found (looked in {where}): build it with `make native`")


def check(status: int, what: str) -> None:
    """Raise for a negative pw_status returned by ``what``."""
    if status != 0:
        msg = load().pw_strerror(status).decode()
        from .errors import SimulationError

        raise SimulationError(f"{what} failed: {msg} (status {status})")


def build_info() -> str:
    return load().pw_build_info().decode()
