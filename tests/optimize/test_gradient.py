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
