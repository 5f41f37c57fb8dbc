"""Issue 11's cases, one test each: one `pyannow-hpc: error:` line, a documented
non-zero exit, nothing half-written, nothing that is not ours touched."""
from __future__ import annotations

import os
import stat
import sys

import h5py
import numpy as np
import pytest

from _cli import cli, temp_leftovers
from pyannow_hpc.errors import EXIT_CODES
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.music.target import save_midi
from pyannow_hpc.parallel.isolation import Task, run_isolated, run_task
from pyannow_hpc.store import ledger as L

import hostile_tasks

SWEEP = """backend = "{backend}"
[sampler]
n_samples = {n}
[params]
g_ca_boyle = [0.5, 1.0]
{extra}
[simulation]
duration_s = {duration}
[output]
ledger = "{ledger}"
"""


def sweep_toml(tmp_path, name="s.toml", *, backend="native", n=2, duration=0.1, extra="", ledger=None):
    path = tmp_path / name
    path.write_text(SWEEP.format(backend=backend, n=n, duration=duration, extra=extra,
                                 ledger=ledger or tmp_path / "s.h5"))
    return path


def test_every_exit_code_is_documented():
    readme = (os.path.join(os.path.dirname(__file__), "..", "..", "docs", "errors.md"))
    text = open(readme).read()
    for code in EXIT_CODES:
        assert f"| {code} " in text


# 2. outputs replace only regular files
@pytest.mark.parametrize("kind", ["fifo", "symlink", "chardev", "socket", "folder"])
def test_simulate_refuses_non_regular_outputs(tmp_path, kind):
    out = tmp_path / "s.h5"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "symlink":
        out.symlink_to(victim)
    elif kind == "chardev":
        os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null (root: CI and this machine)
    elif kind == "socket":
        import socket

        s = socket.socket(socket.AF_UNIX)
        s.bind(str(out))
    else:
        out.mkdir()
    mode = os.lstat(out).st_mode
    r = cli("simulate", "--duration-s", "0.05", "--out", out)
    assert r.rc == 4 and "refusing to write" in r.error and str(out) in r.error
    assert os.lstat(out).st_mode == mode and victim.read_text() == "keep"


def test_sweep_force_refuses_a_device_as_ledger(tmp_path):
    dev = tmp_path / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    cfg = sweep_toml(tmp_path, ledger=dev)
    for extra in ((), ("--force",), ("--dry-run",)):
        r = cli("sweep", cfg, "--no-progress", *extra)
        assert r.rc == 4 and "refusing to write" in r.error and "character device" in r.error
        assert stat.S_ISCHR(os.lstat(dev).st_mode)


def test_demo_refuses_a_symlinked_output_file_before_running(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "worm.wav").symlink_to(tmp_path / "elsewhere.wav")
    r = cli("demo", "--out", out, "--duration-s", "0.1", "--no-progress")
    assert r.rc == 4 and "worm.wav" in r.error and "symlink" in r.error
    assert sorted(p.name for p in out.iterdir()) == ["worm.wav"]


def test_report_and_merge_refuse_non_regular_outputs(tmp_path):
    led = _small_ledger(tmp_path / "a.h5")
    os.mkfifo(tmp_path / "m.h5")
    r = cli("merge", tmp_path / "m.h5", led)
    assert r.rc == 4 and "FIFO" in r.error
    (tmp_path / "rep").symlink_to(tmp_path)
    r = cli("report", led, "--out", tmp_path / "rep", "--no-progress")
    assert r.rc == 4 and "symlink" in r.error


# 3. stale-temp cleanup matches only its own pattern
def test_glob_ledger_name_deletes_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    others = [".other.h5.abcdefgh.h5", ".x.h5.12345678.h5", "other.h5", ".*.h5.notmine"]
    for name in others:
        (tmp_path / name).write_text("keep")
    stale = tmp_path / ".*.h5.ab_cd123.h5"  # what a SIGKILLed flush of "*.h5" leaves
    stale.write_text("")
    cfg = sweep_toml(tmp_path, ledger="*.h5")
    r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:ok")
    assert r.rc == 0, r.err
    assert all((tmp_path / n).read_text() == "keep" for n in others) and not stale.exists()


