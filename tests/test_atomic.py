"""Atomic writes: a failure (full disk, exception) never leaves a partial file."""
import errno
import os

import pytest

from pyannow_hpc.errors import OutputError
from pyannow_hpc.store.atomic import atomic_path, prepare_dir, write_text


def test_write_text_replaces_whole_file(tmp_path):
    p = tmp_path / "a" / "t.md"
    write_text(p, "one")
    write_text(p, "two")
    assert p.read_text() == "two"
    assert [x.name for x in p.parent.iterdir()] == ["t.md"]


def test_full_disk_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "r.txt"
    p.write_text("old")

    with pytest.raises(OutputError, match="no space left on device while writing .*r.txt"):
        with atomic_path(p) as tmp:
            tmp.write_text("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.txt"]


def test_exception_inside_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "x.h5") as tmp:
            tmp.write_bytes(b"123")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_temp_keeps_suffix_for_format_sniffing(tmp_path):
    with atomic_path(tmp_path / "a.wav") as tmp:
        assert tmp.suffix == ".wav" and tmp.parent == tmp_path
        tmp.write_bytes(b"x")


def test_unwritable_folder_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot create output folder"):
        prepare_dir(blocker / "sub")


def test_result_files_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "r.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.md").stat().st_mode & 0o777 == 0o644
