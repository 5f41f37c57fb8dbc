"""The C kernel and the JAX scan are the same algorithm: traces agree to 1e-9."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.worm import boyle2008_jax, boyle2008_native, make_spec
from pyannow_hpc.worm.boyle2008 import CurrentStep


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_ten_seconds_with_noise_agree_to_1e9():
    # drive strong enough to spike (~90 spikes/s over the worm), noise on
    spec = make_spec({"drive_g_syn": 0.15, "noise_sd_uA": 0.3}, model="boyle2008", duration_s=10.0, seed=7,
                     float32=False, record_traces=True)
    c = boyle2008_native.simulate(spec)
    j = boyle2008_jax.simulate(spec)
    assert len(c.spike_times_ms) > 100  # the comparison covers many spikes, not a resting cell
    assert _rel(j.v_mV, c.v_mV) <= 1e-9
    assert _rel(j.traces["ca_mM"], c.traces["ca_mM"]) <= 1e-9
    np.testing.assert_array_equal(j.spike_times_ms, c.spike_times_ms)
    np.testing.assert_array_equal(j.spike_muscle, c.spike_muscle)


def test_coupling_step_and_c2_set_agree():
    # every term on at once: coupling, an IClamp step, C2's reversal potentials and pool
    from pyannow_hpc.worm.boyle2008 import C302_SETS

    params = {**C302_SETS["C2"], "drive_g_syn": 0.3, "noise_sd_uA": 0.2, "coupling_g": 0.05, "syn_k_per_ms": 1.205}
    spec = make_spec(params, model="boyle2008", duration_s=1.0, dt_ms=0.25, sample_rate_hz=500.0, seed=3,
                     float32=False)
    step = CurrentStep(1.5, 200.0, 600.0)
    c = boyle2008_native.simulate(spec, step)
    j = boyle2008_jax.simulate(spec, step)
    assert _rel(j.v_mV, c.v_mV) <= 1e-9
    np.testing.assert_array_equal(j.spike_times_ms, c.spike_times_ms)
    # the step and the coupling did something: segments differ and V moved during the step
    assert np.ptp(c.v_mV[-1]) > 0.0


def test_public_api_and_backend_entries_return_calcium_and_spikes():
    # both backends through the public simulate(): each dispatches on the model's CellModel spec
    from pyannow_hpc.worm import models, simulate

    assert models.get("boyle2008").jax_module() is boyle2008_jax
    for backend in ("native", "jax"):
        act = simulate({"drive_g_syn": 0.15}, model="boyle2008", backend=backend, duration_s=1.0,
                       record_traces=True)
        assert act.model == "boyle2008" and act.backend == backend
        assert act.traces["ca_mM"].shape == act.v_mV.shape == (1001, 96)
        assert np.all(act.traces["ca_mM"] >= 0.0)
        assert len(act.spike_times_ms) > 0
        assert np.all(np.diff(act.spike_times_ms) >= 0)


def test_jax_gradients_match_finite_differences():
    # the JAX twin is differentiable: d(mean [Ca]) / d(g_ca_boyle, drive_g_syn) over 200 ms of a driven worm
    import jax
    import jax.numpy as jnp

    from pyannow_hpc.params import space

    theta0 = boyle2008_jax.theta_from(space("boyle2008").validate({"drive_g_syn": 0.15, "noise_sd_uA": 0.0}))
    fn = boyle2008_jax.make_simulator(400, 0.5, 10)

    def loss(g_ca, g_syn):
        out = fn({**theta0, "g_ca_boyle": g_ca, "drive_g_syn": g_syn}, jnp.uint64(0))
        return jnp.mean(out["ca_mM"]) * 1e7  # ~0.1-1: [Ca] is ~1e-7 mM

    with jax.enable_x64(True):
        g = jax.grad(loss, argnums=(0, 1))(0.7, 0.15)
        for i, (x, h) in enumerate(((0.7, 1e-5), (0.15, 1e-6))):
            args = [0.7, 0.15]
            args[i] = x + h
            up = loss(*args)
            args[i] = x - h
            fd = (up - loss(*args)) / (2 * h)
            assert np.isfinite(float(g[i])) and abs(float(g[i])) > 0
            assert float(g[i]) == pytest.approx(float(fd), rel=1e-4)


def test_jax_vmap_over_parameter_sets_equals_single_runs():
    import jax
    import jax.numpy as jnp

    from pyannow_hpc.params import space

    base = boyle2008_jax.theta_from(space("boyle2008").validate({"drive_g_syn": 0.3}))
    g_ca = np.array([0.3, 0.7, 1.5])
    fn = boyle2008_jax.make_simulator(200, 0.5, 20)
    with jax.enable_x64(True):
        batch = {k: jnp.full(3, v) for k, v in base.items()} | {"g_ca_boyle": jnp.asarray(g_ca)}
        out = jax.vmap(fn)(batch, jnp.asarray([1, 2, 3], jnp.uint64))
        for i in range(3):
            one = fn({**base, "g_ca_boyle": float(g_ca[i])}, jnp.uint64(i + 1))
            np.testing.assert_allclose(np.asarray(out["ca_mM"][i]), np.asarray(one["ca_mM"]), rtol=1e-12, atol=0)
    # different conductances give different calcium: the batch is not one run repeated
    assert not np.allclose(np.asarray(out["ca_mM"][0]), np.asarray(out["ca_mM"][2]))
