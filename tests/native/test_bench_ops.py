"""pw_bench_op_ns, the per-op costs behind the benchmark's roofline (benchmarks/roofline.py)."""
from __future__ import annotations

import ctypes

from pyannow_hpc import _native


def _fn():
    f = _native.load().pw_bench_op_ns
    f.restype, f.argtypes = ctypes.c_double, [ctypes.c_int32, ctypes.c_int64]
    return f


def test_costs_are_positive_and_an_exp_costs_more_than_an_fma():
    f = _fn()
    exp_ns, div_ns, fma_ns = (min(f(op, 20_000) for _ in range(3)) for op in range(3))
    assert exp_ns > 0 and div_ns > 0 and fma_ns > 0
    # pw_vexp is ~15 dependent FMAs plus clamps and bit work: never cheaper than three FMAs
    assert exp_ns > 3 * fma_ns, (exp_ns, fma_ns)


def test_bad_arguments_return_minus_one():
    f = _fn()
    assert f(3, 10) == -1.0 and f(-1, 10) == -1.0 and f(0, 0) == -1.0
