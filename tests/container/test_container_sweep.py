"""A sweep and a `refine` on the container backend with varied parameters, against the
stand-in runtime: every task's mounted network carries that task's densities."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pyannow_hpc.parallel.refine import read_refine
from pyannow_hpc.store.ledger import DONE, read_ledger

def _sweep(backend: str, n: int, more=None) -> str:
    """A boyle2008 sweep over g_ca_boyle (plus ``more``), 50 ms tasks: one network template for the session."""
    from sweep_config import sweep_toml

    params = {"g_ca_boyle": {"range": [0.35, 1.4], "scale": "log"}, **(more or {})}
    return sweep_toml(f"{'c' if backend == 'container' else 's'}.h5", backend=backend, model="boyle2008",
                      target="default", n_samples=n, params=params,
                      simulation={"duration_s": 0.05, "dt_ms": 0.05, "onset_method": "threshold"},
                      scheduler={"task_timeout_s": 600.0}, output={"report": False})


@pytest.fixture
def env(fake_runtime):
    e = dict(os.environ, PYANNOW_NO_MPI="1", OMP_NUM_THREADS="1")
    return e


def _cli(args, cwd, env, ok=True):
    p = subprocess.run([sys.executable, "-m", "pyannow_hpc", *args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=900)
    if ok:
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


def _runs(log):
    return [c for c in map(json.loads, log.read_text().splitlines()) if c["argv"][1] == "run"]


@pytest.mark.slow  # three isolated tasks, each a child process: ~20 s on a quiet 2-core machine
def test_container_sweep_varying_g_ca_boyle(tmp_path, env, fake_runtime):
    (tmp_path / "c.toml").write_text(_sweep("container", 3))
    _cli(["sweep", "c.toml", "--no-progress"], tmp_path, env)
    led = read_ledger(tmp_path / "c.h5")
    assert list(led.status) == [DONE] * 3
    runs = _runs(fake_runtime["log"])
    assert len(runs) == 3
    # each task's network carried its own g_ca_boyle (mS/cm2 -> S/cm2), whatever order the tasks ran in
    mounted = sorted(r["mounted"]["gmax_S_per_cm2"]["ca_boyle"] for r in runs)
    col = list(led.param_names).index("g_ca_boyle")
    assert mounted == pytest.approx(sorted(led.params[:, col] * 1e-3), rel=1e-6)
    assert len(set(np.round(led.params[:, col], 6))) == 3
    # ... and the runs differ: the stand-in's wave follows gmax_ca_boyle
    assert len({tuple(np.round(o, 4)) for o in led.onsets_s}) == 3
    assert os.listdir(fake_runtime["tasks"]) == []


def test_container_sweep_refuses_unmapped_parameters(tmp_path, env, fake_runtime):
    (tmp_path / "c.toml").write_text(_sweep("container", 2, {"drive_freq_hz": {"range": [1.0, 2.0]}}))
    p = _cli(["sweep", "c.toml", "--no-progress"], tmp_path, env, ok=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("pyannow-hpc: error:")
    assert "cannot apply drive_freq_hz" in p.stderr and "maps only g_ca_boyle" in p.stderr
    assert not (tmp_path / "c.h5").exists() and not fake_runtime["log"].exists()


@pytest.mark.slow
def test_container_refine_of_a_native_sweep(tmp_path, env, fake_runtime):
    (tmp_path / "s.toml").write_text(_sweep("native", 4))
    _cli(["sweep", "s.toml", "--no-progress"], tmp_path, env)
    p = _cli(["refine", "s.h5", "--top", "2", "--by", "onset_loss", "--backend", "container"], tmp_path, env)
    assert "refine: 2 of 2 ok" in p.stderr + p.stdout
    led, ref = read_ledger(tmp_path / "s.h5"), read_refine(tmp_path / "s.h5")
    runs = _runs(fake_runtime["log"])
    assert len(runs) == 2
    col = list(led.param_names).index("g_ca_boyle")
    refined = sorted(led.params[list(led.task_ids).index(int(t)), col] * 1e-3 for t in ref)
    assert sorted(r["mounted"]["gmax_S_per_cm2"]["ca_boyle"] for r in runs) == pytest.approx(refined, rel=1e-6)
    assert os.listdir(fake_runtime["tasks"]) == []
