"""Gradient mode: the gradient of the smooth loss against finite differences,
and a short Adam run that lowers the loss and resumes to the same trajectory."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyannow_hpc.music.target import load_target
from pyannow_hpc.optimize import ledger as LG
from pyannow_hpc.optimize.gradient import GlobalLoss
from pyannow_hpc.optimize.objective import Problem
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm


def test_gradient_matches_finite_differences(make_cfg):
    cfg = make_cfg(method="gradient", backend="jax", duration=1.0, onsets="soft")
    pb = Problem(cfg, load_target(None))
    z = np.array([[0.0, 0.1, 0.2]])  # a point where no spike is at the edge of firing (there the loss is stiff)
    with jax.enable_x64(True):
        fwd = GlobalLoss(pb, 1, SerialComm(), "none", "forward")
        rev = GlobalLoss(pb, 1, SerialComm(), "none", "reverse")
        loss, g = jax.jit(fwd.vg)(jnp.asarray(z))
        _, g_rev = jax.jit(rev.vg)(jnp.asarray(z))
        f = jax.jit(lambda zz: fwd.vg(zz)[0][0])
        h = 1e-5
        fd = [(f(jnp.asarray(z + h * e)) - f(jnp.asarray(z - h * e))) / (2 * h) for e in np.eye(3)[:, None, :]]
    np.testing.assert_allclose(np.asarray(g)[0], np.array(fd), rtol=1e-4, atol=1e-7)
    # reverse mode agrees on all three, drive_freq_hz included (boyle2008_jax's graded synapse
    # once gave NaN there: a where() whose untaken branch had an infinite cotangent)
    np.testing.assert_allclose(np.asarray(g)[0], np.asarray(g_rev)[0], rtol=1e-8, atol=1e-10)
    assert 0 < float(loss[0]) < 1


def test_surrogate_loss_is_the_hard_dice_of_the_spikes(make_cfg):
    """Forward value of the surrogate loss = the Dice of real threshold crossings."""
    cfg = make_cfg(method="gradient", backend="jax", duration=2.0)
    pb = Problem(cfg, load_target(None))
    m = pb.evaluate(pb.space.values(pb.space.start_unit()), pb.windows[0], with_nulls=False)
    from pyannow_hpc.optimize import loss as L
    notes = pb.target_notes(0.0)
    # the spikes' Dice (refractory 50 ms in the spike rule; crossings are rarer than that here)
    t, p, off, _ = pb._notes_jax(pb.space.values(pb.space.start_unit()), pb.windows[0], (notes.onset_s, notes.pitch, np.ones(len(notes))))
    hard = L.loss_from_onsets(t, p, notes.onset_s, notes.pitch, 2.0, sigma_s=cfg.loss.sigma_s)
    assert m["loss"] == pytest.approx(hard, abs=0.02)


@pytest.mark.slow  # three runs, each compiling its jitted step (~2 min on the shared 2 cores)
def test_adam_lowers_the_loss_and_resumes(make_cfg, tmp_path):
    # the fully smooth loss, whose gradient is the loss's own (checked against finite
    # differences above): Adam must lower it at every step. (With the default
    # surrogate loss -- hard crossings forward, sigmoid gradient -- the first steps
    # from this start point RAISE the hard loss, 0.73 -> 0.92-0.98 for lr 0.01-0.03:
    # docs/optimize.md.)
    cfg = make_cfg(method="gradient", backend="jax", duration=1.0, iters=4, ledger=str(tmp_path / "g.h5"),
                   onsets="soft")
    cfg = dataclasses.replace(cfg, gradient=dataclasses.replace(cfg.gradient, optimizer="adam", learning_rate=0.03))
    full = run(cfg, comm=SerialComm(), progress=False)
    losses = full.column("loss")
    assert (np.diff(losses) < 0).all(), losses
    part = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=str(tmp_path / "p.h5")))
    run(part, comm=SerialComm(), progress=False, stop_after=2)
    run(part, comm=SerialComm(), progress=False)
    back = LG.read(tmp_path / "p.h5")
    np.testing.assert_allclose(back.column("loss"), losses, rtol=1e-12)


@pytest.mark.slow  # compiles the Adam and the L-BFGS steps, twice
def test_adam_then_lbfgs_resumes_inside_the_lbfgs_phase(make_cfg, tmp_path):
    cfg = make_cfg(method="gradient", backend="jax", duration=1.0, iters=4, ledger=str(tmp_path / "l.h5"))
    cfg = dataclasses.replace(cfg, gradient=dataclasses.replace(cfg.gradient, optimizer="adam+lbfgs", adam_steps=1,
                                                                learning_rate=0.03))
    full = run(cfg, comm=SerialComm(), progress=False)
    assert full.last_state()["phase"] == "lbfgs"
    part = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=str(tmp_path / "p.h5")))
    run(part, comm=SerialComm(), progress=False, stop_after=3)  # stopped after the first L-BFGS steps
    run(part, comm=SerialComm(), progress=False)
    np.testing.assert_allclose(LG.read(tmp_path / "p.h5").column("loss"), full.column("loss"), rtol=1e-12)


def test_backtracking_start_takes_the_adam_step_from_its_best_point(make_cfg):
    """Start 0 rose past its best + tol: its next point is Adam's step from its best point
    with the gradient kept there, at half its step and with no first moment, from the
    optimiser state it came in with; start 1 improved: it keeps the main step's numbers
    bit for bit and records its point.  A NaN loss counts as a rise."""
    import optax

    from pyannow_hpc.optimize.gradient import GradientMethod

    cfg = make_cfg(method="gradient", backend="jax", duration=1.0)
    cfg = dataclasses.replace(cfg, gradient=dataclasses.replace(cfg.gradient, optimizer="adam", n_starts=3,
                                                                learning_rate=0.05, backtrack_tol=0.1))
    m = GradientMethod(Problem(cfg, load_target(None)), SerialComm())
    rng = np.random.default_rng(1)
    Z, best_Z, grad, best_grad = (rng.normal(size=(3, 3)) for _ in range(4))
    with jax.enable_x64(True):
        opt_in = jax.tree.map(np.array, m.adam.init(jnp.asarray(Z)))
        # one earlier step so the incoming moments are not zero
        _, opt_in = m.adam.update(jnp.asarray(rng.normal(size=(3, 3))), jax.tree.map(jnp.asarray, opt_in), jnp.asarray(Z))
        opt_in = jax.tree.map(np.array, opt_in)
        upd, opt_main = m.adam.update(jnp.asarray(grad), jax.tree.map(jnp.asarray, opt_in), jnp.asarray(Z))
    Zn_main = Z + np.asarray(upd)
    state = {"opt": opt_in, "best_loss": np.array([0.5, 0.6, 0.4]), "best_Z": best_Z, "best_grad": best_grad,
             "scale": np.array([1.0, 0.5, 1.0])}
    loss = np.array([0.65, 0.55, np.nan])  # rose by 0.15 > 0.1; improved; NaN
    new = {"Z": Zn_main.copy(), "opt": jax.tree.map(np.array, opt_main)}
    out = m._backtrack(state, Z, loss, grad, new)

    def is_adam(x):
        return isinstance(x, optax.ScaleByAdamState)

    def adam_of(opt):
        (a,) = [x for x in jax.tree.leaves(opt, is_leaf=is_adam) if is_adam(x)]
        return a

    # the expected step of the two that went back, from optax directly
    mu0 = np.array(adam_of(opt_in).mu)
    mu0[[0, 2]] = 0.0
    ref_in = jax.tree.map(lambda x: x._replace(mu=mu0) if is_adam(x) else x, opt_in, is_leaf=is_adam)
    with jax.enable_x64(True):
        g_ref = np.where(np.array([True, False, True])[:, None], best_grad, grad)
        upd_ref, opt_ref = m.adam.update(jnp.asarray(g_ref), jax.tree.map(jnp.asarray, ref_in), jnp.asarray(best_Z))
    np.testing.assert_allclose(out["Z"][[0, 2]], (best_Z + 0.5 * np.asarray(upd_ref))[[0, 2]],
                               rtol=1e-13)
    np.testing.assert_array_equal(out["scale"], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(adam_of(out["opt"]).mu[[0, 2]], np.asarray(adam_of(opt_ref).mu)[[0, 2]], rtol=1e-13)
    np.testing.assert_allclose(adam_of(out["opt"]).nu[[0, 2]], np.asarray(adam_of(opt_ref).nu)[[0, 2]], rtol=1e-13)
    # start 1: the main step's own numbers, and its point recorded as its best
    np.testing.assert_array_equal(out["Z"][1], Zn_main[1])
    np.testing.assert_array_equal(adam_of(out["opt"]).mu[1], np.asarray(adam_of(opt_main).mu)[1])
    np.testing.assert_array_equal(adam_of(out["opt"]).nu[1], np.asarray(adam_of(opt_main).nu)[1])
    np.testing.assert_array_equal(out["best_Z"][1], Z[1])
    np.testing.assert_array_equal(out["best_grad"][1], grad[1])
    np.testing.assert_array_equal(out["best_loss"], [0.5, 0.55, 0.4])
    np.testing.assert_array_equal(out["best_Z"][[0, 2]], best_Z[[0, 2]])


@pytest.mark.slow  # three short runs, each compiling its jitted step
def test_a_start_that_falls_silent_goes_back_to_its_best_point_and_resumes(make_cfg, tmp_path):
    # the default surrogate loss from the start point: Adam's first step raises the hard
    # loss 0.73 -> 0.98 (docs/optimize.md); without backtracking the worm stays near silence
    def cfg_of(tol, name):
        cfg = make_cfg(method="gradient", backend="jax", duration=1.0, iters=5, ledger=str(tmp_path / name))
        return dataclasses.replace(cfg, gradient=dataclasses.replace(cfg.gradient, optimizer="adam", learning_rate=0.03,
                                                                     backtrack_tol=tol))
    off = run(cfg_of(0.0, "off.h5"), comm=SerialComm(), progress=False).column("loss")
    assert off[1] > off[0] + 0.1 and off[2:].min() > 0.95, off
    full = run(cfg_of(0.1, "on.h5"), comm=SerialComm(), progress=False)
    on = full.column("loss")
    np.testing.assert_array_equal(on[:2], off[:2])  # bitwise plain Adam until the first rise
    assert on[-1] < on[0], on  # back below its start
    assert full.last_state()["scale"][0] < 1.0
    part = cfg_of(0.1, "part.h5")
    run(part, comm=SerialComm(), progress=False, stop_after=3)
    run(part, comm=SerialComm(), progress=False)
    np.testing.assert_allclose(LG.read(tmp_path / "part.h5").column("loss"), on, rtol=1e-12)
