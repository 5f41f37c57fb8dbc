"""C, JAX and NumPy implement one model with one noise stream: their traces agree."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.worm import make_spec, simulate
from pyannow_hpc.worm import jax_surrogate, native, numpy_reference


def rel_err(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


@pytest.fixture(scope="module")
def ten_seconds():
    """10 s, float64, noise ON (sd 0.3), every integration step recorded at 1 kHz."""
    spec = make_spec(model="pyannow", duration_s=10.0, seed=7, float32=False, record_gates=True)
    return spec, native.simulate(spec), jax_surrogate.simulate(spec)


def test_c_vs_jax_10s_noise_on(ten_seconds):
    spec, c, j = ten_seconds
    assert spec.params["noise_sd_uA"] == 0.3 and c.v_mV.shape == (10001, 96)
    assert rel_err(j.v_mV, c.v_mV) <= 1e-9
    for g in ("m", "n"):
        assert np.max(np.abs(j.traces[g] - c.traces[g])) <= 1e-9
    assert np.array_equal(j.spike_times_ms, c.spike_times_ms) and np.array_equal(j.spike_muscle, c.spike_muscle)


def test_noise_is_seeded_and_matters(ten_seconds):
    spec, c, _ = ten_seconds
    again = native.simulate(spec)
    assert np.array_equal(again.v_mV, c.v_mV)
    other = native.simulate(make_spec(model="pyannow", duration_s=10.0, seed=8, float32=False))
    assert np.max(np.abs(other.v_mV - c.v_mV)) > 1e-3


@pytest.mark.parametrize("integrator", ["exponential", "seed_euler"])
@pytest.mark.parametrize("coupling", [0.0, 1.5])
def test_numpy_matches_c(integrator, coupling):
    spec = make_spec({"coupling_g": coupling, "g_egl19": 12.0}, model="pyannow", duration_s=0.4, seed=3, integrator=integrator, float32=False)
    c, n = native.simulate(spec), numpy_reference.simulate(spec)
    # Euler's clipped period-2 flip amplifies ulps a little more than the smooth scheme
    assert rel_err(n.v_mV, c.v_mV) <= (1e-9 if integrator == "exponential" else 1e-7)
    assert np.array_equal(n.spike_times_ms, c.spike_times_ms) and np.array_equal(n.spike_muscle, c.spike_muscle)


def test_jax_seed_euler_and_coupling_match_c():
    spec = make_spec({"coupling_g": 2.0}, model="pyannow", duration_s=0.5, seed=11, integrator="seed_euler", float32=False)
    c, j = native.simulate(spec), jax_surrogate.simulate(spec)
    assert rel_err(j.v_mV, c.v_mV) <= 1e-7
    assert np.array_equal(j.spike_times_ms, c.spike_times_ms)


def test_odd_sampling_and_tail_steps():
    """n_steps not a multiple of record_every: the tail still counts for spikes."""
    spec = make_spec(model="pyannow", duration_s=0.2005, dt_ms=0.5, sample_rate_hz=300.0, integrator="seed_euler", float32=False)
    assert spec.n_steps % spec.record_every != 0
    c, j = native.simulate(spec), jax_surrogate.simulate(spec)
    assert c.v_mV.shape == j.v_mV.shape == (spec.n_steps // spec.record_every + 1, 96)
    np.testing.assert_allclose(c.t_ms, np.arange(c.v_mV.shape[0]) * spec.record_every * spec.dt_ms)
    assert np.array_equal(j.spike_times_ms, c.spike_times_ms)


def test_float32_traces_and_gates():
    act = simulate(model="pyannow", duration_s=1.0, record_gates=True)
    assert act.v_mV.dtype == np.float32 and act.traces["m"].dtype == np.float32
    assert act.v_mV.shape == (1001, 96) and act.sample_rate_hz == pytest.approx(1000.0)
    assert act.v_mV[0, 0] == -65.0 and act.traces["m"][0, 0] == 0.0
    assert np.all((act.traces["n"] >= 0) & (act.traces["n"] <= 1))


def test_gate_sigmoids_far_from_their_midpoints_match_jax():
    # v_half_ca = +5000 mV (the C ABI takes any finite value; make_spec's bounds stop
    # at 0 mV, so the spec is edited past them): m_inf's exp saturates while n_inf's
    # stays moderate.  The C kernel's m_inf and n_inf share one division, 1/(a b);
    # an overflow of a b zeroed n_inf (1/65 -> 0 at rest) where JAX keeps it.
    import dataclasses

    spec = make_spec(model="pyannow", duration_s=0.2, seed=2, float32=False, record_gates=True)
    spec = dataclasses.replace(spec, params={**spec.params, "v_half_ca_mV": 5000.0})
    c, j = native.simulate(spec), jax_surrogate.simulate(spec)
    assert np.max(np.abs(j.traces["n"] - c.traces["n"])) <= 1e-9
    assert np.max(np.abs(j.traces["m"] - c.traces["m"])) <= 1e-9
    assert rel_err(j.v_mV, c.v_mV) <= 1e-9
