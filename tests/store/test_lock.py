"""The ledger's write lock: one writer, the second told who holds it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from pyannow_hpc.errors import LockError, OutputError
from pyannow_hpc.store.lock import check_unlocked, ledger_lock, lock_path


def test_second_lock_in_this_process_is_refused_then_free_again(tmp_path):
    path = tmp_path / "s.h5"
    with ledger_lock(path) as side:
        assert side == lock_path(path) == tmp_path / ".s.h5.lock"
        assert side.read_text().split()[:2] == [socket.gethostname(), str(os.getpid())]
        with pytest.raises(LockError, match=f"being written by this process .*pid {os.getpid()}"):
            with ledger_lock(path):
                pass
        with pytest.raises(LockError):
            check_unlocked(path)
    check_unlocked(path)  # released
    with ledger_lock(path):
        pass


def test_lock_held_by_another_process_names_host_and_pid(tmp_path):
    path = tmp_path / "s.h5"
    proc = subprocess.Popen([sys.executable, "-c", (
        "import time; from pyannow_hpc.store.lock import ledger_lock\n"
        f"with ledger_lock({str(path)!r}):\n    print('in', flush=True); time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "in"
        with pytest.raises(LockError, match=f"another process \\(host {socket.gethostname()}, pid {proc.pid}, since "):
            with ledger_lock(path):
                pass
    finally:
        proc.kill()  # kill -9: the kernel drops the lock with the process
        proc.wait()
    with ledger_lock(path):
        pass


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_sidecar_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    side = lock_path(tmp_path / "s.h5")
    if kind == "symlink":
        side.symlink_to(tmp_path / "elsewhere")
    else:
        os.mkfifo(side)
    with pytest.raises(OutputError, match="refusing to lock"):
        with ledger_lock(tmp_path / "s.h5"):
            pass
    assert not (tmp_path / "elsewhere").exists()
