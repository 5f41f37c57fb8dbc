"""scripts/slurm/optimize.sbatch through the real Slurm of this tier: a 2-rank
CMA-ES run (srun --mpi=pmi2) writes a ledger whose evaluations came from both
ranks, with a finite loss and the before/after table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.optimize import ledger as LG

pytestmark = pytest.mark.slurm

SLURM_DIR = Path(__file__).resolve().parents[2] / "scripts" / "slurm"
TINY = """method = "cmaes"
backend = "native"
model = "boyle2008"
[params]
g_ca_boyle = { range = [0.3, 1.5], scale = "log" }
time_offset_s = { range = [-0.25, 0.25] }
[simulation]
duration_s = 1.0
burn_in_s = 0.1
[budget]
max_iterations = 2
[cmaes]
popsize = 4
[evaluate]
later_windows = 1
other_seeds = 0
n_shifts = 20
landscape_points = 0
[output]
ledger = "out/opt.h5"
"""


def test_optimize_sbatch_runs_two_mpi_ranks(slurm, tmp_path):
    (tmp_path / "opt.toml").write_text(TINY)
    out = tmp_path / "opt.out"
    job = slurm.submit("--ntasks=2", f"--output={out}", str(SLURM_DIR / "optimize.sbatch"), "opt.toml", "--no-progress",
                       cwd=tmp_path, timeout=240)  # ~10 s here; room for a slow first job on a loaded CI box
    log = out.read_text() if out.exists() else ""
    assert job.ok, (job, log)
    assert "2 ranks, srun --mpi=pmi2" in log, log
    led = LG.read(tmp_path / "out" / "opt.h5")
    assert led.n_iterations == 2 and len(led.evals) == 8
    assert set(led.column("rank").astype(int)) == {0, 1}
    assert np.isfinite(led.column("loss")).all()
    assert "shift_z" in led.result["table_markdown"]
