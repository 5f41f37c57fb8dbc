"""The native backend: the C surrogate in libpyannow, for every cell model.

``simulate(spec)`` looks the cell model up (:mod:`.models`), fills its C
parameter struct and the shared ``pw_drive`` / ``pw_sim_config`` from a
validated :class:`SimulationSpec`, allocates the output buffers in NumPy (so
the caller owns them and nothing is copied back) and calls the model's entry
point.  The ctypes structs are built from the library's own field tables
(:func:`pyannow_hpc._native.struct`); :func:`bind` checks, once per model, that
every C field gets a value from Python and every parameter reaches C.
"""
from __future__ import annotations

import ctypes
import functools
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .. import _native
from ..errors import NativeLibraryError, SimulationError
from ..params import QUADRANT_PHASES_RAD
from . import models
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec

INTEGRATOR_CODES = {"exponential": 0, "seed_euler": 1}  # enum pw_integrator

#: the shared structs of pyannow.h by their old Python names (native.Drive, ...)
_STRUCTS = {"Drive": "pw_drive", "SimConfig": "pw_sim_config", "SimOutput": "pw_sim_output",
            "PyannowParams": "pw_pyannow_params", "Boyle2008Params": "pw_boyle2008_params"}


def __getattr__(name: str):
    # built from the library's tables on first use, not at import (no library needed for --help)
    if name in _STRUCTS:
        return _native.struct(_STRUCTS[name])
    raise AttributeError(name)


@functools.lru_cache(maxsize=None)
def bind(model_name: str) -> ctypes.CDLL:
    """The library with ``model_name``'s entry point typed, after checking that
    C and Python agree on the model: every field of its struct is a parameter,
    a constant or a declared extra; every parameter reaches a C field; shared
    defaults are equal and the search bounds lie inside the kernel's bounds."""
    model = models.get(model_name)
    lib = _native.load()
    info = _native.struct_info(model.native_struct)
    sp = model.space
    shared = {f.name: f for s in ("pw_drive", "pw_sim_config") for f in _native.struct_info(s).fields}
    problems = [f"C field {info.name}.{f.name} has no Python value (not in the {model.name} space, not a "
                "PW_FIELD_CONSTANT, not an extra)"
                for f in info.fields if not (f.constant or f.name in sp or f.name in model.extras)]
    for p in sp.params:
        f = info[p.name] if p.name in info.names else shared.get(p.name)
        if f is None:
            if p.name not in model.detector_params:
                problems.append(f"parameter {p.name} of {model.name} reaches no C field")
            continue
        if f.constant:
            problems.append(f"parameter {p.name} is a PW_FIELD_CONSTANT in C")
        elif f.name in info.names and not math.isnan(f.default) and f.default != p.default:
            problems.append(f"default of {p.name}: Python {p.default!r}, C {f.default!r}")
        if not f.admits(p.lower, p.upper):
            problems.append(f"bounds of {p.name} [{p.lower:g}, {p.upper:g}] exceed the kernel's "
                            f"{'(' if f.lower_open else '['}{f.lower:g}, {f.upper:g}]")
    if problems:
        raise NativeLibraryError(f"the native library and the {model.name} cell model disagree: " + "; ".join(problems)
                                 + " (rebuild with `make native`, or update params.py / worm/models.py)")
    try:
        fn = getattr(lib, model.native_entry)
    except AttributeError:
        raise NativeLibraryError(f"the native library has no {model.native_entry}: rebuild it with `make native`") from None
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.POINTER(_native.struct(model.native_struct)), ctypes.POINTER(_native.struct("pw_drive")),
                   ctypes.POINTER(_native.struct("pw_sim_config")), ctypes.POINTER(_native.struct("pw_sim_output"))]
    fn.argtypes += [ctypes.c_void_p] * len(model.native_traces)
    return lib


def _lib() -> ctypes.CDLL:
    return bind("pyannow")


def cell_struct(model_name: str, params: Mapping[str, float], extras: Mapping[str, float] | None = None):
    """The C parameter struct of ``model_name`` from validated ``params`` (+ per-call ``extras``)."""
    model = models.get(model_name)
    names = _native.struct_info(model.native_struct).names
    values = {k: float(params[k]) for k in names if k in params}
    values.update({k: float(v) for k, v in {**model.extras, **(extras or {})}.items()})
    return _native.fill(model.native_struct, values, what=f"the {model_name} cell")


