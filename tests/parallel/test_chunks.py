"""The scheduler's chunk policy (pure functions; the MPI protocol is tested in tests/mpi)."""
from collections import deque

from pyannow_hpc.parallel.scheduler import ADAPTIVE_CAP, PREFETCH, Pace, _chunk, chunk_floor


def test_chunk_floor_keeps_rank0_load_under_target():
    n, a, b, T = 3000, 20e-6, 5e-6, 0.03
    k = chunk_floor(n, a, b, T, rho=0.9)
    assert n * (a / k + b) / T <= 0.9 < n * (a / (k - 1) + b) / T  # the smallest such k
    assert chunk_floor(2, a, b, T) == 1  # few ranks: nothing changes
    assert chunk_floor(1000, a, b, T) == 1  # busy (rho 0.83 at k = 1) but not saturated: balance first
    assert chunk_floor(10_000, a, 10e-6, T) == ADAPTIVE_CAP  # outcomes alone saturate rank 0


def test_fixed_cap_is_guided_and_capped():
    q = deque(range(1000))
    assert len(_chunk(q, 4, 16)) == 16  # 1000 / (2 * PREFETCH * 4) = 63 > cap
    q = deque(range(3))
    assert len(_chunk(q, 4, 16)) == 1  # the tail: single tasks


def test_adaptive_floor_applies_in_the_tail_but_never_beyond_an_equal_share():
    q = deque(range(40))
    assert len(_chunk(q, 10, 0, floor=3)) == 3  # guided alone would give ceil(40 / 40) = 1
    q = deque(range(40))
    assert len(_chunk(q, 10, 0, floor=500)) == 4  # an equal share of the 40 left over 10 ranks
    q = deque(range(10_000))
    assert len(_chunk(q, 10, 0, floor=1)) == 16  # early: guided, capped at 16 as before
    assert len(_chunk(deque(range(5)), 2, 0, floor=ADAPTIVE_CAP)) == 3


def test_pace_measures_before_it_changes_anything():
    p = Pace()
    assert p.floor(5000) == 1  # nothing measured yet
    for _ in range(10):
        p.message(other_s=40e-6, outcomes_s=16 * 5e-6, n_outcomes=16)
        p.task(0.03)
    # the running means equal the inputs up to rounding (the ceil may move by one)
    assert abs(p.floor(5000) - chunk_floor(5000, 40e-6, 5e-6, 0.03)) <= 1
    assert p.floor(5000) > 50 and p.floor(2) == 1 and PREFETCH >= 1
