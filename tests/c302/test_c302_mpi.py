"""C302 under MPI, for real: `mpiexec -n 2 pyannow-hpc sweep` with backend c302, and
`mpiexec -n 2 pyannow-hpc refine` of a native sweep's best points on C302."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sweep_config import sweep_toml
from pyannow_hpc.parallel.refine import read_refine
from pyannow_hpc.store.ledger import DONE, read_ledger

pytestmark = pytest.mark.c302

def sweep(backend, n, dt_ms, onsets, ledger):
    # 0.2 s and no burn-in: the default run's network template is reused (a 2 s
    # burn-in would run 2.2 s of C302 per task and score only its last 0.2 s)
    return sweep_toml(ledger, backend=backend, target="default", n_samples=n,
                      params={"g_egl19": {"range": [4.0, 16.0], "scale": "log"}},
                      simulation={"duration_s": 0.2, "burn_in_s": 0.0, "dt_ms": dt_ms, "onset_method": onsets},
                      scheduler={"task_timeout_s": 600.0}, output={"report": False})


def _mpiexec():
    return str(Path(sys.executable).parent / "mpiexec")


def _run(argv, cwd, env):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


@pytest.fixture
def mpi_env(c302_env, default_run):
    # default_run has filled the shared mechanism cache: the MPI runs reuse it
    env = dict(os.environ, PYANNOW_C302_CACHE=str(c302_env["cache"]), PYANNOW_TASK_DIR=str(c302_env["tasks"]),
               OMP_NUM_THREADS="1")
    env.pop("PYANNOW_NO_MPI", None)
    return env


def test_c302_sweep_under_mpiexec_2(tmp_path, mpi_env, c302_env):
    (tmp_path / "c302.toml").write_text(sweep("c302", 2, 0.05, "threshold", "c302.h5"))
    p = _run([_mpiexec(), "-n", "2", sys.executable, "-m", "pyannow_hpc", "sweep", "c302.toml", "--no-progress"],
             tmp_path, mpi_env)
    # the dynamic scheduler decides who runs what; rank 1 must have taken part
    assert "on 2 rank(s)" in p.stderr and re.search(r"\[rank 1/2\] ran [12] tasks \(0 failed\)", p.stderr)
    led = read_ledger(tmp_path / "c302.h5")
    assert led.attrs["backend"] == "c302" and int(led.attrs["mpi_size"]) == 2
    assert list(led.status) == [DONE, DONE]
    assert all(len(o) > 0 for o in led.onsets_s)  # C302 muscles spike in 200 ms
    assert np.isfinite(led.metrics["onset_loss"]).all()
    assert os.listdir(c302_env["tasks"]) == []


def test_refine_native_sweep_on_c302_under_mpiexec_2(tmp_path, mpi_env, c302_env):
    (tmp_path / "s.toml").write_text(sweep("native", 4, 0.5, "crest", "s.h5"))
    _run([sys.executable, "-m", "pyannow_hpc", "sweep", "s.toml", "--no-progress"], tmp_path,
         dict(mpi_env, PYANNOW_NO_MPI="1"))
    led = read_ledger(tmp_path / "s.h5")
    order = np.lexsort((led.task_ids, led.metrics["onset_loss"]))
    p = _run([_mpiexec(), "-n", "2", sys.executable, "-m", "pyannow_hpc", "refine", "s.h5", "--top", "2",
              "--by", "onset_loss", "--backend", "c302"], tmp_path, mpi_env)
    assert "F1 (mir_eval one-to-one, ±50 ms)" in p.stdout and "corr(V envelope)" in p.stdout
    ref = read_refine(tmp_path / "s.h5")
    assert sorted(ref) == sorted(int(led.task_ids[i]) for i in order[:2])  # the best two by loss
    for rec in ref.values():
        assert rec["status"] == DONE, rec.get("error")
        assert rec["surrogate.onset_loss"] == pytest.approx(float(led.metrics["onset_loss"][list(led.task_ids).index(
            [k for k, v in ref.items() if v is rec][0])]), rel=1e-9)  # the surrogate rung reproduces the sweep
        assert np.isfinite(rec["gap.corr_v_envelope"]) and -1 <= rec["gap.corr_v_envelope"] <= 1
        assert rec["gap.n_muscles_correlated"] >= 90  # 95 C302 muscles, minus flat ones
        assert rec["c302.worm_rate_hz"] == pytest.approx(len(rec["onsets_s"]) / 0.2)
    assert len(read_ledger(tmp_path / "s.h5")) == 4  # the sweep's tasks are intact
