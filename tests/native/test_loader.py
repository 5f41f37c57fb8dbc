"""The ctypes loader: a missing or wrong-ABI library is a NativeLibraryError naming the path."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from pyannow_hpc import _native
from pyannow_hpc.errors import NativeLibraryError


@pytest.fixture
def fresh_loader(monkeypatch):
    _native.load.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    _native.load.cache_clear()


def test_loads_and_reports_build(fresh_loader):
    lib = _native.load()
    assert lib.pw_abi_version() == _native.ABI_VERSION
    info = _native.build_info()
    assert "libpyannow" in info and f"abi={_native.ABI_VERSION}" in info and "kernel=" in info


def test_wrong_abi_names_path_and_fix(tmp_path, fresh_loader):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed to build the native library, so tests may use it too"
    src = tmp_path / "fake.c"
    src.write_text("int pw_abi_version(void) { return 999; }\n")
    lib = tmp_path / "libfake.so"
    subprocess.run([cc, "-shared", "-fPIC", str(src), "-o", str(lib)], check=True)
    fresh_loader.setenv("PYANNOW_NATIVE_LIB", str(lib))
    # $PYANNOW_NATIVE_LIB is tried before the package's own library
    with pytest.raises(NativeLibraryError) as exc:
        _native.load()
    msg = str(exc.value)
    assert str(lib) in msg and "999" in msg and "make native" in msg


def test_missing_library_names_where_it_looked(tmp_path, fresh_loader):
    missing = tmp_path / "nowhere" / "libpyannow.so"
    fresh_loader.setenv("PYANNOW_NATIVE_LIB", str(missing))
    fresh_loader.setattr(_native, "candidate_paths", lambda: [missing])
    with pytest.raises(NativeLibraryError) as exc:
        _native.load()
    assert str(missing) in str(exc.value) and "make native" in str(exc.value)


def test_unloadable_file_names_path(tmp_path, fresh_loader):
    junk = tmp_path / "libpyannow.so"
    junk.write_bytes(b"not an ELF file")
    fresh_loader.setenv("PYANNOW_NATIVE_LIB", str(junk))
    with pytest.raises(NativeLibraryError) as exc:
        _native.load()
    assert str(junk) in str(exc.value)
