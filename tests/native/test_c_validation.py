"""pw_simulate_pyannow validates its arguments itself: a bad value is
PW_E_INVALID (never an abort or a NaN trace), a short spike buffer PW_E_CAPACITY."""
from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from pyannow_hpc import _native
from pyannow_hpc.worm import make_spec
from pyannow_hpc.worm import native as nat

# read from the library (the header's PW_STATUS_LIST is their one definition)
PW_E_INVALID, PW_E_CAPACITY = _native.status_codes().PW_E_INVALID, _native.status_codes().PW_E_CAPACITY


def _call(spec, *, tweak_params=None, tweak_config=None, tweak_drive=None, capacity=None):
    lib = nat._lib()
    cparams = nat.cell_struct("pyannow", spec.params)
    drive, config = nat.drive_and_config(spec)
    for obj, tweak in ((cparams, tweak_params), (config, tweak_config), (drive, tweak_drive)):
        for k, v in (tweak or {}).items():
            setattr(obj, k, v)
    n_samples = spec.n_steps // spec.record_every + 1
    v = np.empty((n_samples, 96), np.float32)
    cap = nat.spike_capacity(spec.n_steps, spec.dt_ms, spec.refractory_ms) if capacity is None else capacity
    steps, mus = np.empty(max(cap, 1), np.int64), np.empty(max(cap, 1), np.int32)
    out = nat.SimOutput(v_out=v.ctypes.data, n_samples=n_samples,
                        spike_step=steps.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                        spike_muscle=mus.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), spike_capacity=cap)
    st = lib.pw_simulate_pyannow(ctypes.byref(cparams), ctypes.byref(drive), ctypes.byref(config), ctypes.byref(out))
    return st, out


@pytest.fixture
def spec():
    return make_spec(model="pyannow", duration_s=0.2)


def test_valid_call_succeeds(spec):
    st, out = _call(spec)
    assert st == 0


@pytest.mark.parametrize("field,value", [("g_egl19", math.nan), ("tau_ca_ms", 0.0), ("c_m_uF", -1.0),
                                         ("g_exp2", math.inf), ("g_leak", -0.1),
                                         ("n_slope_mV", 0.0), ("tau_n_min_ms", math.nan)])
def test_bad_params_rejected(spec, field, value):
    assert _call(spec, tweak_params={field: value})[0] == PW_E_INVALID


@pytest.mark.parametrize("field", ["m_slope_mV", "n_slope_mV", "tau_n_width_mV", "tau_ca_ms", "c_m_uF"])
def test_a_divisor_whose_reciprocal_overflows_is_rejected(spec, field):
    # subnormal: > 0, but 1/x = inf, and (v_half - V) * inf = NaN at V = v_half would
    # be clamped inside the kernel's exp (pw_vmath.h) instead of reported
    assert _call(spec, tweak_params={field: 1e-310})[0] == PW_E_INVALID
    assert _call(spec, tweak_params={field: 1e-300})[0] == 0  # tiny but normal: its reciprocal is finite


@pytest.mark.parametrize("field,value", [("dt_ms", 0.0), ("dt_ms", math.nan), ("record_every", 0), ("integrator", 7),
                                         ("coupling_g", -1.0), ("n_steps", -5), ("spike_refractory_ms", math.inf)])
def test_bad_config_rejected(spec, field, value):
    assert _call(spec, tweak_config={field: value})[0] == PW_E_INVALID


def test_bad_drive_rejected(spec):
    assert _call(spec, tweak_drive={"noise_sd_uA": -1.0})[0] == PW_E_INVALID
    assert _call(spec, tweak_drive={"drive_amp_uA": math.nan})[0] == PW_E_INVALID
    # the tempo knob's pulse needs a frequency to repeat at, and a width >= 0
    assert _call(spec, tweak_drive={"drive_pulse_ms": 100.0, "drive_freq_hz": 0.0})[0] == PW_E_INVALID
    assert _call(spec, tweak_drive={"drive_pulse_ms": -1.0})[0] == PW_E_INVALID
    assert _call(spec, tweak_drive={"drive_phase_rad": math.inf})[0] == PW_E_INVALID


def test_too_few_samples_rejected(spec):
    # record every step into a buffer sized for every 2nd step
    assert _call(spec, tweak_config={"record_every": 1})[0] == PW_E_INVALID


def test_spike_capacity_reported():
    spec = make_spec(model="pyannow", duration_s=0.5, integrator="seed_euler")  # Euler at 0.5 ms "spikes" every cycle
    st, out = _call(spec, capacity=3)
    assert st == PW_E_CAPACITY
    assert out.n_spikes == 3 and out.spikes_needed > 3
    st, out2 = _call(spec)
    assert st == 0 and out2.n_spikes == out.spikes_needed


def test_nonfinite_status_becomes_simulation_error(spec):
    """PW_E_NONFINITE (V blew up) reaches the user as a SimulationError that says what to change."""
    from pyannow_hpc.errors import SimulationError

    buf = nat.Buffers.allocate(spec)
    with pytest.raises(SimulationError, match="NaN/inf.*dt_ms"):
        buf.activity(_native.status_codes().PW_E_NONFINITE, "pw_simulate_pyannow")
    with pytest.raises(SimulationError, match="invalid argument"):
        buf.activity(PW_E_INVALID, "pw_simulate_pyannow")
