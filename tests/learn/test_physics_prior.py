"""The Bayesian prior on the PINNs' physical parameters (SCIENCE.md §3)."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyannow_hpc.cli import main
from pyannow_hpc.learn.physics_prior import load_physics_prior, physical_coords, with_prior
from pyannow_hpc.optimize.prior import write_prior

MEAN = np.array([math.log10(3.0), math.log10(2 * math.pi * 1.5)])  # gamma 3 /s, omega at the 1.5 Hz wave
COV = np.array([[0.04, 0.01], [0.01, 0.09]])


@pytest.fixture
def prior_file(tmp_path):
    return str(write_prior(tmp_path / "prior.h5", ["gamma_per_s", "omega_rad_s"], MEAN, COV))


def test_penalty_value_and_gradient_by_hand(prior_file):
    prior = load_physics_prior("ode", prior_file, weight=2.5)
    # float32 (JAX default): agreement to ~1e-5 relative
    params = {"log_gamma": jnp.float64(math.log(1.7)), "log_omega": jnp.float64(math.log(8.0)), "w": jnp.ones(3)}
    d = np.array([math.log10(1.7), math.log10(8.0)]) - MEAN
    p_inv = np.linalg.inv(COV)
    want = 2.5 * d @ p_inv @ d
    loss = with_prior(lambda prm: 0.0 * jnp.sum(prm["w"]), "ode", prior, size=1)
    assert float(loss(params)) == pytest.approx(want, rel=1e-5)
    # d/d log_gamma = λ 2 (Σ⁻¹ d)_0 / ln 10: the coords are log10 of the value
    g = jax.grad(loss)(params)
    assert float(g["log_gamma"]) == pytest.approx(2.5 * 2 * (p_inv @ d)[0] / math.log(10), rel=1e-5)
    assert float(g["log_omega"]) == pytest.approx(2.5 * 2 * (p_inv @ d)[1] / math.log(10), rel=1e-5)
    # each of N ranks adds 1/N: the allreduced loss carries the penalty once
    assert float(with_prior(loss, "ode", prior, size=4)(params)) == pytest.approx(want * 1.25, rel=1e-5)
    assert np.allclose(physical_coords("ode", params, np), [math.log10(1.7), math.log10(8.0)])


def _train(extra, capsys):
    rc = main(["train", "--net", "ode", "--duration-s", "2", "--adam-steps", "120", "--lbfgs-steps", "0",
               "--lr", "0.05", "--json", *extra])
    assert rc == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_strong_prior_moves_the_learned_physics_to_its_mean(prior_file, capsys):
    free = _train([], capsys)
    held = _train(["--prior", prior_file, "--prior-weight", "1000"], capsys)
    assert held["gamma_per_s"] == pytest.approx(3.0, rel=0.05)  # θ̄
    assert abs(free["gamma_per_s"] - 3.0) > 0.3  # without the prior the data put it elsewhere
    assert held["prior_inside_95"] and held["prior_mahalanobis"] < 0.5


def test_prior_errors_are_one_line(prior_file, tmp_path, capsys):
    assert main(["train", "--net", "hybrid", "--prior", prior_file]) == 2
    assert "applies to the PINNs" in capsys.readouterr().err
    other = write_prior(tmp_path / "other.h5", ["g_ca_boyle"], np.zeros(1), np.eye(1))
    assert main(["train", "--net", "ode", "--prior", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pyannow-hpc: error:") and "none of which" in err[0]
