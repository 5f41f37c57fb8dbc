"""Shared fixtures. Markers are declared in pyproject.toml (--strict-markers)."""
from __future__ import annotations

import os

import pytest

# deterministic, single-threaded numerics in tests (2-core CI, 2 MPI ranks)
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)


@pytest.fixture
def tiny_sweep(tmp_path):
    """A finished 4-task native sweep: ``(ledger path, its TOML)``; re-running
    ``main(["sweep", toml])`` resumes it."""
    from pyannow_hpc.cli import main

    toml = tmp_path / "tiny.toml"
    toml.write_text(
        'backend = "native"\nmodel = "boyle2008"\ntarget = "default"\n'
        '[sampler]\nmethod = "sobol"\nn_samples = 4\nseed = 1\n'
        '[params]\ndrive_g_syn = { range = [0.09, 0.11] }\n'
        '[simulation]\nstart_s = 2.0\nduration_s = 3.0\nburn_in_s = 1.0\n'
        f'[output]\nledger = "{tmp_path / "s.h5"}"\nmin_notes = 3\n'
    )
    assert main(["sweep", str(toml), "--no-progress"]) == 0
    return tmp_path / "s.h5", toml


@pytest.fixture
def make_pending():
    """``make_pending(path, rows)``: mark rows of a ledger pending in place (as a
    sweep killed before them leaves them), so re-running the sweep resumes."""
    import h5py

    def mark(path, rows) -> None:
        with h5py.File(path, "r+") as f:
            status = f["tasks/status"][()]
            status[list(rows)] = 0
            f["tasks/status"][...] = status

    return mark
