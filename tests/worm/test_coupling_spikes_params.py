"""Coupling, the spike rule, and parameter validation at the edge."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyannow_hpc.errors import ParameterError
from pyannow_hpc.worm import make_spec, simulate
from pyannow_hpc.worm import native
from pyannow_hpc.worm.spikes import detect_spikes, refractory_steps


def neighbour_spread(coupling, **kw):
    act = simulate({"coupling_g": coupling, "noise_sd_uA": 2.0, **kw}, model="pyannow", duration_s=1.0, seed=4, float32=False)
    v = act.v_mV[act.t_ms >= 300].reshape(-1, 4, 24)
    return float(np.mean(np.abs(np.diff(v, axis=2))))


def test_coupling_reduces_neighbour_differences():
    spreads = [neighbour_spread(g) for g in (0.0, 0.5, 2.0, 5.0)]
    assert all(b < a for a, b in zip(spreads, spreads[1:])), spreads
    assert spreads[-1] < 0.8 * spreads[0]


def test_zero_coupling_is_the_independent_seed_model(reference):
    """coupling_g = 0 reproduces independent cells (the LSODA reference solves
    each cell alone); coupling moves the traces away from it and pulls the
    segments of a quadrant together."""
    params = dict(g_egl19=4.0, g_exp2=10.0, v_half_ca_mV=-10.0)  # cells spread over ~8 mV here
    errs, spreads = [], []
    for g in (0.0, 0.2, 1.0):
        act = simulate({"noise_sd_uA": 0.0, "coupling_g": g, **params}, model="pyannow", duration_s=0.3, dt_ms=0.125,
                       sample_rate_hz=8000.0, float32=False)
        ref = reference(act.t_ms, g_egl19=4.0, g_exp2=10.0, v_half=-10.0)
        errs.append(float(np.sqrt(np.mean((act.v_mV - ref) ** 2))))
        last = act.v_mV[-1].reshape(4, 24)
        spreads.append(float(np.mean(last.max(axis=1) - last.min(axis=1))))
    assert errs[0] < 0.4 and errs[0] < errs[1] < errs[2], errs
    assert spreads[2] < spreads[1] < spreads[0], spreads


def test_spike_rule_on_hand_made_trace():
    dt = 1.0
    v = np.full((40, 2), -50.0)
    v[3, 0] = 0.0       # crossing at sample 3 -> spike
    v[6, 0] = 0.0       # 3 samples later, inside 5 ms refractory -> dropped
    v[9, 0] = 0.0       # 6 samples after the spike -> spike
    v[10:13, 0] = 5.0   # staying above is not a new crossing
    v[20, 1] = -10.0    # exactly at threshold counts (>=)
    v[21, 1] = -10.0
    t, mus = detect_spikes(v, dt, thresh_mV=-10.0, refractory_ms=5.0)
    assert t.tolist() == [3.0, 9.0, 20.0] and mus.tolist() == [0, 0, 1]
    assert refractory_steps(5.0, 1.0) == 5 and refractory_steps(50.0, 0.3) == 167


def test_c_spikes_equal_detection_on_full_resolution_trace():
    spec = make_spec(model="pyannow", duration_s=1.0, integrator="seed_euler", sample_rate_hz=2000.0, float32=False, refractory_ms=20.0)
    act = native.simulate(spec)
    assert len(act.spike_times_ms) > 500
    t, mus = detect_spikes(act.v_mV, spec.dt_ms, spec.spike_thresh_mV, spec.refractory_ms)
    order = np.lexsort((act.spike_muscle, act.spike_times_ms))
    assert np.array_equal(t, act.spike_times_ms[order]) and np.array_equal(mus, act.spike_muscle[order])
    # refractory respected per muscle
    for j in range(96):
        assert np.all(np.diff(act.spikes_of(j)) >= spec.refractory_ms)


@pytest.mark.parametrize("name,value", [("g_egl19", math.nan), ("tau_ca_ms", 0.5), ("g_exp2", math.inf),
                                        ("v_half_ca_mV", 12.0), ("coupling_g", -1.0)])
@pytest.mark.parametrize("backend", ["native", "jax", "numpy"])
def test_bad_parameters_rejected_naming_them(name, value, backend):
    with pytest.raises(ParameterError, match=name):
        simulate({name: value}, backend=backend, model="pyannow", duration_s=0.01)


def test_unknown_parameter_suggests_the_right_name():
    with pytest.raises(ParameterError, match="did you mean 'g_egl19'"):
        simulate({"g_egl_19": 3.0}, model="pyannow", duration_s=0.01)


def test_unknown_cell_model_is_a_clear_error():
    from pyannow_hpc.errors import ConfigError

    spec = make_spec(model="pyannow", duration_s=0.01)
    with pytest.raises(ConfigError, match="unknown cell model"):
        native.simulate(type(spec)(params=spec.params, model="nonexistent", duration_ms=10.0))


@pytest.mark.parametrize("backend", ["native", "jax", "numpy"])
@pytest.mark.parametrize("kw,needle", [({"refractory_ms": -1.0}, "refractory_ms"),
                                       ({"spike_thresh_mV": math.nan}, "spike_thresh_mV")])
def test_bad_spike_settings_named(backend, kw, needle):
    from pyannow_hpc.errors import ConfigError

    with pytest.raises(ConfigError, match=needle):
        simulate(backend=backend, model="pyannow", duration_s=0.01, **kw)
