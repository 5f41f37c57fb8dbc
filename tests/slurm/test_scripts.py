"""The sbatch scripts' own logic, without Slurm or a GPU: each script runs
under bash with stand-ins for srun, python, nvidia-smi and pyannow-hpc on PATH
that record the exact command lines the script builds. (The real-Slurm runs
are in test_sweep_sbatch.py; train_gpu.sbatch needs a GPU and is only run this
way here.)"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

SLURM_DIR = Path(__file__).resolve().parents[2] / "scripts" / "slurm"
SCRIPTS = ("sweep.sbatch", "sweep_array.sbatch", "merge.sbatch", "train_gpu.sbatch", "submit_array.sh")

RECORDER = """#!/bin/bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
echo "env XLA_PYTHON_CLIENT_PREALLOCATE=${XLA_PYTHON_CLIENT_PREALLOCATE:-unset} OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}" >> "$STUB_LOG"
"""


@pytest.fixture
def stubs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("srun", "pyannow-hpc"):
        (bin_dir / name).write_text(RECORDER)
    # `python -c 'import jax; print(jax.default_backend())'` -> $STUB_JAX_BACKEND
    (bin_dir / "python").write_text('#!/bin/bash\necho "${STUB_JAX_BACKEND:-cpu}"\n')
    (bin_dir / "nvidia-smi").write_text('#!/bin/bash\necho "NVIDIA H100, 81559 MiB, 550.54"\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_LOG": str(log), "HOME": str(tmp_path)}

    def run(script: str, *args: str, **extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        proc = subprocess.run(["bash", str(SLURM_DIR / script), *args], env={**env, **extra}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=30)
        return proc, log.read_text().splitlines() if log.exists() else []

    return run


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse_and_fail_fast(script):
    text = (SLURM_DIR / script).read_text()
    assert subprocess.run(["bash", "-n", str(SLURM_DIR / script)]).returncode == 0
    assert "set -euo pipefail" in text
    assert "module load" not in text  # module-free: the venv is the environment


def test_train_gpu_asks_for_one_gpu_and_trains_through_srun(stubs):
    headers = re.findall(r"^#SBATCH (\S+)", (SLURM_DIR / "train_gpu.sbatch").read_text(), re.M)
    assert "--gres=gpu:1" in headers
    proc, calls = stubs("train_gpu.sbatch", "--ledger", "out/sweep.h5", STUB_JAX_BACKEND="gpu")
    assert proc.returncode == 0, proc.stderr
    assert "NVIDIA H100" in proc.stdout and "jax backend: gpu" in proc.stdout
    assert calls == ["srun pyannow-hpc train --ledger out/sweep.h5",
                     "env XLA_PYTHON_CLIENT_PREALLOCATE=false OMP_NUM_THREADS=1"]


def test_train_gpu_refuses_a_cpu_only_jax(stubs):
    proc, calls = stubs("train_gpu.sbatch", STUB_JAX_BACKEND="cpu")
    assert proc.returncode == 3 and calls == []
    assert "JAX sees no GPU" in proc.stderr and "jax[cuda12]" in proc.stderr
    proc, calls = stubs("train_gpu.sbatch", STUB_JAX_BACKEND="cpu", PYANNOW_ALLOW_CPU="1")
    assert proc.returncode == 0 and calls[0] == "srun pyannow-hpc train"


@pytest.mark.parametrize("plugin", [None, "pmix"])
def test_sweep_sbatch_builds_the_srun_line(stubs, plugin):
    extra = {"SLURM_NTASKS": "4", "SLURM_CPUS_PER_TASK": "2"} | ({"PYANNOW_SRUN_MPI": plugin} if plugin else {})
    proc, calls = stubs("sweep.sbatch", "run.toml", "--no-progress", **extra)
    assert proc.returncode == 0, proc.stderr
    assert calls == [f"srun --kill-on-bad-exit=1 --mpi={plugin or 'pmi2'} pyannow-hpc sweep run.toml --no-progress",
                     "env XLA_PYTHON_CLIENT_PREALLOCATE=unset OMP_NUM_THREADS=2"]


def test_sweep_sbatch_needs_a_config_and_an_install(stubs, tmp_path):
    proc, calls = stubs("sweep.sbatch")
    assert proc.returncode == 2 and "usage:" in proc.stderr and calls == []
    (tmp_path / "bin" / "pyannow-hpc").unlink()
    proc, _ = stubs("sweep.sbatch", "run.toml", PYANNOW_VENV=str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "not on PATH and not in PYANNOW_VENV" in proc.stderr


def test_sweep_array_maps_the_array_index_to_a_zero_based_shard(stubs, tmp_path):
    proc, calls = stubs("sweep_array.sbatch", "cfg/run.toml",
                        SLURM_ARRAY_TASK_ID="5", SLURM_ARRAY_TASK_MIN="4", SLURM_ARRAY_TASK_COUNT="3")
    assert proc.returncode == 0, proc.stderr
    assert calls[0] == ("srun --kill-on-bad-exit=1 --mpi=pmi2 pyannow-hpc sweep cfg/run.toml --shard 1/3 "
                        "--out out/shards/run.shard1of3.h5 --no-progress")
    assert (tmp_path / "out" / "shards").is_dir()
    proc, calls = stubs("sweep_array.sbatch", "run.toml")  # not an array job
    assert proc.returncode == 2 and "not an array job" in proc.stderr


def test_merge_sbatch_takes_every_shard_of_the_run_or_fails(stubs, tmp_path):
    shards = tmp_path / "out" / "shards"
    shards.mkdir(parents=True)
    for name in ("run.shard0of3.h5", "run.shard2of3.h5", "run.shard0of2.h5", "other.shard1of3.h5"):
        (shards / name).write_bytes(b"")
    proc, calls = stubs("merge.sbatch", "run.toml", "merged.h5", PYANNOW_SHARDS="3")
    assert proc.returncode == 2 and "found 2 of 3 shard ledgers" in proc.stderr and calls == []
    (shards / "run.shard1of3.h5").write_bytes(b"")
    proc, calls = stubs("merge.sbatch", "run.toml", "merged.h5", PYANNOW_SHARDS="3")
    assert proc.returncode == 0, proc.stderr
    three = " ".join(f"out/shards/run.shard{i}of3.h5" for i in range(3))
    assert calls[0] == f"pyannow-hpc merge merged.h5 {three}"
    assert calls[2] == "pyannow-hpc report merged.h5 --no-progress"
