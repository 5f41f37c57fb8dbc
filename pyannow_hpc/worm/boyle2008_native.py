"""The boyle2008 cell on the C surrogate (``pw_simulate_boyle2008`` in libpyannow).

Reuses the native backend's ctypes structs (:mod:`.native`); only the cell's
own parameter struct is declared here.
"""
from __future__ import annotations

import ctypes

import numpy as np

from .. import _native
from ..errors import NativeLibraryError, SimulationError
from ..params import QUADRANT_PHASES_RAD
from . import native
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
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
    p = spec.params
    drive = native.Drive(
        amp_uA=0.0,  # unused by this cell: its drive amplitude is the conductance drive_g_syn
        freq_hz=p["drive_freq_hz"],
        noise_sd_uA=p["noise_sd_uA"],
        phase_rad=(ctypes.c_double * 4)(*QUADRANT_PHASES_RAD),
        seed=int(spec.seed) & 0xFFFFFFFFFFFFFFFF,
    )
    config = native.SimConfig(
        dt_ms=spec.dt_ms, n_steps=spec.n_steps, integrator=0, coupling_g=p["coupling_g"],
        record_every=spec.record_every, record_f32=1 if spec.float32 else 0,
        spike_thresh_mV=spec.spike_thresh_mV, spike_refractory_ms=spec.refractory_ms,
    )
    n_samples = spec.n_steps // spec.record_every + 1
    dtype = np.float32 if spec.float32 else np.float64
    v = np.empty((n_samples, N_MUSCLES), dtype=dtype)
    ca = np.empty((n_samples, N_MUSCLES), dtype=dtype)
    cap = native.spike_capacity(spec.n_steps, spec.dt_ms, spec.refractory_ms)
    spike_step = np.empty(cap, dtype=np.int64)
    spike_muscle = np.empty(cap, dtype=np.int32)
    out = native.SimOutput(
        v_out=v.ctypes.data, m_out=None, n_out=None, n_samples=n_samples,
        spike_step=spike_step.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
        spike_muscle=spike_muscle.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
        spike_capacity=cap,
    )
    cparams = cell_struct(p, step)
    status = lib.pw_simulate_boyle2008(ctypes.byref(cparams), ctypes.byref(drive), ctypes.byref(config),
                                       ctypes.byref(out), ca.ctypes.data)
    if status == -3:  # PW_E_NONFINITE
        raise SimulationError(f"the boyle2008 surrogate became NaN/inf (dt_ms={spec.dt_ms:g}); check the parameters")
    _native.check(status, "pw_simulate_boyle2008")
    k = out.n_spikes
    return MuscleActivity(
        t_ms=np.arange(n_samples, dtype=np.float64) * (spec.record_every * spec.dt_ms),
        v_mV=v,
        spike_times_ms=spike_step[:k].astype(np.float64) * spec.dt_ms,
        spike_muscle=spike_muscle[:k].copy(),
        backend="native",
        model=spec.model,
        params=dict(spec.params),
        seed=spec.seed,
        traces={"ca_mM": ca},
    )
