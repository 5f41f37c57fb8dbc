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


def test_outputs_only_replace_regular_files(tmp_path):
    from pyannow_hpc.store.atomic import atomic_bytes

    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    os.mkfifo(tmp_path / "fifo.txt")
    for path, kind in ((link, "a symlink"), (tmp_path / "fifo.txt", "a FIFO"), (tmp_path, "a folder")):
        with pytest.raises(OutputError, match=f"refusing to write .*: it is {kind}"):
            write_text(path, "x")
        with pytest.raises(OutputError, match="refusing to write"):
            with atomic_bytes(path) as buf:
                buf.write(b"x")
    assert target.read_text() == "keep" and link.is_symlink()


def test_stale_temps_match_only_the_exact_pattern(tmp_path):
    from pyannow_hpc.store.atomic import own_temps

    mine = [".*.h5.abcd1234.h5", ".*.h5.a_b_c_d_.h5"]
    others = [".x.h5.abcd1234.h5", ".*.h5.abcd12345.h5", ".*.h5.ABCD1234.h5", ".*.h5.abcd1234.h5.bak", "*.h5"]
    for name in mine + others:
        (tmp_path / name).write_text("")
    assert [p.name for p in own_temps(tmp_path / "*.h5")] == sorted(mine)


def test_temp_removed_on_sigterm(tmp_path):
    import subprocess
    import sys

    code = ("import os, signal, sys, time\nfrom pyannow_hpc.cli import _terminate\n"
            "from pyannow_hpc.store.atomic import atomic_path\nsignal.signal(signal.SIGTERM, _terminate)\n"
            f"with atomic_path({str(tmp_path / 'r.h5')!r}) as tmp:\n    print(tmp, flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    tmp = proc.stdout.readline().strip()
    assert os.path.exists(tmp) and os.path.basename(tmp).startswith(".r.h5.")
    proc.terminate()
    assert proc.wait(timeout=30) == 143
    assert list(tmp_path.iterdir()) == []


def test_h5py_failure_while_building_is_one_output_error(tmp_path):
    import h5py

    from pyannow_hpc.store.atomic import atomic_bytes

    with pytest.raises(OutputError, match="cannot write result .*r.h5: TypeError"):
        with atomic_bytes(tmp_path / "r.h5", what="result") as buf, h5py.File(buf, "w") as f:
            f.attrs["seed"] = 2**64  # h5py cannot store it: a TypeError
    assert list(tmp_path.iterdir()) == []
