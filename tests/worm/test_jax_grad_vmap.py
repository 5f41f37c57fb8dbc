"""The JAX surrogate is differentiable in the channel parameters and batches with vmap."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyannow_hpc.params import space
from pyannow_hpc.worm import jax_surrogate as js
from pyannow_hpc.worm import make_spec, native

CHANNELS = ("g_egl19", "v_half_ca_mV", "tau_ca_ms", "g_exp2", "g_nca", "g_leak")


def test_grad_matches_central_differences():
    theta0 = js.theta_from(space("pyannow").defaults())
    # a short, noisy run in the transient, where V depends on every channel
    fn = js.make_simulator(40, 0.5, 1)

    with jax.enable_x64(True):
        def mean_v(th):
            return jnp.mean(fn(th, np.uint64(5))["v"])

        grad = jax.grad(mean_v)({k: jnp.float64(v) for k, v in theta0.items()})
        for name in CHANNELS:
            h = 1e-5 * max(1.0, abs(theta0[name]))
            up = float(mean_v({**theta0, name: theta0[name] + h}))
            dn = float(mean_v({**theta0, name: theta0[name] - h}))
            fd = (up - dn) / (2 * h)
            assert float(grad[name]) == pytest.approx(fd, rel=1e-5, abs=1e-8), name
        assert abs(float(grad["g_egl19"])) > 1e-3  # not a trivially flat functional


def test_vmap_batch_equals_looped_runs():
    names = ("g_egl19", "g_exp2", "v_half_ca_mV")
    pm = np.array([[8.0, 5.0, -20.0], [3.0, 12.0, -5.0], [20.0, 1.0, -40.0]])
    batch = js.simulate_batch(pm, names, duration_s=0.1, seeds=np.array([1, 2, 3]))
    assert batch.shape == (3, 101, 96)
    for b, row in enumerate(pm):
        spec = make_spec(dict(zip(names, row)), model="pyannow", duration_s=0.1, seed=b + 1, float32=False)
        single = native.simulate(spec).v_mV
        np.testing.assert_allclose(batch[b], single, rtol=1e-9, atol=1e-9)
    assert np.max(np.abs(batch[0] - batch[1])) > 1.0


def test_batch_validates_rows():
    from pyannow_hpc.errors import ConfigError, ParameterError

    with pytest.raises(ParameterError, match="g_egl19"):
        js.simulate_batch(np.array([[8.0], [99.0]]), ("g_egl19",), duration_s=0.01)
    with pytest.raises(ConfigError, match="shape"):
        js.simulate_batch(np.zeros((2, 3)), ("g_egl19",), duration_s=0.01)


def test_x64_is_scoped():
    js.simulate(make_spec(model="pyannow", duration_s=0.01))
    assert jnp.zeros(1).dtype == jnp.float32  # other JAX code keeps its defaults
