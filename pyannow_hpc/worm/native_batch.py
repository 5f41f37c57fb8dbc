"""Many parameter sets in one native call, threaded over sets (issue 15).

``simulate_batch(specs)`` fills one C parameter struct, drive, config and set
of output buffers per spec (exactly as :func:`.native.simulate` does for one)
and hands them all to ``pw_simulate_batch``, which runs the sets on a small
pthread pool: each result is bitwise identical to a one-at-a-time call.
ctypes releases the GIL for the call, so Python threads are not involved.
Threads: ``n_threads`` or, when None, the library's default (OMP_NUM_THREADS,
else the CPUs of this process's affinity mask: :func:`default_threads`).
"""
from __future__ import annotations

import ctypes
import functools
from typing import Sequence

import numpy as np

from .. import _native
from ..errors import ConfigError
from . import models
from .activity import MuscleActivity, SimulationSpec
from .native import Buffers, bind, cell_struct, drive_and_config, recorded_traces


@functools.lru_cache(maxsize=None)
def _batch_fn():
    lib = _native.load()
    try:
        fn, dflt = lib.pw_simulate_batch, lib.pw_default_threads
    except AttributeError:
        from ..errors import NativeLibraryError

        raise NativeLibraryError("the native library has no pw_simulate_batch: rebuild it with `make native`") from None
    vp = ctypes.c_void_p
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_char_p, ctypes.c_int64, vp, vp, vp, vp, vp, vp, ctypes.c_int32]
    dflt.restype, dflt.argtypes = ctypes.c_int, []
    return fn, dflt


def default_threads() -> int:
    """The thread count a batch uses when none is given (OMP_NUM_THREADS, else the affinity mask)."""
    return int(_batch_fn()[1]())


def simulate_batch(specs: Sequence[SimulationSpec], n_threads: int | None = None, **extras: float) -> list[MuscleActivity]:
    """Run every spec (one cell model for all) in one native call; results in spec order.

    A failing set raises its error (the first in spec order), as one call would."""
    specs = list(specs)
    if not specs:
        return []
    names = {s.model for s in specs}
    if len(names) != 1:
        raise ConfigError(f"one batch runs one cell model, got {sorted(names)}")
    if n_threads is not None and int(n_threads) < 1:
        raise ConfigError(f"n_threads must be >= 1, got {n_threads}")
    model = models.get(specs[0].model)
    bind(model.name)  # the per-model agreement check, once
    keep, bufs = [], []
    params, drives, configs, outs, traces = ([] for _ in range(5))
    for spec in specs:
        model.check_spec(spec)
        cp = cell_struct(model.name, spec.params, extras)
        drive, config = drive_and_config(spec)
        names = recorded_traces(spec)
        buf = Buffers.allocate(spec, gates=spec.record_gates and model.gates, extra=names)
        keep += [cp, drive, config]
        bufs.append(buf)
        params.append(ctypes.addressof(cp))
        drives.append(ctypes.addressof(drive))
        configs.append(ctypes.addressof(config))
        outs.append(ctypes.addressof(buf.out))
        traces.append(buf.traces[names[0]].ctypes.data if names else 0)
    arr = lambda xs: (ctypes.c_void_p * len(xs))(*xs)  # noqa: E731
    status = np.zeros(len(specs), dtype=np.int32)
    fn, _ = _batch_fn()
    fn(model.name.encode(), len(specs), arr(params), arr(drives), arr(configs), arr(outs),
       arr(traces) if model.native_traces else None, status.ctypes.data, int(n_threads or 0))
    return [buf.activity(int(st), f"pw_simulate_batch ({model.name}, set {i})") for i, (buf, st) in enumerate(zip(bufs, status))]