def spike_capacity(n_steps: int, dt_ms: float, refractory_ms: float) -> int:
    """Upper bound on spikes: one per refractory window per muscle (a crossing
    also needs a step below threshold, so at most one every 2 steps)."""
    refr_steps = max(2, math.ceil(refractory_ms / dt_ms))
    return N_MUSCLES * (n_steps // refr_steps + 1)


def drive_and_config(spec: SimulationSpec, amp_uA: float | None = None, integrator: int | None = None):
    """The pw_drive and pw_sim_config of ``spec`` (shared by every cell model).

    A drive field the model's space lacks takes the C table's default (the
    seed's drive); ``amp_uA`` / ``integrator`` override."""
    p = spec.params
    dvals = {f.name: float(p.get(f.name, f.default)) for f in _native.struct_info("pw_drive").fields
             if f.type == 0 and f.count == 1}
    if amp_uA is not None:
        dvals["drive_amp_uA"] = amp_uA
    dvals.update(phase_rad=QUADRANT_PHASES_RAD, seed=int(spec.seed) & 0xFFFFFFFFFFFFFFFF)
    drive = _native.fill("pw_drive", dvals)
    config = _native.fill("pw_sim_config", dict(
        dt_ms=spec.dt_ms,
        n_steps=spec.n_steps,
        integrator=INTEGRATOR_CODES[spec.integrator] if integrator is None else integrator,
        coupling_g=p.get("coupling_g", 0.0),
        record_every=spec.record_every,
        record_f32=1 if spec.float32 else 0,
        spike_thresh_mV=spec.spike_thresh_mV,
        spike_refractory_ms=spec.refractory_ms,
    ))
    return drive, config


@dataclass
class Buffers:
    """NumPy-owned output buffers of one native run and the pw_sim_output pointing at them."""

    spec: SimulationSpec
    v: np.ndarray
    traces: dict[str, np.ndarray]
    spike_step: np.ndarray
    spike_muscle: np.ndarray
    out: ctypes.Structure

    @classmethod
    def allocate(cls, spec: SimulationSpec, gates: bool = False, extra: tuple[str, ...] = ()) -> "Buffers":
        """V, optionally m and n (``gates``), and ``extra`` [n_samples][96] traces
        for a cell model's own outputs (passed to its C function separately)."""
        from .spikes import check_spike_settings

        check_spike_settings(spec.spike_thresh_mV, spec.refractory_ms)
        n_samples = spec.n_steps // spec.record_every + 1
        dtype = np.float32 if spec.float32 else np.float64
        names = (("m", "n") if gates else ()) + tuple(extra)
        traces = {k: np.empty((n_samples, N_MUSCLES), dtype=dtype) for k in names}
        v = np.empty((n_samples, N_MUSCLES), dtype=dtype)
        cap = spike_capacity(spec.n_steps, spec.dt_ms, spec.refractory_ms)
        steps, muscles = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int32)
        out = _native.struct("pw_sim_output")(
            v_out=v.ctypes.data,
            m_out=traces["m"].ctypes.data if gates else None,
            n_out=traces["n"].ctypes.data if gates else None,
            n_samples=n_samples,
            spike_step=steps.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
            spike_muscle=muscles.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            spike_capacity=cap,
        )
        return cls(spec, v, traces, steps, muscles, out)

    def activity(self, status: int, what: str) -> MuscleActivity:
        """Check ``status`` of the C call ``what`` and wrap the buffers."""
        spec = self.spec
        if status == _native.status_codes().PW_E_NONFINITE:
            raise SimulationError(
                f"the {spec.model} surrogate blew up to NaN/inf ({spec.integrator} integrator, dt_ms={spec.dt_ms:g}); "
                "use the exponential integrator, a smaller dt_ms or other parameters"
            )
        _native.check(status, what)
        k = self.out.n_spikes
        return MuscleActivity(
            t_ms=np.arange(len(self.v), dtype=np.float64) * (spec.record_every * spec.dt_ms),
            v_mV=self.v,
            # spikes come out in step order (muscle order within a step): time-sorted
            spike_times_ms=self.spike_step[:k].astype(np.float64) * spec.dt_ms,
            spike_muscle=self.spike_muscle[:k].copy(),
            backend="native",
            model=spec.model,
            params=dict(spec.params),
            seed=spec.seed,
            traces=self.traces,
        )


def recorded_traces(spec: SimulationSpec) -> tuple[str, ...]:
    """The model's own traces ``spec`` records: all of them with ``record_traces``, else none."""
    return models.get(spec.model).native_traces if spec.record_traces else ()


def simulate(spec: SimulationSpec, **extras: float) -> MuscleActivity:
    """Run ``spec.model`` on the C surrogate; ``extras`` set the model's per-call
    C inputs (boyle2008: ``i_step_uA``, ``step_start_ms``, ``step_stop_ms``)."""
    model = models.get(spec.model)
    model.check_spec(spec)
    lib = bind(model.name)
    cparams = cell_struct(model.name, spec.params, extras)
    drive, config = drive_and_config(spec)
    names = recorded_traces(spec)
    buf = Buffers.allocate(spec, gates=spec.record_gates and model.gates, extra=names)
    # a trace not asked for gets NULL: the kernel then keeps it in its state only
    traces = [buf.traces[k].ctypes.data if k in names else None for k in model.native_traces]
    status = getattr(lib, model.native_entry)(ctypes.byref(cparams), ctypes.byref(drive), ctypes.byref(config),
                                             ctypes.byref(buf.out), *traces)
    return buf.activity(status, model.native_entry)


def simulate_pyannow(spec: SimulationSpec) -> MuscleActivity:
    """Run the seed cell on the C surrogate (``simulate`` with ``spec.model == "pyannow"``)."""
    return simulate(spec)
