import jax.numpy as jnp
import numpy as np
import pytest

from pyannow_hpc.parallel import collectives as coll
from pyannow_hpc.errors import ConfigError
from pyannow_hpc.learn import pinn_ode, pinn_pde
from pyannow_hpc.learn.optim import TrainConfig, fit


def _ode_problem(n=100, k=2):
    t = np.arange(n) / 50.0
    z = np.column_stack([np.sin(2 * np.pi * 1.5 * t + j) for j in range(k)])
    return pinn_ode.make_problem(t, z, 0.5 * np.roll(z, 3, axis=0), n_colloc=40), t, z


def test_ode_residual_by_autodiff_matches_finite_differences():
    prob, t, z = _ode_problem()
    params = pinn_ode.init_params(prob, seed=3)
    tc = np.linspace(0.3, 1.5, 7)
    fc = np.zeros((7, prob.k))
    r = np.asarray(pinn_ode.residual(params, prob, jnp.asarray(tc, jnp.float32), jnp.asarray(fc, jnp.float32)))
    h = 1e-2
    q = lambda tt: pinn_ode.predict(params, prob, np.asarray(tt)).astype(np.float64)  # noqa: E731
    q0, qp, qm = q(tc), q(tc + h), q(tc - h)
    w = prob.omega0_rad_s
    fd = ((qp - 2 * q0 + qm) / h**2 + 2 * 1.0 * (qp - qm) / (2 * h) + w**2 * q0) / w**2
    np.testing.assert_allclose(r, fd, atol=2e-2 * max(1.0, np.abs(fd).max()))


def test_pde_residual_by_autodiff_matches_finite_differences():
    t = np.arange(100) / 50.0
    field = np.sin(2 * np.pi * (1.5 * t[:, None] - np.linspace(0, 1, 96)[None, :]))
    prob = pinn_pde.make_problem(t, field, 0.2 * field, n_x=4, n_t=4, n_data=64)
    params = pinn_pde.init_params(prob, seed=1)
    x0, t0, h = 0.4, 0.9, 1e-2
    r = float(pinn_pde.residual(params, prob, jnp.asarray([[x0, t0]], jnp.float32), jnp.zeros(1, jnp.float32))[0])
    q = lambda x, tt: float(pinn_pde.q_of_xt(params, prob.period_s)(jnp.float32(x), jnp.float32(tt)))  # noqa: E731
    q_tt = (q(x0, t0 + h) - 2 * q(x0, t0) + q(x0, t0 - h)) / h**2
    q_xx = (q(x0 + h, t0) - 2 * q(x0, t0) + q(x0 - h, t0)) / h**2
    q_t = (q(x0, t0 + h) - q(x0, t0 - h)) / (2 * h)
    mu = float(np.exp(params["log_mu"]))
    fd = (q_tt - mu * q_xx + q_t) / prob.s0
    assert r == pytest.approx(fd, abs=0.05 * max(abs(fd), 1e-2))


def test_ode_pinn_training_lowers_both_loss_terms():
    prob, t, z = _ode_problem()
    before = pinn_ode.losses(pinn_ode.init_params(prob), prob, t, prob.c_data, z)
    # Adam only: the L-BFGS stage is exercised by the least-squares test and the MPI tier
    params, hist = pinn_ode.train(prob, TrainConfig(adam_steps=60, lbfgs_steps=0, learning_rate=1e-2, reducer="none"))
    after = pinn_ode.losses(params, prob, t, prob.c_data, z)
    assert hist.final_loss < hist.loss[0]
    assert after["data_mse"] < before["data_mse"]
    assert len(hist.adam_step_s) == 59 and hist.lbfgs_step_s == []


def test_lbfgs_solves_least_squares_and_mpi4py_path_agrees_on_one_rank():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(64, 5)).astype(np.float32)
    b = rng.normal(size=64).astype(np.float32)
    loss = lambda p, A, b: jnp.sum((A @ p["w"] - b) ** 2) / 64  # noqa: E731
    p0 = {"w": jnp.zeros(5, jnp.float32)}
    p, _ = fit(loss, p0, (A, b), TrainConfig(adam_steps=0, lbfgs_steps=25, reducer="none"))
    np.testing.assert_allclose(p["w"], np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-3)
    from mpi4py import MPI

    if MPI.COMM_WORLD.Get_size() == 1:
        p_none, _ = fit(loss, p0, (A, b), TrainConfig(20, 3, 0.05, reducer="none"))
        p_host, h = fit(loss, p0, (A, b), TrainConfig(20, 3, 0.05, reducer="mpi4py"), comm=MPI.COMM_WORLD)
        assert h.reducer == "mpi4py"  # the host-allreduce path really ran
        np.testing.assert_allclose(p_host["w"], p_none["w"], rtol=1e-5, atol=1e-6)


def test_bad_training_settings_are_config_errors():
    with pytest.raises(ConfigError):
        TrainConfig(adam_steps=-1)
    with pytest.raises(ConfigError):
        TrainConfig(learning_rate=float("nan"))
    with pytest.raises(ConfigError, match="unknown reducer"):
        coll.resolve_reducer("nccl")
    with pytest.raises(ConfigError, match="shard"):
        coll.shard_slice(1, 0, 2)
    assert [coll.shard_slice(10, r, 3) for r in range(3)] == [slice(0, 4), slice(4, 7), slice(7, 10)]


def test_gpu_without_cuda_mpi4jax_falls_back_to_mpi4py(monkeypatch):
    # no GPU here: a stand-in backend name and a 2-rank stand-in communicator
    import jax

    class TwoRanks:
        def Get_size(self):
            return 2

        def Allreduce(self, *a, **k):  # noqa: N802 (mpi4py spelling)
            raise AssertionError("not called")

    coll.mpi4jax_available.cache_clear()
    try:
        import importlib.util

        # on CPU mpi4jax reduces host buffers (when the install step could build it)
        cpu = "mpi4jax" if importlib.util.find_spec("mpi4jax") else "mpi4py"
        assert coll.resolve_reducer("auto", TwoRanks()) == cpu
        coll.mpi4jax_available.cache_clear()
        monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
        # the Makefile's mpi4jax is built without CUDA: on a GPU the host path must be chosen
        assert coll.resolve_reducer("auto", TwoRanks()) == "mpi4py"
        with pytest.raises(ConfigError, match="mpi4jax"):
            coll.resolve_reducer("mpi4jax", TwoRanks())
    finally:
        coll.mpi4jax_available.cache_clear()
