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