# 5. failed tasks, impossible settings
def test_all_tasks_failed_exits_8_with_first_error_of_each_kind(tmp_path):
    cfg = sweep_toml(tmp_path, n=3)
    r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:raises_key_error")
    assert r.rc == 8
    assert "3 of 3 tasks failed (allow_failures = 0)" in r.error and "KeyError" in r.error and "(x3)" in r.error
    cfg = sweep_toml(tmp_path, "ok.toml", n=3, extra="[scheduler]\nallow_failures = 3", ledger=tmp_path / "b.h5")
    r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:raises_key_error")
    assert r.rc == 0 and "3 failed tasks accepted" in r.err


def test_missing_container_runtime_fails_the_dry_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no apptainer
    monkeypatch.delenv("PYANNOW_CONTAINER_RUNTIME", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'backend = "container"\n[sampler]\nn_samples = 1\n[params]\ng_ca_boyle = [0.5, 1.0]\n'
                   f'[output]\nledger = "{tmp_path / "c.h5"}"\n')
    r = cli("sweep", cfg, "--dry-run")
    assert r.rc == 3 and "dry run: a short task" in r.error
    assert not (tmp_path / "c.h5").exists()


@pytest.mark.parametrize("extra, message", [
    ("[scheduler]\ntask_timeout_s = 1e-308", "task_timeout_s must be >= 0.01"),
    ("[simulation]\ndt_ms = 1e308", "dt_ms 1e+308 is longer than the whole simulation"),
    ("[fixed]\ng_k_slow = true", "fixed.g_k_slow must be a number, got True"),
    ('[fixed]\ng_k_slow = "3"', "fixed.g_k_slow must be a number, got '3'"),
    ("[sampler]\nn_samples = 2147483648", "2.147e+09 points x 1 parameters needs"),
    ("[shard]\ncount = 1000000000000000000", "shard count 1000000000000000000 exceeds the sweep's"),
])
def test_impossible_sweep_settings_are_one_line_even_in_dry_run(tmp_path, extra, message):
    text = sweep_toml(tmp_path).read_text()
    if extra.startswith("[sampler]"):
        text = text.replace("n_samples = 2", "n_samples = 2147483648")
    elif extra.startswith("[simulation]"):
        text = text.replace("[simulation]", extra)
    else:
        text += extra + "\n"
    (tmp_path / "s.toml").write_text(text)
    r = cli("sweep", tmp_path / "s.toml", "--dry-run")
    assert r.rc in (2, 5) and message in r.error, r.err


def test_grid_of_a_billion_points_is_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("PYANNOW_MEMORY_BUDGET_BYTES", str(2**30))
    cfg = tmp_path / "g.toml"
    cfg.write_text('[sampler]\nmethod = "grid"\nn_samples = 1\n[params]\n'
                   'g_ca_boyle = { range = [0.5, 1.0], points = 1000 }\ng_k_slow = { range = [0.5, 1.0], points = 1000 }\n'
                   'g_leak = { range = [0.01, 0.1], points = 1000 }\n')
    r = cli("sweep", cfg, "--dry-run")
    assert r.rc == 5 and "1e+09 points" in r.error and "the limit is 1 GiB" in r.error


# 6. tracebacks that are now one line
@pytest.mark.parametrize("args, code, message", [
    (("--duration-s", "100000"), 5, "needs ~71.5 GiB for its traces; the limit is"),
    (("--duration-s", "1e308"), 5, "more integration steps than the limit 2**53"),
    (("--refractory-ms", "1e308"), 2, "--refractory-ms must be <= 10000 ms"),
    (("--seed", "18446744073709551616"), 2, "seed must be in 0 .. 2**63-1"),
    (("--duration-s", "nan"), 2, "expected a finite number, got 'nan'"),
])
def test_simulate_bounds(tmp_path, monkeypatch, args, code, message):
    monkeypatch.setenv("PYANNOW_MEMORY_BUDGET_BYTES", str(8 * 2**30))
    r = cli("simulate", *args, "--out", tmp_path / "s.h5")
    assert r.rc == code and message in r.error
    assert list(tmp_path.iterdir()) == []


