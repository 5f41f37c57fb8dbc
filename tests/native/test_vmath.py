"""pw_vmath.h (the vectorisable exp/log/cos and the noise generator of the C
kernel) against libm/NumPy, compiled into a tiny test library with cc."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc import _native
from pyannow_hpc.worm import rng

SRC = Path(__file__).resolve().parents[2] / "native" / "src"

HARNESS = r"""
#include <stdint.h>
#include "pw_vmath.h"
void t_exp(const double *x, double *y, int n) { for (int i = 0; i < n; i++) y[i] = pw_vexp(x[i]); }
void t_log(const double *x, double *y, int n) { for (int i = 0; i < n; i++) y[i] = pw_vlog(x[i]); }
void t_cos(const double *x, double *y, int n) { for (int i = 0; i < n; i++) y[i] = pw_vcos2pi(x[i]); }
void t_normal(uint64_t key, uint64_t base, double *y, int n) { pw_vnormal_row(key, base, n / 2, y); }
void t_sin(const double *x, double *y, int n) { for (int i = 0; i < n; i++) { double c; pw_vsincos2pi(x[i], &c, &y[i]); } }
void t_sincos(const double *x, double *y, int n) { for (int i = 0; i < n; i++) pw_vsincos(x[i], &y[2 * i], &y[2 * i + 1]); }
"""


@pytest.fixture(scope="module")
def vm(tmp_path_factory):
    d = tmp_path_factory.mktemp("vmath")
    (d / "h.c").write_text(HARNESS)
    cc = shutil.which("cc") or shutil.which("gcc")
    # the library's own flags, so the vectorised code paths are what is tested
    subprocess.run([cc, "-O3", "-fno-math-errno", "-fno-trapping-math", "-march=x86-64-v3", "-shared", "-fPIC",
                    f"-I{SRC}", str(d / "h.c"), "-o", str(d / "libh.so")], check=True)
    lib = ctypes.CDLL(str(d / "libh.so"))
    return lib


def _call(lib, name, x, out_dtype=np.float64):
    x = np.ascontiguousarray(x)
    y = np.empty(len(x), dtype=out_dtype)
    getattr(lib, name)(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(len(x)))
    return y


def test_exp_relative_error(vm, rng):
    x = np.concatenate([rng.uniform(-700, 700, 20000), rng.uniform(-5, 5, 20000), [0.0, -708.0, 708.0]])
    y = _call(vm, "t_exp", x)
    np.testing.assert_allclose(y, np.exp(x), rtol=4e-16 * 4, atol=0)


def test_exp_saturates_instead_of_overflowing(vm):
    y = _call(vm, "t_exp", np.array([-1e4, 1e4]))
    assert 0.0 < y[0] < 1e-300 and np.isfinite(y[1]) and y[1] > 1e300


def test_log_relative_error(vm, rng):
    x = np.concatenate([rng.uniform(0, 1, 20000), 2.0 ** rng.uniform(-53, 0, 20000), [1.0, 2.0**-53, 0.5, np.sqrt(0.5)]])
    y = _call(vm, "t_log", x)
    ref = np.log(x)
    np.testing.assert_allclose(y, ref, rtol=1e-15, atol=2e-16)


def test_cos2pi_absolute_error(vm, rng):
    u = np.concatenate([rng.uniform(0, 1, 40000), np.arange(9) / 8.0])
    y = _call(vm, "t_cos", u)
    np.testing.assert_allclose(y, np.cos(2 * np.pi * u), rtol=0, atol=1e-15)


def test_sin2pi_absolute_error(vm, rng):
    u = np.concatenate([rng.uniform(0, 1, 40000), np.arange(9) / 8.0])
    y = _call(vm, "t_sin", u)
    np.testing.assert_allclose(y, np.sin(2 * np.pi * u), rtol=0, atol=1e-15)


def test_vector_normal_matches_pw_normal_and_python(vm):
    """The kernel's vectorised draw = pw_normal (libm) = rng.normal_np, to ~1 ulp."""
    seed = 20260101
    counters = np.arange(0, 96 * 500, dtype=np.uint64) + np.uint64(2**40)
    key = int(rng.key_np(seed))
    y = np.empty(len(counters))
    vm.t_normal(ctypes.c_uint64(key), ctypes.c_uint64(int(counters[0])), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(len(counters)))
    lib = _native.load()
    ref_c = np.array([lib.pw_normal(seed, int(c)) for c in counters[:3000]])
    ref_np = rng.normal_np(rng.key_np(seed), counters)
    np.testing.assert_allclose(y[:3000], ref_c, rtol=4e-15, atol=4e-15)
    np.testing.assert_allclose(y, ref_np, rtol=4e-15, atol=4e-15)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_sincos_matches_libm_over_the_drive_range(vm, rng):
    """pw_vsincos (the drive's sin(w t), cos(w t) by blocks of steps) against NumPy's
    sin/cos: within 2 ulp of the result (absolute 2.3e-16 near +-1, relative near 0),
    over the phases a long run reaches, negative ones and the quadrant edges k pi/2."""
    k = np.arange(-40, 41)
    x = np.concatenate([rng.uniform(-10, 10, 20000), rng.uniform(0, 2e4, 20000), rng.uniform(0, 1.6e6, 20000),
                        k * (np.pi / 2), k * (np.pi / 4), np.nextafter(k * (np.pi / 2), np.inf), [0.0, -0.0, 1.6e6]])
    x = np.ascontiguousarray(x)
    y = np.empty(2 * len(x))
    vm.t_sincos(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(len(x)))
    for got, ref in ((y[0::2], np.sin(x)), (y[1::2], np.cos(x))):
        ulp = np.spacing(np.maximum(np.abs(ref), 2.0**-1000))
        assert np.max(np.abs(got - ref) / ulp) <= 2.0
