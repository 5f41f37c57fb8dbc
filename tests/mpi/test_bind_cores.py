"""MPI tier: collectives.bind_local_cores gives each rank on a node its own cores."""
import os
import threading

import pytest

from pyannow_hpc.parallel import collectives as coll
from pyannow_hpc.parallel.comm import world

pytestmark = pytest.mark.mpi


def _restore(saved):
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), saved)
        except OSError:
            pass


def test_ranks_get_disjoint_cores_and_existing_threads_move_too(monkeypatch):
    comm = world()
    monkeypatch.delenv("PYANNOW_BIND_CORES", raising=False)
    saved = os.sched_getaffinity(0)
    masks = comm.allgather(sorted(saved))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)  # a thread that exists before the binding (like XLA's pool)
    t.start()
    try:
        got = coll.bind_local_cores(comm)
        all_got = comm.allgather(sorted(got) if got else None)
        if comm.Get_size() == 1 or any(len(m) < comm.Get_size() for m in masks) or \
                sum(map(len, masks)) == len(set().union(*map(set, masks))):
            assert got is None  # one rank, too few cores, or a launcher binding: left alone
        else:
            assert all(all_got)
            flat = [c for m in all_got for c in m]
            assert len(flat) == len(set(flat)) and set(flat) <= saved  # disjoint, inside what was allowed
            assert os.sched_getaffinity(t.native_id) == got == os.sched_getaffinity(0)
    finally:
        stop.set()
        t.join()
        _restore(saved)
        comm.barrier()


def test_binding_can_be_switched_off(monkeypatch):
    comm = world()
    monkeypatch.setenv("PYANNOW_BIND_CORES", "0")
    saved = os.sched_getaffinity(0)
    try:
        assert coll.bind_local_cores(comm) is None and os.sched_getaffinity(0) == saved
    finally:
        _restore(saved)
        comm.barrier()


def test_core_shares_are_contiguous_and_cover_every_core():
    shares = [coll._split_cores([0, 1, 2, 3, 4], r, 2) for r in range(2)]
    assert shares == [{0, 1, 2}, {3, 4}]
