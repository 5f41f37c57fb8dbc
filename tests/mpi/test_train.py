"""Data-parallel training under `mpiexec -n 2` (also passes on one rank).

Each rank trains on its shard with the gradient allreduce; the reference is
the serial path (SerialComm, no reduction) on the FULL problem, computed by
every rank inside the same test. Same global batch -> same parameters.
"""
import functools

import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pyannow_hpc.parallel.collectives import mpi4jax_available, params_agree
from pyannow_hpc.parallel.comm import SerialComm, world
from pyannow_hpc.learn import pinn_ode
from pyannow_hpc.learn.mlp import train_classifier
from pyannow_hpc.learn.optim import TrainConfig

pytestmark = pytest.mark.mpi


def _problem():
    t = np.arange(120) / 50.0
    z = np.column_stack([np.sin(2 * np.pi * 1.5 * t + j) for j in range(3)])
    # odd collocation count: shards of unequal size must still give the global mean
    return pinn_ode.make_problem(t, z, 0.4 * np.roll(z, 5, axis=0), n_colloc=61)


def _flat(p):
    return np.asarray(ravel_pytree(p)[0], dtype=np.float64)


@functools.lru_cache(maxsize=None)
def _serial_reference():
    """The one-rank run on the full problem (computed once per process, shared by both reducers)."""
    params, hist = pinn_ode.train(_problem(), TrainConfig(25, 5, 1e-2, reducer="none"), comm=SerialComm())
    return _flat(params), hist.final_loss


@pytest.mark.parametrize("reducer", ["auto", "mpi4py"])
def test_pinn_ranks_agree_and_match_the_one_rank_run(reducer):
    comm = world()
    prob = _problem()
    cfg = TrainConfig(adam_steps=25, lbfgs_steps=5, learning_rate=1e-2, reducer=reducer)
    params, hist = pinn_ode.train(prob, cfg, comm=comm)
    if comm.Get_size() > 1:
        expected = "mpi4jax" if reducer == "auto" and mpi4jax_available() else "mpi4py"
        assert hist.reducer == expected
    assert params_agree(params, comm, atol=0.0)  # bit-identical on every rank
    ref, ref_loss = _serial_reference()
    np.testing.assert_allclose(_flat(params), ref, rtol=2e-4, atol=2e-5)
    assert hist.final_loss == pytest.approx(ref_loss, rel=1e-4)


def test_batch_sharded_classifier_matches_the_full_batch():
    comm = world()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(101, 6)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=101) > 0.8).astype(np.float32)
    cfg = TrainConfig(adam_steps=30, lbfgs_steps=4, learning_rate=1e-2)
    clf = train_classifier(X, y, hidden=(16,), config=cfg, comm=comm)
    assert params_agree(clf.params, comm)
    ref = train_classifier(X, y, hidden=(16,), config=TrainConfig(30, 4, 1e-2, reducer="none"), comm=SerialComm())
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_gradient_allreduce_sums_exactly():
    from pyannow_hpc.parallel.collectives import global_value_and_grad, resolve_reducer

    comm = world()
    size, rank = comm.Get_size(), comm.Get_rank()
    reducer = resolve_reducer("auto", comm)
    # rank r holds the points r+1: loss share sum(p * x), gradient share sum(x)
    x = jnp.asarray([rank + 1.0], jnp.float32)
    value, grad = global_value_and_grad(lambda p, x: jnp.sum(p["w"] * x), 1, reducer, comm)({"w": jnp.float32(2.0)}, x)
    total = size * (size + 1) / 2
    assert float(value) == pytest.approx(2.0 * total) and float(grad["w"]) == pytest.approx(total)


def test_train_cli_on_the_real_worm(tmp_path, capsys):
    from pyannow_hpc.cli import main

    comm = world()
    out = comm.bcast(str(tmp_path / "hybrid.npz"), root=0)
    # the batch (worm frames) is sharded; the PINNs' collocation sharding is tested above
    rc = main(["train", "--net", "hybrid", "--duration-s", "4", "--adam-steps", "10",
               "--lbfgs-steps", "2", "--out", out, "--json"])
    assert rc == 0
    if comm.Get_rank() == 0:
        import json

        info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert info["ranks"] == comm.Get_size() and info["params_identical_on_all_ranks"] is True
        assert np.load(out)["flat"].size == info["n_params"]
