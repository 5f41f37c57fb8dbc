"""The prior end to end: ``analyze`` on a sweep ledger with a planted musical
cluster writes prior.h5; ``optimize`` (cmaes) with ``prior = that file`` and a
strong weight ends near theta_bar, and its page states the distance."""
import dataclasses
from pathlib import Path

import numpy as np

from pyannow_hpc.analysis import prior as AP
from pyannow_hpc.cli import main
from pyannow_hpc.optimize.report import finish
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm


def _analysis_builder():
    """The analysis tests' ledger builder (tests/analysis/conftest.py), loaded by path: both folders have a conftest."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_analysis_conftest", Path(__file__).resolve().parents[1] / "analysis" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.write_synthetic


write_synthetic = _analysis_builder()

NAMES = ("g_ca_boyle", "drive_freq_hz", "time_offset_s")
#: the planted cluster's centre in search coordinates (log10 for g_ca_boyle)
CENTRE = np.array([0.1, 1.65, 0.08])


def planted_sweep(path):
    """90 background points over the optimiser's box, 30 in a tight musical blob (high shift z)."""
    rng = np.random.default_rng(5)
    lo, hi = np.array([np.log10(0.3), 1.2, -0.25]), np.array([np.log10(1.5), 1.8, 0.25])
    bg = lo + (hi - lo) * rng.uniform(0, 1, (90, 3))
    blob = CENTRE + rng.normal(0, [0.01, 0.01, 0.005], (30, 3))
    coords = np.vstack([bg, blob])
    values = coords.copy()
    values[:, 0] = 10 ** coords[:, 0]
    z = np.concatenate([rng.normal(-0.5, 0.4, 90), rng.normal(3.0, 0.3, 30)])
    return write_synthetic(path, NAMES, values, {"shift_z": z, "f1_mireval": np.full(120, 0.3)},
                           scales={"g_ca_boyle": "log"})


def test_analyze_prior_pulls_cmaes_to_theta_bar(make_cfg, tmp_path, capsys):
    sweep = planted_sweep(tmp_path / "sweep.h5")
    assert main(["analyze", str(sweep), "--out", str(tmp_path / "an"), "--n-boot", "10", "--k-max", "3",
                 "--no-progress", "--no-ledger-prior"]) == 0
    pr = AP.read(tmp_path / "an" / "prior.h5")
    assert list(pr.names) == list(NAMES)
    np.testing.assert_allclose(pr.mean, CENTRE, atol=0.01)  # analyze found the planted blob
    cfg = make_cfg(method="cmaes", iters=16)
    cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, prior=str(tmp_path / "an" / "prior.h5"),
                                                            prior_weight=100.0))
    led = run(cfg, comm=SerialComm(), progress=False)
    best = np.array(led.best()["values"])
    got = np.array([np.log10(best[0]), best[1], best[2]])
    # the box is 0.7 decades x 0.6 Hz x 0.5 s wide: within a few percent of it from theta_bar
    np.testing.assert_allclose(got, pr.mean, atol=0.03)
    text = finish(cfg, led, table=False)
    assert "Mahalanobis distance" in text
