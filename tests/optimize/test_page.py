"""The optimiser's HTML page: its files exist, the table carries the in-sample /
held-out labels and the nulls, and a prior run states its Mahalanobis verdict."""
import dataclasses
import re

import numpy as np
import soundfile as sf

from pyannow_hpc.optimize.prior import write_prior
from pyannow_hpc.optimize.report import finish
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm


def test_page_files_labels_and_prior(make_cfg, tmp_path):
    cfg = make_cfg(method="cmaes", iters=2)
    prior = write_prior(tmp_path / "prior.h5", ["g_ca_boyle", "drive_freq_hz"], [0.0, 1.5], np.diag([0.01, 0.01]))
    cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, prior=str(prior), prior_weight=1.0),
                              evaluate=dataclasses.replace(cfg.evaluate, landscape_points=3, landscape_pairs=1))
    led = run(cfg, comm=SerialComm(), progress=False)
    text = finish(cfg, led)
    out = tmp_path / "cmaes_report"
    page = (out / "index.html").read_text()
    assert f"report: {out / 'index.html'}" in text
    for name in ("loss_curve.png", "trajectories.png", "pianoroll_before.png", "pianoroll_after.png",
                 "landscape_1d.png", "landscape_pair.png", "target.wav", "worm_before.wav", "worm_after.wav",
                 "result.md", "result.csv"):
        assert (out / name).stat().st_size > 0, name
        assert f'"{name}"' in page, name  # linked from the page
    data, fs = sf.read(out / "target.wav")
    assert len(data) >= fs * cfg.simulation.duration_s * 0.99 and np.abs(data).max() > 0
    for label in ("train (in-sample)", "later window (unseen)", "other seed (unseen)", "ablation: tempo+phase only",
                  "ablation: channels only", "shift_z", "uniform_mean", "metronome_f1"):
        assert label in page, label
    # the prior verdict: distance recomputed by hand from the best point
    best = led.best()["values"]
    c = np.array([np.log10(best[0]), best[1]])
    m = np.sqrt(((c - [0.0, 1.5]) ** 2 / 0.01).sum())
    got = float(re.search(r"Mahalanobis distance <b>([0-9.]+)</b>", page).group(1))
    assert abs(got - m) < 1e-3
    inside = m ** 2 <= 5.991  # chi2(0.95, 2)
    assert ("<b>inside</b>" if inside else "<b>outside</b>") in page and "2 degrees of freedom" in page


def test_page_without_prior_says_so(make_cfg, tmp_path):
    cfg = make_cfg(method="nelder-mead", iters=1)
    finish(cfg, run(cfg, comm=SerialComm(), progress=False))
    page = (tmp_path / "nelder-mead_report" / "index.html").read_text()
    assert "No prior was used" in page and "landscape_1d.png" not in page


def test_report_command_renders_an_optimiser_ledger(make_cfg, tmp_path, capsys):
    from pyannow_hpc.cli import main

    cfg = make_cfg(method="cmaes", iters=1)
    led = run(cfg, comm=SerialComm(), progress=False)  # no table, no page yet
    out = tmp_path / "rendered"
    assert main(["report", str(led.path), "--out", str(out)]) == 0
    assert f"report: {out / 'index.html'}" in capsys.readouterr().out
    page = (out / "index.html").read_text()
    assert "train (in-sample)" in page and (out / "worm_after.wav").stat().st_size > 0
