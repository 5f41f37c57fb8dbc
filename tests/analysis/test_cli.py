"""``pyannow-hpc analyze`` end to end, and its one-line errors."""
from __future__ import annotations

import numpy as np

from pyannow_hpc.analysis import prior
from pyannow_hpc.cli import main

F1_LABEL = "F1 (mir_eval one-to-one, ±50 ms)"


def test_analyze_writes_report_tables_plots_and_prior_and_the_sweep_page_links_it(tmp_path, synthetic, capsys):
    from pyannow_hpc.report.render import render

    rng = np.random.default_rng(9)
    x = rng.uniform(0, 1, (48, 2))
    f1 = 0.1 + 0.3 * x[:, 0] + rng.normal(0, 0.02, 48)
    path = synthetic(tmp_path / "s.h5", ("drive_g_syn", "noise_sd_uA"), x, {"f1_mireval": f1, "onset_loss": 1 - f1})
    index = render(path, top_k=1, progress=False)
    assert "analysis/index.html" not in index.read_text()  # no dead link before analyze ran
    raw = path.read_bytes()
    rc = main(["analyze", str(path), "--n-boot", "10", "--k-max", "3", "--no-progress", "--no-ledger-prior"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "analyzed 48 evaluations by f1_mireval" in printed and "report:" in printed
    assert path.read_bytes() == raw  # --no-ledger-prior: the ledger is not touched
    out = index.parent / "analysis"  # the default folder sits inside the sweep report's
    for name in ("analysis.md", "index.html", "prior.h5", "plots/scree.png", "plots/bic.png", "plots/clusters.png",
                 "plots/cooks.png", "plots/importance.png", "tables/ols.csv", "tables/prior_mean.csv",
                 "tables/sensitivity.csv", "tables/importance.csv", "tables/pca.csv"):
        assert (out / name).stat().st_size > 0, name
    md = (out / "analysis.md").read_text()
    # every table caption names the score it analyses
    captions = [line for line in md.splitlines() if line.startswith("**") and line.endswith("**")]
    assert len(captions) >= 8 and all(F1_LABEL in c for c in captions), captions
    assert "no shift-null z" in md.lower() and "SALib.analyze.delta" in md
    assert prior.read(out / "prior.h5").score == "f1_mireval"
    page = (out / "index.html").read_text()
    assert "plots/scree.png" in page and "tables/ols.csv" in page and 'href="../index.html"' in page
    render(path, top_k=1, progress=False)
    assert 'href="analysis/index.html"' in index.read_text()


def test_bad_inputs_are_one_line_errors(tmp_path, synthetic, capsys):
    x, y = np.random.default_rng(0).uniform(0, 1, (8, 2)), {"f1_mireval": np.linspace(0, 1, 8)}
    a = synthetic(tmp_path / "a.h5", ("p", "q"), x, y, model="boyle2008")
    b = synthetic(tmp_path / "b.h5", ("p", "q"), x, y, model="pyannow")
    for argv, needle in (
        ([str(a), str(b)], "different cell models"),
        ([str(tmp_path / "missing.h5")], "does not exist"),
        ([str(a), "--score", "shift_z"], "not in the ledger"),
        ([str(a), "--musical-quantile", "1.5"], "musical-quantile"),
    ):
        rc = main(["analyze", *argv, "--out", str(tmp_path / "o"), "--no-progress"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("pyannow-hpc: error:") and needle in err[0], err
    assert not (tmp_path / "o").exists()  # nothing written for bad input