def test_name_too_long(tmp_path):
    r = cli("simulate", "--duration-s", "0.05", "--out", tmp_path / ("a" * 300 + ".h5"))
    assert r.rc == 4 and "File name too long" in r.error
    r = cli("simulate", "--duration-s", "0.05", "--out", tmp_path / ("b" * 250 + ".h5"))  # fits, its temp would not
    assert r.rc == 4 and "file name too long" in r.error and "at most" in r.error
    assert list(tmp_path.iterdir()) == []


def test_midi_with_altered_division_is_refused(tmp_path):
    path = save_midi(NoteSequence.from_arrays([0.0, 0.5, 60.0], [60, 62, 64]), tmp_path / "t.mid")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"MThd"
    data[12:14] = (1).to_bytes(2, "big")  # 1 tick per quarter instead of 1000: 1000x longer
    path.write_bytes(bytes(data))
    r = cli("demo", "--target", path, "--out", tmp_path / "d", "--no-progress")
    assert r.rc == 2 and "lasts" in r.error and "the longest accepted is 3600 s" in r.error
    assert not (tmp_path / "d").exists()  # refused before its output folder was made


def _small_ledger(path, n=4):
    led = L.LedgerData.new(np.arange(n), ("g_ca_boyle",), np.linspace(0.5, 1.0, n), np.arange(n),
                           attrs={"config_hash": "abc", "n_tasks_total": n, "backend": "native", "model": "boyle2008",
                                  "duration_s": 1.0, "window_start_s": 0.0},
                           target=NoteSequence.from_arrays([0.1, 0.5], [60, 64], name="t"))
    for i in range(n):
        led.record(i, L.DONE, {"onset_loss": 0.1 * i, "f1_mireval": 0.2, "f1_seed": 0.3}, onsets_s=[0.1], pitches=[60])
    return L.write_ledger(path, led)


def _corrupt(path, how):
    with h5py.File(path, "a") as f:
        t = f["tasks"]
        if how == "no status":
            del t["status"]
        elif how == "offsets decrease":
            del t["onset_offsets"]
            t["onset_offsets"] = np.array([0, 3, 1, 2, 4])
        elif how == "params wrong shape":
            del t["params"]
            t["params"] = np.zeros((3, 2))
        elif how == "error as int":
            del t["error"]
            t["error"] = np.zeros(4, dtype=int)
        elif how == "status 9":
            t["status"][0] = 9
        elif how == "metric 2-D":
            del t["metrics/onset_loss"]
            t["metrics/onset_loss"] = np.zeros((4, 2))


@pytest.mark.parametrize("how", ["no status", "offsets decrease", "params wrong shape", "error as int", "status 9",
                                 "metric 2-D", "truncated"])
def test_corrupt_ledgers_in_report_and_merge(tmp_path, how):
    path = _small_ledger(tmp_path / "a.h5")
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:3000])
    else:
        _corrupt(path, how)
    r = cli("report", path, "--out", tmp_path / "rep", "--no-progress")
    assert r.rc == 2 and str(path) in r.error
    assert not (tmp_path / "rep").exists()
    r = cli("merge", tmp_path / "m.h5", path)
    assert r.rc == 2 and str(path) in r.error and not (tmp_path / "m.h5").exists()


# 7. tasks that return nonsense or exit
@pytest.mark.parametrize("fn, message", [
    (hostile_tasks.returns_none, "TypeError: task returned NoneType, expected a TaskResult"),
    (hostile_tasks.non_numeric, "ValueError: could not convert string to float"),
    (hostile_tasks.exits_7, "SystemExit: task called os._exit(7)"),
])
def test_bad_task_results_are_failed_outcomes(fn, message):
    for run in (run_task, run_isolated):
        out = run(fn, Task(3, {"x": 1.0}, 1), timeout_s=30.0)
        assert out.status == L.FAILED and message in out.error, (run.__name__, out.error)


