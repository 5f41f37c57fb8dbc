"""The Slurm fixture works and srun's PMI-2 plugin wires up the mpich wheel's MPICH."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slurm

PROBE = "from mpi4py import MPI; c = MPI.COMM_WORLD; print('rank', c.Get_rank(), 'size', c.Get_size())"


def test_sbatch_runs_srun_pmi2_with_two_ranks(slurm, tmp_path):
    script = tmp_path / "probe.sbatch"
    script.write_text(f'#!/bin/bash\nset -euo pipefail\nsrun --mpi=pmi2 python -c "{PROBE}"\n')
    out = tmp_path / "probe.out"
    assert slurm.submit("--ntasks=2", f"--output={out}", str(script), cwd=tmp_path).ok, out.read_text()
    lines = sorted(out.read_text().split("\n"))
    assert [l for l in lines if l.startswith("rank")] == ["rank 0 size 2", "rank 1 size 2"], out.read_text()


def test_srun_without_pmi_gives_singletons(slurm, tmp_path):
    """Why sweep.sbatch refuses --mpi=none with several tasks: every task is a lone rank 0."""
    out = tmp_path / "none.out"
    assert slurm.submit("--ntasks=2", f"--output={out}", "--wrap", f'srun --mpi=none python -c "{PROBE}"', cwd=tmp_path).ok
    assert out.read_text().split("\n").count("rank 0 size 1") == 2, out.read_text()
