"""SIGKILL a 2-rank optimiser at random moments; the same command resumes each
time, and the final ledger is the uninterrupted trajectory bit for bit."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.optimize import ledger as LG
from pyannow_hpc.optimize.config import load_config
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm

CFG = """method = "cmaes"
backend = "native"
model = "boyle2008"
[params]
g_ca_boyle = {{ range = [0.3, 1.5], scale = "log" }}
drive_g_syn = {{ range = [0.07, 0.12] }}
time_offset_s = {{ range = [-0.25, 0.25] }}
[simulation]
duration_s = 2.0
burn_in_s = 0.1
[budget]
max_iterations = 6
[cmaes]
popsize = 4
[evaluate]
n_shifts = 20
[output]
ledger = "{ledger}"
"""


@pytest.mark.slow
def test_sigkill_two_ranks_then_resume_is_bitwise(tmp_path):
    mpiexec = Path(sys.executable).with_name("mpiexec")
    cfg_path = tmp_path / "kill.toml"
    cfg_path.write_text(CFG.format(ledger=tmp_path / "kill.h5"))
    cmd = [str(mpiexec), "-n", "2", sys.executable, "-m", "pyannow_hpc", "optimize", str(cfg_path), "--no-progress", "--no-table"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rng = np.random.default_rng(7)
    kills = 0
    ledger = tmp_path / "kill.h5"

    def done() -> int:
        try:
            return LG.read(ledger).n_iterations
        except Exception:  # not written yet
            return 0

    for attempt in range(4):  # three kills at random moments mid-run, then run to the end
        proc = subprocess.Popen(cmd, start_new_session=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if attempt < 3:
            # a random moment: after the next iteration's flush, plus a random fraction of an iteration
            goal = done() + 1
            t0 = time.monotonic()
            while done() < goal and proc.poll() is None and time.monotonic() - t0 < 120:
                time.sleep(0.05)
            time.sleep(float(rng.uniform(0.0, 0.4)))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
        proc.wait(timeout=300)
        assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
        break
    assert kills >= 1  # it really was killed at least once
    killed = LG.read(tmp_path / "kill.h5")
    ref_cfg = load_config(cfg_path)
    import dataclasses

    ref_cfg = dataclasses.replace(ref_cfg, output=dataclasses.replace(ref_cfg.output, ledger=str(tmp_path / "ref.h5")))
    ref = run(ref_cfg, comm=SerialComm(), progress=False)
    assert killed.n_iterations == ref.n_iterations == 6
    assert np.array_equal(np.array([e["u"] for e in killed.evals]), np.array([e["u"] for e in ref.evals]))
    assert np.array_equal(killed.column("loss"), ref.column("loss"))