def test_isolated_error_carries_the_child_exception():
    out = run_isolated(hostile_tasks.raises_key_error, Task(5, {}, 1), timeout_s=30.0)
    assert out.error == "KeyError: 'no such muscle in task 5'"


def test_sweep_of_none_returning_tasks_exits_8(tmp_path):
    r = cli("sweep", sweep_toml(tmp_path), "--no-progress", "--task", "hostile_tasks:returns_none")
    assert r.rc == 8 and "TypeError: task returned NoneType" in r.error


# 8. smaller ones
def test_dry_run_checks_the_report_dir(tmp_path):
    (tmp_path / "blocker").write_text("")
    cfg = sweep_toml(tmp_path, extra=f'[output]\nreport = true\nreport_dir = "{tmp_path / "blocker" / "rep"}"')
    text = cfg.read_text().replace(f'[output]\nledger = "{tmp_path / "s.h5"}"\n', "")
    cfg.write_text(text.replace("report = true", f'report = true\nledger = "{tmp_path / "s.h5"}"'))
    r = cli("sweep", cfg, "--dry-run")
    assert r.rc == 4 and "blocker/rep cannot be created" in r.error and "blocker is not a writable folder" in r.error


def test_argparse_errors_are_one_line():
    for argv in (("simulate", "--dt-ms", "x"), ("sweep",), ("nosuch",), ("report", "--top", "two", "a.h5")):
        r = cli(*argv)
        assert r.rc == 2 and r.error.startswith("pyannow-hpc: error: pyannow-hpc") and "see --help" in r.error
        assert "usage:" not in r.err


def test_path_with_newline_is_one_line(tmp_path):
    r = cli("report", tmp_path / "a\nb.h5")
    assert r.rc == 2 and "a\\nb.h5" in r.error and r.err.count("\n") == 1


def test_second_writer_gets_the_lock_holder(tmp_path):
    import subprocess

    cfg = sweep_toml(tmp_path, n=40)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__), "FAKE_SLEEP": "1"}
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pyannow_hpc.store.lock import ledger_lock\n"
        f"with ledger_lock({str(tmp_path / 's.h5')!r}):\n    print('locked', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for extra in ((), ("--dry-run",)):
            r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:ok", *extra)
            assert r.rc == 6 and f"pid {holder.pid}" in r.error and "being written by another process" in r.error
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "s.h5").exists()
    r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:ok")  # the holder is gone: the lock with it
    assert r.rc == 0 and temp_leftovers(tmp_path) == []


def test_absurd_time_signature_is_refused_before_music21_loops(tmp_path):
    """The fuzz suite's find: music21 spends hours partitioning a bar of 10^9 beats."""
    from pyannow_hpc.errors import TargetError
    from pyannow_hpc.music.target import load_target
    from test_fuzz import MUSICXML

    path = tmp_path / "t.musicxml"
    path.write_text(MUSICXML.replace("<beats>3</beats>", "<beats>999999999</beats>"))
    with pytest.raises(TargetError, match="time signature 999999999/4 is out of range"):
        load_target(path)
    kern = tmp_path / "t.krn"
    kern.write_text("**kern\n*M999999999/4\n=1\n4c\n*-\n")
    with pytest.raises(TargetError, match="time signature 999999999/4"):
        load_target(kern)


def test_parse_time_limit_interrupts_a_python_loop(monkeypatch, tmp_path):
    from pyannow_hpc.errors import TargetError
    from pyannow_hpc.music import target as T

    monkeypatch.setattr(T, "PARSE_LIMIT_S", 0.2)

    def forever(path):
        while True:
            pass

    monkeypatch.setattr(T, "_read_midi", forever)
    (tmp_path / "t.mid").write_bytes(b"MThd")
    with pytest.raises(TargetError, match="parsing took longer than 0.2 s"):
        T.load_target(tmp_path / "t.mid")
