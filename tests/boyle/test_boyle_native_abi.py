"""The C entry point checks its own inputs (the ABI is callable without Python's validation)."""
from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from pyannow_hpc import _native
from pyannow_hpc.errors import SimulationError
from pyannow_hpc.params import space
from pyannow_hpc.worm import boyle2008_native as bn
from pyannow_hpc.worm import make_spec, native
from pyannow_hpc.worm.boyle2008 import CurrentStep
from pyannow_hpc.worm.neuron_reference import AREA_UM2, Trace, compare


INVALID = _native.status_codes().PW_E_INVALID


def _call(params: dict, **spec_kw) -> int:
    spec = make_spec(None, model="boyle2008", duration_s=0.05, **spec_kw)
    drive, config = native.drive_and_config(spec, amp_uA=0.0, integrator=0)
    buf = native.Buffers.allocate(spec, extra=("ca_mM",))
    cp = bn.cell_struct(space("boyle2008").validate(None), CurrentStep())
    for k, v in params.items():
        setattr(cp, k, v)
    return bn._lib().pw_simulate_boyle2008(ctypes.byref(cp), ctypes.byref(drive), ctypes.byref(config),
                                           ctypes.byref(buf.out), buf.traces["ca_mM"].ctypes.data)


@pytest.mark.parametrize("bad", [{"c_m_uF": 0.0}, {"g_ca_boyle": float("nan")}, {"ca_decay_ms": -1.0},
                                 {"g_leak": 0.0}, {"step_stop_ms": float("inf")},
                                 {"e_tau_ms": 0.0}, {"h_k_mM": 0.0}, {"n_scale_mV": float("nan")}])
def test_invalid_parameters_are_rejected_by_the_kernel(bad):
    assert _call({}) == 0
    assert _call(bad) == INVALID


def test_null_structs_are_rejected():
    assert bn._lib().pw_simulate_boyle2008(None, None, None, None, None) == INVALID


def test_invalid_status_becomes_a_simulation_error():
    spec = make_spec(None, model="boyle2008", duration_s=0.05)
    buf = native.Buffers.allocate(spec, extra=("ca_mM",))
    with pytest.raises(SimulationError, match="pw_simulate_boyle2008 failed: invalid argument"):
        buf.activity(INVALID, "pw_simulate_boyle2008")


def test_current_step_units_and_the_comparison_arithmetic():
    # 1 pA on c302's 5 x 20 um cylinder (314.16 um^2) is 0.3183 uA/cm^2
    assert CurrentStep.from_pA(1.0, 0, 1, AREA_UM2).amp_uA == pytest.approx(100.0 / (math.pi * 100.0))
    t = np.arange(0.0, 10.0, 0.05)
    ref = Trace(t, np.sin(t), 1e-7 * (1 + np.cos(t)), np.array([1.0, 5.0]))
    coarse = Trace(t[::10], np.sin(t[::10]) + 0.5, 1e-7 * (1 + np.cos(t[::10])), np.array([1.5, 5.0]))
    c = compare(ref, coarse, level="C1", amp_pA=1.0, dt_ms=0.5)
    assert c.rms_v_mV == pytest.approx(0.5) and c.max_abs_v_mV == pytest.approx(0.5)
    assert c.rms_ca_rel == pytest.approx(0.0, abs=1e-12)
    assert c.max_spike_shift_ms == pytest.approx(0.5)
    lost = Trace(coarse.t_ms, coarse.v_mV, coarse.ca_mM, np.array([1.5]))
    assert math.isinf(compare(ref, lost, level="C1", amp_pA=1.0, dt_ms=0.5).max_spike_shift_ms)
