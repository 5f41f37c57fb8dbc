"""Load libpyannow (the C ABI in native/include/pyannow.h) with ctypes.

The library describes itself (pyannow.h, sections [core] and [fields]): its
status codes (:func:`status`) and, for every struct, each field's name, type,
unit, default, bounds and offset and the struct's size (:func:`struct_info`).
The ctypes structs are built from those tables at load time (:func:`struct`)
and their layout checked against the C sizes and offsets, so a field added in
C appears here, and a layout Python cannot reproduce fails loudly.

Search order: ``$PYANNOW_NATIVE_LIB``; the package's own ``_native/`` folder
(where a wheel and ``make native`` put it); ``pyannow_hpc/_native/`` under each
``sys.path`` entry (where an editable install puts it).  The loaded
library's ``pw_abi_version()`` must equal :data:`ABI_VERSION`; a missing or
stale library raises :class:`~pyannow_hpc.errors.NativeLibraryError` naming
the path and the fix.
"""
from __future__ import annotations

import ctypes
import enum
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import NativeLibraryError

#: The ABI this Python code was written for (PW_ABI_VERSION in pyannow.h).
ABI_VERSION = 2

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
        lib.pw_status_count.restype = lib.pw_struct_count.restype = ctypes.c_int
        lib.pw_status_at.restype = ctypes.POINTER(_StatusInfo)
        lib.pw_status_at.argtypes = [ctypes.c_int]
        lib.pw_struct_at.restype = ctypes.POINTER(_StructInfo)
        lib.pw_struct_at.argtypes = [ctypes.c_int]
        return lib
    where = ", ".join(str(p) for p in tried)
    raise NativeLibraryError(f"native library {_LIBNAME} not found (looked in {where}): build it with `make native`")


def check(status: int, what: str) -> None:
    """Raise for a negative pw_status returned by ``what``."""
    if status != status_codes().PW_OK:
        msg = load().pw_strerror(status).decode()
        from .errors import SimulationError

        raise SimulationError(f"{what} failed: {msg} (status {status})")


def build_info() -> str:
    return load().pw_build_info().decode()


# ----------------------------------------------------------- the self-description
class _StatusInfo(ctypes.Structure):  # pw_status_info: fixed by the ABI version itself
    _fields_ = [("code", ctypes.c_int32), ("name", ctypes.c_char_p), ("message", ctypes.c_char_p)]


class _Field(ctypes.Structure):  # pw_field
    _fields_ = [("name", ctypes.c_char_p), ("unit", ctypes.c_char_p), ("default_value", ctypes.c_double),
                ("lower", ctypes.c_double), ("upper", ctypes.c_double), ("offset", ctypes.c_size_t),
                ("type", ctypes.c_int32), ("count", ctypes.c_int32), ("flags", ctypes.c_int32),
                ("doc", ctypes.c_char_p)]


class _StructInfo(ctypes.Structure):  # pw_struct_info
    _fields_ = [("name", ctypes.c_char_p), ("size", ctypes.c_size_t), ("n_fields", ctypes.c_int32),
                ("fields", ctypes.POINTER(_Field))]


#: enum pw_field_type -> ctypes type
_CTYPES = {0: ctypes.c_double, 1: ctypes.c_int64, 2: ctypes.c_int32, 3: ctypes.c_uint64, 4: ctypes.c_void_p,
           5: ctypes.POINTER(ctypes.c_int64), 6: ctypes.POINTER(ctypes.c_int32)}
FIELD_CONSTANT, FIELD_OUTPUT, FIELD_LOWER_OPEN = 1, 2, 4  # enum pw_field_flags


@dataclass(frozen=True)
class FieldInfo:
    """One row of a C field table."""

    name: str
    unit: str
    default: float  # NaN: none
    lower: float
    upper: float
    offset: int
    type: int
    count: int
    flags: int
    doc: str

    @property
    def constant(self) -> bool:
        return bool(self.flags & FIELD_CONSTANT)

    @property
    def lower_open(self) -> bool:
        return bool(self.flags & FIELD_LOWER_OPEN)

    def admits(self, lower: float, upper: float) -> bool:
        """Whether every value in [lower, upper] passes the kernel's bounds check."""
        low_ok = lower > self.lower if self.lower_open else lower >= self.lower
        return low_ok and upper <= self.upper


