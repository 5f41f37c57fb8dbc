"""The native launcher: no shell, argv validation, process-group kill, task dirs."""
import os
import signal
import time

import pytest

from pyannow_hpc import launch
from pyannow_hpc.errors import ConfigError, RuntimeNotFoundError, SimulationError


def test_argv_reaches_the_program_verbatim_without_a_shell(tmp_path):
    weird = ["$(touch pwned)", "a b", "; rm -rf /", "`id`", "*", "'\"", "é"]
    out = tmp_path / "out.txt"
    res = launch.run(["printf", "%s\\n", *weird], timeout_s=10, stdout=out)
    assert res.exit_code == 0
    assert out.read_text().splitlines() == weird
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


def test_exit_code_stderr_capture_cwd_and_env(tmp_path):
    res = launch.run(["sh", "-c", "pwd; echo \"$PW_X\" >&2; exit 7"], timeout_s=10, cwd=tmp_path,
                     env={"PW_X": "hello", "PATH": os.environ["PATH"]}, stdout=tmp_path / "o", stderr=tmp_path / "e")
    assert res.exit_code == 7 and res.term_signal == 0
    assert (tmp_path / "o").read_text().strip() == str(tmp_path)
    assert res.tail() == "hello"


def test_child_killed_by_signal_is_reported(tmp_path):
    res = launch.run(["sh", "-c", "kill -SEGV $$"], timeout_s=10)
    assert res.exit_code == -1 and res.term_signal == signal.SIGSEGV


def test_timeout_kills_the_whole_process_group(tmp_path, alive):
    pidfile = tmp_path / "pids"
    # the leader ignores SIGTERM and has a grandchild: SIGKILL to the group must take both
    script = f"trap '' TERM; sleep 600 & echo $$ $! > {pidfile}; wait"
    t0 = time.monotonic()
    with pytest.raises(SimulationError, match="limit"):
        launch.run(["sh", "-c", script], timeout_s=1.0, kill_grace_s=0.3)
    assert time.monotonic() - t0 < 5
    pids = [int(x) for x in pidfile.read_text().split()]
    time.sleep(0.1)
    assert not any(alive(p) for p in pids)


def test_missing_program_and_bad_values(tmp_path):
    with pytest.raises(RuntimeNotFoundError, match="not found on PATH"):
        launch.run(["pyannow-no-such-runtime"], timeout_s=1)
    with pytest.raises(ConfigError, match="NUL"):
        launch.run(["echo", "a\x00b"], timeout_s=1)
    with pytest.raises(ConfigError, match="timeout_s"):
        launch.run(["true"], timeout_s=float("nan"))
    with pytest.raises(SimulationError, match="cannot start"):
        launch.run(["true"], timeout_s=5, cwd=tmp_path / "missing")
    assert launch.which("sh").endswith("/sh") and launch.which("pyannow-no-such-runtime") is None


def test_check_helpers():
    assert launch.check_number(0.5, "x", 0, 1) == "0.5"
    assert launch.check_number(100.0, "n", 1, 1e9, integer=True) == "100"
    for bad in ("nan", float("inf"), -1, "abc", None):
        with pytest.raises(ConfigError):
            launch.check_number(bad, "x", 0, 10)
    with pytest.raises(ConfigError, match="whole number"):
        launch.check_number(2.5, "n", 0, 10, integer=True)
    with pytest.raises(ConfigError, match="cannot be mounted"):
        launch.check_path("/tmp/a:b", "out", mount=True, must_exist=False)
    with pytest.raises(ConfigError, match="does not exist"):
        launch.check_path("/nonexistent/dir", "out")


def test_task_dir_removed_on_every_path_without_following_symlinks(tmp_path):
    keep = tmp_path / "shared_cache"
    keep.mkdir()
    (keep / "lib.so").write_text("x")
    base = tmp_path / "base"
    with launch.task_dir(prefix="t-", base=base) as d:
        assert d.parent == base and oct(d.stat().st_mode & 0o777) == "0o700"
        (d / "sub").mkdir()
        (d / "sub" / "f").write_text("data")
        os.symlink(keep, d / "link")
    assert list(base.iterdir()) == [] and (keep / "lib.so").exists()
    with pytest.raises(RuntimeError):
        with launch.task_dir(base=base) as d:
            (d / "f").write_text("x")
            raise RuntimeError("boom")
    assert list(base.iterdir()) == []
    with pytest.raises(SimulationError):
        with launch.task_dir(base=base) as d:
            launch.run(["sleep", "30"], timeout_s=0.3, cwd=d, kill_grace_s=0.1)
    assert list(base.iterdir()) == []


_CALLER = """
import sys, time
from pyannow_hpc import launch
with launch.task_dir(prefix="sig-", base=sys.argv[1]) as d:
    print(d, flush=True)
    launch.run(["sh", "-c", "sleep 60 & echo $$ $! > " + sys.argv[2] + "; wait"], timeout_s=60, cwd=d, kill_grace_s=0.5)
"""


def _start_caller(tmp_path):
    import subprocess
    import sys

    base, pids = tmp_path / "base", tmp_path / "pids"
    base.mkdir()
    p = subprocess.Popen([sys.executable, "-c", _CALLER, str(base), str(pids)], stdout=subprocess.PIPE, text=True)
    task = p.stdout.readline().strip()
    for _ in range(200):
        if pids.exists() and len(pids.read_text().split()) == 2:
            break
        time.sleep(0.02)
    return p, base, task, [int(x) for x in pids.read_text().split()]


def test_caller_sigterm_kills_the_group_and_removes_the_task_dir(tmp_path, alive):
    p, base, task, pids = _start_caller(tmp_path)
    assert os.path.isdir(task) and all(alive(x) for x in pids)
    p.send_signal(signal.SIGTERM)  # what Slurm sends at the end of a job
    assert p.wait(timeout=20) == 128 + signal.SIGTERM
    time.sleep(0.1)
    assert not any(alive(x) for x in pids) and list(base.iterdir()) == []


def test_caller_sigkill_takes_the_child_along(tmp_path, alive):
    p, base, task, pids = _start_caller(tmp_path)
    p.kill()  # a sweep's task timeout: no chance to clean up in the caller ...
    p.wait(timeout=10)
    for _ in range(100):
        if not alive(pids[0]):
            break
        time.sleep(0.05)
    assert not alive(pids[0])  # ... but the launched leader dies with it (PR_SET_PDEATHSIG)
    try:  # its own children are beyond PDEATHSIG (a documented limit): tidy up
        os.kill(pids[1], signal.SIGKILL)
    except ProcessLookupError:
        pass
