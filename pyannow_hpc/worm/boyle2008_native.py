"""The boyle2008 cell on the C surrogate (``pw_simulate_boyle2008`` in libpyannow).

Reuses the native backend's ctypes structs (:mod:`.native`); only the cell's
own parameter struct is declared here.
"""
from __future__ import annotations

import ctypes

from .. import _native
from ..errors import NativeLibraryError
from . import native
from .activity import MuscleActivity, SimulationSpec
from .boyle2008 import NO_STEP, CurrentStep, check_boyle_spec

#: cell fields in the order of pw_boyle2008_params (pyannow.h); all double
_CELL_FIELDS = (
    "g_ca_boyle", "g_k_slow", "g_k_fast", "g_leak", "e_ca_mV", "e_k_mV", "e_leak_mV", "c_m_uF",
    "ca_decay_ms", "ca_rho", "v_init_mV", "g_syn", "e_syn_mV", "syn_k_per_ms",
    "i_step_uA", "step_start_ms", "step_stop_ms",
)


class Boyle2008Params(ctypes.Structure):
    _fields_ = [(name, ctypes.c_double) for name in _CELL_FIELDS]


def _lib() -> ctypes.CDLL:
    lib = _native.load()
    if not getattr(lib, "_pw_boyle2008_bound", False):
        if not hasattr(lib, "pw_simulate_boyle2008"):
            raise NativeLibraryError("the native library predates the boyle2008 cell: rebuild it with `make native`")
        lib.pw_simulate_boyle2008.restype = ctypes.c_int
        lib.pw_simulate_boyle2008.argtypes = [
            ctypes.POINTER(Boyle2008Params), ctypes.POINTER(native.Drive), ctypes.POINTER(native.SimConfig),
            ctypes.POINTER(native.SimOutput), ctypes.c_void_p,
        ]
        lib._pw_boyle2008_bound = True
    return lib


def cell_struct(params, step: CurrentStep = NO_STEP) -> Boyle2008Params:
    p = params
    return Boyle2008Params(
        **{k: p[k] for k in _CELL_FIELDS[:11]},
        g_syn=p["drive_g_syn"], e_syn_mV=p["syn_e_rev_mV"], syn_k_per_ms=p["syn_k_per_ms"],
        i_step_uA=step.amp_uA, step_start_ms=step.start_ms, step_stop_ms=step.stop_ms,
    )


def simulate(spec: SimulationSpec, step: CurrentStep = NO_STEP) -> MuscleActivity:
    """Run the boyle2008 cell on the C surrogate; ``step`` adds an IClamp to every cell."""
    check_boyle_spec(spec)
    lib = _lib()
    # amp_uA is unused by this cell: its drive amplitude is the conductance drive_g_syn
    drive, config = native.drive_and_config(spec, amp_uA=0.0, integrator=0)
    buf = native.Buffers.allocate(spec, extra=("ca_mM",))
    cparams = cell_struct(spec.params, step)
    status = lib.pw_simulate_boyle2008(ctypes.byref(cparams), ctypes.byref(drive), ctypes.byref(config),
                                       ctypes.byref(buf.out), buf.traces["ca_mM"].ctypes.data)
    return buf.activity(status, "pw_simulate_boyle2008")