@dataclass(frozen=True)
class StructInfo:
    name: str
    size: int
    fields: tuple[FieldInfo, ...]

    def __getitem__(self, name: str) -> FieldInfo:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def constants(self) -> dict[str, float]:
        """The model constants of this struct: their values live in the C table alone."""
        return {f.name: f.default for f in self.fields if f.constant}


def _text(b: bytes | None) -> str:
    return (b or b"").decode()


@functools.lru_cache(maxsize=None)
def _tables() -> dict[str, StructInfo]:
    lib = load()
    out = {}
    for i in range(lib.pw_struct_count()):
        s = lib.pw_struct_at(i).contents
        fields = tuple(
            FieldInfo(_text(f.name), _text(f.unit), f.default_value, f.lower, f.upper, f.offset, f.type, f.count,
                      f.flags, _text(f.doc))
            for f in (s.fields[k] for k in range(s.n_fields))
        )
        out[_text(s.name)] = StructInfo(_text(s.name), s.size, fields)
    return out


def struct_info(name: str) -> StructInfo:
    """The C field table of struct ``name`` (``"pw_drive"``)."""
    try:
        return _tables()[name]
    except KeyError:
        raise NativeLibraryError(f"the native library has no struct {name!r} (it has: {', '.join(_tables())}): "
                                 "rebuild it with `make native`") from None


@functools.lru_cache(maxsize=None)
def struct(name: str) -> type[ctypes.Structure]:
    """The ctypes class of C struct ``name``, built from its field table and
    checked against the C layout (size and every offset)."""
    info = struct_info(name)
    fields = []
    for f in sorted(info.fields, key=lambda f: f.offset):
        if f.type not in _CTYPES:
            raise NativeLibraryError(f"{name}.{f.name}: unknown field type {f.type} (library newer than this code?)")
        ctype = _CTYPES[f.type]
        fields.append((f.name, ctype * f.count if f.count > 1 else ctype))
    cls = type(name, (ctypes.Structure,), {"_fields_": fields, "__doc__": f"ctypes mirror of C {name}"})
    bad = [f.name for f in info.fields if getattr(cls, f.name).offset != f.offset]
    if ctypes.sizeof(cls) != info.size or bad:
        raise NativeLibraryError(
            f"ctypes layout of {name} does not match the library (size {ctypes.sizeof(cls)} vs {info.size}, "
            f"misplaced fields: {', '.join(bad) or 'none'}): a field type the table does not describe?")
    return cls


def fill(name: str, values, *, what: str = "") -> ctypes.Structure:
    """An instance of struct ``name`` with every field set: from ``values`` (a
    mapping; sequences for array fields), or the C table's value for a
    PW_FIELD_CONSTANT field.  A field with neither, or a value naming no field,
    is a NativeLibraryError: Python and C disagree about the struct."""
    info, cls = struct_info(name), struct(name)
    obj = cls()
    unknown = set(values) - set(info.names)
    if unknown:
        raise NativeLibraryError(f"{what or name}: values for fields {sorted(unknown)} that {name} does not have "
                                 "(rebuild the native library?)")
    for f in info.fields:
        if f.flags & FIELD_OUTPUT:
            continue
        if f.name in values:
            v = values[f.name]
        elif f.constant:
            v = f.default
        else:
            raise NativeLibraryError(f"{what or name}: field {name}.{f.name} ({f.unit or 'no unit'}) has no value: "
                                     "give it a parameter in the model's space or mark it PW_FIELD_CONSTANT in C")
        if f.count > 1:
            setattr(obj, f.name, (_CTYPES[f.type] * f.count)(*v))
        else:
            setattr(obj, f.name, v)
    return obj


@functools.lru_cache(maxsize=None)
def status_codes() -> type[enum.IntEnum]:
    """The library's status codes as an IntEnum (``status_codes().PW_E_NONFINITE``),
    read from its table: the header's PW_STATUS_LIST is their one definition."""
    lib = load()
    rows = [lib.pw_status_at(i).contents for i in range(lib.pw_status_count())]
    return enum.IntEnum("Status", {_text(r.name): r.code for r in rows})
