"""The native backend: the C surrogate in libpyannow (``pw_simulate_pyannow``).

``simulate(spec)`` builds the C structs of ``native/include/pyannow.h`` from a
validated :class:`SimulationSpec`, allocates the output buffers in NumPy (so
the caller owns them and nothing is copied back), and returns a
:class:`MuscleActivity`.  Cell models dispatch through :data:`MODELS`: another
cell model (``boyle2008``) registers its own function there from its module.
"""
from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np

from .. import _native
from ..errors import SimulationError
from ..params import PYANNOW_CONSTANTS, QUADRANT_PHASES_RAD
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .models import Simulator, dispatch
from .spikes import check_spike_settings

INTEGRATOR_CODES = {"exponential": 0, "seed_euler": 1}  # enum pw_integrator


class PyannowParams(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_double)
        for name in (
            "g_egl19", "v_half_ca_mV", "tau_ca_ms", "g_exp2", "g_nca", "g_leak", "c_m_uF",
            "e_ca_mV", "e_k_mV", "e_na_mV", "e_leak_mV",
        )
    ]


class Drive(ctypes.Structure):
    _fields_ = [
        ("amp_uA", ctypes.c_double),
        ("freq_hz", ctypes.c_double),
        ("noise_sd_uA", ctypes.c_double),
        ("phase_rad", ctypes.c_double * 4),
        ("seed", ctypes.c_uint64),
    ]


class SimConfig(ctypes.Structure):
    _fields_ = [
        ("dt_ms", ctypes.c_double),
        ("n_steps", ctypes.c_int64),
        ("integrator", ctypes.c_int32),
        ("coupling_g", ctypes.c_double),
        ("record_every", ctypes.c_int32),
        ("record_f32", ctypes.c_int32),
        ("spike_thresh_mV", ctypes.c_double),
        ("spike_refractory_ms", ctypes.c_double),
    ]


class SimOutput(ctypes.Structure):
    _fields_ = [
        ("v_out", ctypes.c_void_p),
        ("m_out", ctypes.c_void_p),
        ("n_out", ctypes.c_void_p),
        ("n_samples", ctypes.c_int64),
        ("spike_step", ctypes.POINTER(ctypes.c_int64)),
        ("spike_muscle", ctypes.POINTER(ctypes.c_int32)),
        ("spike_capacity", ctypes.c_int64),
        ("n_spikes", ctypes.c_int64),
        ("spikes_needed", ctypes.c_int64),
    ]


def _lib() -> ctypes.CDLL:
    lib = _native.load()
    if not getattr(lib, "_pw_surrogate_bound", False):
        lib.pw_simulate_pyannow.restype = ctypes.c_int
        lib.pw_simulate_pyannow.argtypes = [
            ctypes.POINTER(PyannowParams), ctypes.POINTER(Drive), ctypes.POINTER(SimConfig), ctypes.POINTER(SimOutput),
        ]
        lib._pw_surrogate_bound = True
    return lib


def spike_capacity(n_steps: int, dt_ms: float, refractory_ms: float) -> int:
    """Upper bound on spikes: one per refractory window per muscle (a crossing
    also needs a step below threshold, so at most one every 2 steps)."""
    refr_steps = max(2, math.ceil(refractory_ms / dt_ms))
    return N_MUSCLES * (n_steps // refr_steps + 1)


def drive_and_config(spec: SimulationSpec, amp_uA: float | None = None, integrator: int | None = None) -> tuple[Drive, SimConfig]:
    """The pw_drive and pw_sim_config of ``spec`` (shared by every cell model)."""
    p = spec.params
    drive = Drive(
        amp_uA=p["drive_amp_uA"] if amp_uA is None else amp_uA,
        freq_hz=p["drive_freq_hz"],
        noise_sd_uA=p["noise_sd_uA"],
        phase_rad=(ctypes.c_double * 4)(*QUADRANT_PHASES_RAD),
        seed=int(spec.seed) & 0xFFFFFFFFFFFFFFFF,
    )
    config = SimConfig(
        dt_ms=spec.dt_ms,
        n_steps=spec.n_steps,
        integrator=INTEGRATOR_CODES[spec.integrator] if integrator is None else integrator,
        coupling_g=p["coupling_g"],
        record_every=spec.record_every,
        record_f32=1 if spec.float32 else 0,
        spike_thresh_mV=spec.spike_thresh_mV,
        spike_refractory_ms=spec.refractory_ms,
    )
    return drive, config


@dataclass
class Buffers:
    """NumPy-owned output buffers of one native run and the pw_sim_output pointing at them."""

    spec: SimulationSpec
    v: np.ndarray
    traces: dict[str, np.ndarray]
    spike_step: np.ndarray
    spike_muscle: np.ndarray
    out: SimOutput

    @classmethod
    def allocate(cls, spec: SimulationSpec, gates: bool = False, extra: tuple[str, ...] = ()) -> "Buffers":
        """V, optionally m and n (``gates``), and ``extra`` [n_samples][96] traces
        for a cell model's own outputs (passed to its C function separately)."""
        check_spike_settings(spec.spike_thresh_mV, spec.refractory_ms)
        n_samples = spec.n_steps // spec.record_every + 1
        dtype = np.float32 if spec.float32 else np.float64
        names = (("m", "n") if gates else ()) + tuple(extra)
        traces = {k: np.empty((n_samples, N_MUSCLES), dtype=dtype) for k in names}
        v = np.empty((n_samples, N_MUSCLES), dtype=dtype)
        cap = spike_capacity(spec.n_steps, spec.dt_ms, spec.refractory_ms)
        steps, muscles = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int32)
        out = SimOutput(
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
        if status == -3:  # PW_E_NONFINITE
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


def simulate_pyannow(spec: SimulationSpec) -> MuscleActivity:
    """Run the seed cell on the C surrogate."""
    lib = _lib()
    p = spec.params
    cparams = PyannowParams(
        **{k: p[k] for k in ("g_egl19", "v_half_ca_mV", "tau_ca_ms", "g_exp2", "g_nca", "g_leak", "c_m_uF")},
        **PYANNOW_CONSTANTS,
    )
    drive, config = drive_and_config(spec)
    buf = Buffers.allocate(spec, gates=spec.record_gates)
    status = lib.pw_simulate_pyannow(ctypes.byref(cparams), ctypes.byref(drive), ctypes.byref(config),
                                     ctypes.byref(buf.out))
    return buf.activity(status, "pw_simulate_pyannow")


#: cell model name -> simulate function (``boyle2008`` registers itself here)
MODELS: dict[str, Simulator] = {"pyannow": simulate_pyannow}


def simulate(spec: SimulationSpec) -> MuscleActivity:
    return dispatch(MODELS, spec, "native")
