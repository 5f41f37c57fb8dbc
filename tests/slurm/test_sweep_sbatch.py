"""scripts/slurm/*.sbatch through a real Slurm: a 2-rank MPI sweep via
sweep.sbatch (srun --mpi=pmi2), and a 2-shard array job merged by a dependent
merge.sbatch job; both ledgers must hold every task once, done, with the
same per-task results (seeds come from the task id, never the rank or shard)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sweep_config import sweep_toml  # tests/ is on sys.path (root conftest.py)

from pyannow_hpc.store.ledger import read_ledger

pytestmark = pytest.mark.slurm

SLURM_DIR = Path(__file__).resolve().parents[2] / "scripts" / "slurm"
N_TASKS = 8
# a few short tasks: the point is the plumbing, not the worm
TINY = sweep_toml("out/tiny.h5", model="pyannow", target="default", n_samples=N_TASKS, seed=3,
                  params={"g_egl19": {"range": [1.0, 25.0], "scale": "log"},
                          "tau_ca_ms": {"range": [2.0, 60.0], "scale": "log"}},
                  simulation={"duration_s": 1.0})


@pytest.fixture(scope="module")
def job_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sbatch")
    (d / "tiny.toml").write_text(TINY)
    return d


@pytest.fixture(scope="module")
def mpi_ledger(slurm, job_dir):
    out = job_dir / "sweep.out"
    job = slurm.submit("--ntasks=2", f"--output={out}", str(SLURM_DIR / "sweep.sbatch"), "tiny.toml", "--no-progress", cwd=job_dir)
    assert job.ok, (job, out.read_text())
    return read_ledger(job_dir / "out" / "tiny.h5"), out.read_text()


def test_sweep_sbatch_runs_two_mpi_ranks(mpi_ledger):
    led, log = mpi_ledger
    assert "2 ranks, srun --mpi=pmi2" in log, log
    assert len(led) == N_TASKS and sorted(led.task_ids.tolist()) == list(range(N_TASKS))
    assert (led.status == 1).all(), led.errors
    assert int(led.attrs["mpi_size"]) == 2
    assert np.isfinite(led.metrics["onset_loss"]).all()


def test_array_shards_merged_by_dependent_job_match_the_mpi_run(slurm, job_dir, mpi_ledger):
    env_dir = job_dir / "array"
    env_dir.mkdir()
    (env_dir / "tiny.toml").write_text(TINY)
    array = slurm.run("sbatch", "--parsable", "--array=0-1", "--output=shard-%a.out",
                      str(SLURM_DIR / "sweep_array.sbatch"), "tiny.toml", cwd=env_dir).stdout.strip().split(";")[0]
    # the merge waits on the array through Slurm's dependency, as on a cluster
    merge = slurm.submit(f"--dependency=afterok:{array}", "--export=ALL,PYANNOW_SHARDS=2", "--output=merge.out",
                         str(SLURM_DIR / "merge.sbatch"), "tiny.toml", cwd=env_dir, timeout=120)
    assert slurm.wait(array).ok and merge.ok, (merge, (env_dir / "merge.out").read_text())
    shards = [read_ledger(env_dir / "out" / "shards" / f"tiny.shard{i}of2.h5") for i in range(2)]
    assert sorted(shards[0].task_ids.tolist() + shards[1].task_ids.tolist()) == list(range(N_TASKS))
    assert all(len(s) > 0 for s in shards)
    merged = read_ledger(env_dir / "out" / "tiny.h5")  # default: the config's own [output] ledger
    assert merged.task_ids.tolist() == list(range(N_TASKS))  # every task exactly once, in order
    assert (merged.status == 1).all(), merged.errors
    led, _ = mpi_ledger
    order = np.argsort(led.task_ids)
    np.testing.assert_array_equal(merged.seeds, led.seeds[order])
    for key in ("onset_loss", "f1_mireval", "f1_seed"):
        np.testing.assert_array_equal(merged.metrics[key], led.metrics[key][order])
    # merge.sbatch renders the report of the merged ledger
    assert (env_dir / "out" / "tiny_report" / "index.html").exists(), (env_dir / "merge.out").read_text()


def test_sweep_sbatch_refuses_mpi_none_with_several_tasks(slurm, job_dir):
    out = job_dir / "none.out"
    job = slurm.submit("--ntasks=2", "--export=ALL,PYANNOW_SRUN_MPI=none", f"--output={out}",
                       str(SLURM_DIR / "sweep.sbatch"), "tiny.toml", cwd=job_dir)
    assert job.states == ["FAILED"] and job.exit_codes == [2]
    assert "would start 2 separate one-rank sweeps" in out.read_text()
