"""MPI tier: collected by `mpiexec -n 2 pytest -m mpi tests/mpi` (scripts/run_tests.sh).

Expected values are written in terms of ``size`` so the same tests pass on 1
or N ranks.
"""
import pytest

from pyannow_hpc.parallel.comm import world

pytestmark = pytest.mark.mpi


def test_allreduce_sums_ranks():
    comm = world()
    size = comm.Get_size()
    assert comm.allreduce(comm.Get_rank()) == size * (size - 1) // 2


def test_launcher_gives_two_ranks_in_ci():
    # run_tests.sh launches this tier with -n 2; a silent fallback to the serial
    # communicator would make every MPI test vacuous.
    import os

    if os.environ.get("PYANNOW_EXPECT_RANKS"):
        assert world().Get_size() == int(os.environ.get("PYANNOW_EXPECT_RANKS", "2"))
