"""`pyannow-hpc sweep` launched for real: `mpiexec -n N python -m pyannow_hpc sweep ...`.

These run in the serial tier and start their own MPI jobs (mpiexec comes from
the mpich wheel in the venv), so they can use 1, 2 and 3 ranks and SIGKILL a
whole job.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sweep_config import sweep_toml
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.music.target import save_midi
from pyannow_hpc.store import ledger as L

MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")

#: three varied parameters, flushing often (the kill tests read the ledger as it grows)
PARAMS = {"g_egl19": {"range": [2.0, 20.0], "scale": "log"}, "v_half_ca_mV": [-40, -5],
          "tau_ca_ms": {"range": [5.0, 40.0], "scale": "log"}}


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA_", "MPI_", "OMPI_", "PMIX_"))}
    here = os.path.dirname(os.path.abspath(__file__))  # fake_tasks for --task
    e.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(p for p in (here, e.get("PYTHONPATH")) if p))
    return e


def write_cfg(tmp_path, name, n=12, duration_s=2.0):
    target = tmp_path / "target.mid"
    if not target.exists():
        rng = np.random.default_rng(0)
        save_midi(NoteSequence.from_arrays(np.sort(rng.uniform(0, 10, 40)), rng.integers(40, 90, 40), name="t"), target)
    path = tmp_path / f"{name}.toml"
    path.write_text(sweep_toml(tmp_path / f"{name}.h5", target=target, n_samples=n, seed=7, params=PARAMS,
                               simulation={"duration_s": duration_s}, output={"flush_every_s": 0.05}))
    return path


def launch(cfg_path, n_ranks, *extra, **popen):
    cmd = [MPIEXEC, "-n", str(n_ranks), sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg_path), "--no-progress", *extra]
    return subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def finish(proc, timeout=120):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def test_real_sweep_is_bitwise_identical_on_1_2_and_3_ranks(tmp_path):
    """The native surrogate + onsets + metrics, per task, whatever the rank count."""
    ledgers = []
    for n_ranks in (1, 2, 3):
        cfg = write_cfg(tmp_path, f"r{n_ranks}")
        out = finish(launch(cfg, n_ranks))
        assert f"on {n_ranks} rank(s)" in out and "12 ok, 0 failed" in out
        ledgers.append(L.read_ledger(tmp_path / f"r{n_ranks}.h5"))
    assert ledgers[0].counts()["done"] == 12
    assert sum(len(o) for o in ledgers[0].onsets_s) > 0  # the worm did play notes
    for led, n_ranks in zip(ledgers[1:], (2, 3)):
        assert L.diff_results(ledgers[0], led) == []
        assert led.attrs["mpi_size"] == n_ranks


def test_sigkill_mid_sweep_then_resume_equals_an_uninterrupted_run(tmp_path):
    n = 60  # 3 s of 0.1 s tasks on 2 ranks: room to kill part-way even on a loaded machine
    ref_cfg = write_cfg(tmp_path, "ref", n=n)
    finish(launch(ref_cfg, 1, "--task", "fake_tasks:quick"))
    cfg = write_cfg(tmp_path, "killed", n=n)
    ledger = tmp_path / "killed.h5"
    e = env()
    e["FAKE_TASK_SLEEP_S"] = "0.1"
    proc = subprocess.Popen(
        [MPIEXEC, "-n", "2", sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--no-progress", "--task", "fake_tasks:slow"],
        env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and done < 8:  # part-way: some flushed, many left
        time.sleep(0.05)
        if ledger.exists():
            done = L.read_ledger(ledger).counts()["done"]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = L.read_ledger(ledger)
    assert 8 <= killed.counts()["done"] < n and killed.attrs["end_utc"] == ""
    out = finish(launch(cfg, 2, "--task", "fake_tasks:slow"))
    assert f"{killed.counts()['done']} of {n} tasks already recorded" in out
    resumed = L.read_ledger(ledger)
    assert resumed.counts() == {"pending": 0, "done": n, "failed": 0} and resumed.attrs["end_utc"]
    assert not L.stale_temps(ledger)
    assert L.diff_results(resumed, L.read_ledger(tmp_path / "ref.h5")) == []


def test_bad_config_fails_on_every_rank_with_one_line(tmp_path):
    cfg = write_cfg(tmp_path, "bad")
    cfg.write_text(cfg.read_text().replace("n_samples", "n_sample"))
    proc = launch(cfg, 2)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    errors = [line for line in out.splitlines() if "error" in line.lower()]
    assert errors == [f"pyannow-hpc: error: {cfg}: sampler: unknown key 'n_sample' (did you mean 'n_samples'?); "
                      "known: method, n_samples, seed"], out
    assert "Traceback" not in out


def test_shards_then_merge_equal_the_whole_sweep(tmp_path):
    whole = write_cfg(tmp_path, "whole", n=10)
    finish(launch(whole, 1, "--task", "fake_tasks:quick"))
    for i in range(3):
        finish(launch(whole, 1, "--task", "fake_tasks:quick", "--shard", f"{i}/3", "--out", str(tmp_path / f"part{i}.h5")))
    parts = [str(tmp_path / f"part{i}.h5") for i in range(3)]
    res = subprocess.run([sys.executable, "-m", "pyannow_hpc", "merge", str(tmp_path / "merged.h5"), *parts],
                         env=env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "merged 3 ledgers" in res.stdout and "10 of 10 tasks (10 done" in res.stdout
    merged = L.read_ledger(tmp_path / "merged.h5")
    assert L.diff_results(merged, L.read_ledger(tmp_path / "whole.h5")) == []
    # a complete merge is the unsharded sweep: the plain command resumes it with nothing to do
    out = finish(launch(whole, 1, "--task", "fake_tasks:quick", "--out", str(tmp_path / "merged.h5")))
    assert "10 of 10 tasks already recorded, 0 to run" in out
    # overlapping shards are refused
    res = subprocess.run([sys.executable, "-m", "pyannow_hpc", "merge", str(tmp_path / "bad.h5"), parts[0], parts[0]],
                         env=env(), capture_output=True, text=True)
    assert res.returncode == 2 and "shards overlap" in res.stderr and not (tmp_path / "bad.h5").exists()


def test_n_copies_of_a_one_rank_program_are_refused(tmp_path):
    """mpiexec -n 2 without MPI in Python would run two "rank 0"s racing on one ledger."""
    cfg = write_cfg(tmp_path, "race")
    e = env()
    e["PYANNOW_NO_MPI"] = "1"
    res = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--no-progress"],
                         env=e, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "started as 2 processes but MPI sees 1 rank each" in res.stderr
    assert not (tmp_path / "race.h5").exists()


def test_sigterm_flushes_what_came_back(tmp_path):
    """Slurm's time limit sends SIGTERM first: rank 0 writes one last flush."""
    cfg = write_cfg(tmp_path, "term", n=400)
    cfg.write_text(cfg.read_text().replace("flush_every_s = 0.05", "flush_every_s = 3600.0"))
    e = env()
    e["FAKE_TASK_SLEEP_S"] = "0.02"
    proc = subprocess.Popen([sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--no-progress", "--task", "fake_tasks:slow"],
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ledger = tmp_path / "term.h5"
    deadline = time.time() + 60
    while time.time() < deadline and not ledger.exists():  # the initial (empty) ledger
        time.sleep(0.05)
    time.sleep(1.5)  # ~75 of 400 tasks done (8 s in all), none flushed yet (flush period: an hour)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, out
    led = L.read_ledger(ledger)
    assert 0 < led.counts()["done"] < 400 and not L.stale_temps(ledger)


def test_dry_run_checks_and_prints_the_plan_without_writing(tmp_path):
    cfg = write_cfg(tmp_path, "dry", n=12)
    res = subprocess.run([sys.executable, "-m", "pyannow_hpc", "sweep", str(cfg), "--dry-run"],
                         env=env(), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "12 tasks (shard 0/1 of 12, sobol, seed 7)" in res.stdout and "0 done, 0 failed, 12 to run" in res.stdout
    assert "g_egl19          [2, 20] log" in res.stdout and "(40 notes)" in res.stdout
    assert not (tmp_path / "dry.h5").exists()
