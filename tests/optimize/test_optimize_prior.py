"""The prior penalty: value and gradient by hand; a strong prior pulls the optimum to theta_bar."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.optimize.prior import load_prior, write_prior
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm


def test_penalty_value_and_gradient_by_hand(tmp_path):
    names = ["a", "b"]
    mean, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.5], [0.5, 1.0]])
    path = write_prior(tmp_path / "p.h5", names, mean, cov)
    pr = load_prior(str(path), ("b", "x", "a"), weight=3.0)
    c = np.array([-1.0, 7.0, 2.0])  # b, x, a
    d = np.array([2.0 - 1.0, -1.0 + 2.0])  # (a, b) - mean, in the prior's order
    inv = np.linalg.inv(cov)
    with jax.enable_x64(True):
        val, grad = jax.value_and_grad(pr.penalty)(jnp.asarray(c))
    assert float(val) == pytest.approx(3.0 * d @ inv @ d)
    g_ab = 3.0 * 2 * inv @ d
    np.testing.assert_allclose(np.asarray(grad), [g_ab[1], 0.0, g_ab[0]], rtol=1e-12)
    rep = pr.report(c)
    assert rep["prior_mahalanobis"] == pytest.approx(np.sqrt(d @ inv @ d))


def test_prior_needs_a_free_name(tmp_path):
    path = write_prior(tmp_path / "p.h5", ["zz"], [0.0], [[1.0]])
    with pytest.raises(ConfigError, match="none of which"):
        load_prior(str(path), ("a",), 1.0)


def test_strong_prior_moves_the_optimum_to_theta_bar(make_cfg, tmp_path):
    cfg = make_cfg(method="cmaes", iters=12)
    # theta_bar: g_ca_boyle = 1.0 (log10 0), drive_freq 1.7 Hz, offset 0.1 s; tight
    path = write_prior(tmp_path / "prior.h5", ["g_ca_boyle", "drive_freq_hz", "time_offset_s"], [0.0, 1.7, 0.1],
                       np.diag([1e-4, 1e-4, 1e-4]))
    cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, prior=str(path), prior_weight=100.0))
    led = run(cfg, comm=SerialComm(), progress=False)
    best = led.best()["values"]
    np.testing.assert_allclose(best, [1.0, 1.7, 0.1], rtol=0.1, atol=0.02)
