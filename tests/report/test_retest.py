"""`pyannow-hpc retest`: the best points on unseen time, stored in the ledger, shown beside in-window."""
from __future__ import annotations

import csv

import h5py
import numpy as np
import pytest

from pyannow_hpc.cli import main
from pyannow_hpc.report.retest import read_retest, read_retest_long


@pytest.fixture
def sweep(tmp_path):
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        'backend = "native"\nmodel = "boyle2008"\ntarget = "default"\n'
        '[sampler]\nmethod = "sobol"\nn_samples = 4\nseed = 1\n'
        '[params]\ndrive_g_syn = { range = [0.09, 0.11] }\n'
        '[simulation]\nstart_s = 2.0\nduration_s = 3.0\nburn_in_s = 1.0\n'
        f'[output]\nledger = "{tmp_path / "s.h5"}"\nmin_notes = 3\n'
    )
    assert main(["sweep", str(toml), "--no-progress"]) == 0
    return tmp_path / "s.h5"


def test_retest_stores_unseen_scores_and_the_report_shows_them(sweep, tmp_path, capsys):
    from pyannow_hpc.store.ledger import read_ledger

    before = read_ledger(sweep)
    assert main(["retest", str(sweep), "--top", "2", "--windows", "1", "--seeds", "77", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "in-window (selected on)" in printed and "unseen: later window 5-8 s" in printed
    rows = read_retest_long(sweep)
    assert [r["kind"] for r in rows] == ["in-window", "later", "seed"] * 2
    # the in-window row is the sweep's own score, recomputed by the same pipeline
    for r in rows[::3]:
        i = int(np.flatnonzero(before.task_ids == r["task"])[0])
        assert r["f1"] == before.metrics["f1_mireval"][i]
        assert r["shift_z"] == pytest.approx(before.metrics["shift_z"][i])
        assert r["n_worm"] == len(before.onsets_s[i])
    assert rows[2]["seed"] == 77 and rows[1]["window_start_s"] == 5.0
    # the ledger itself is intact and still reads
    after = read_ledger(sweep)
    np.testing.assert_array_equal(after.metrics["f1_mireval"], before.metrics["f1_mireval"])
    with h5py.File(sweep) as f:
        assert f["retest"].attrs["top_k"] == 2
    wide = read_retest(sweep)
    assert len(wide) == 2 and "unseen mean z vs own shifts" in wide[0]
    assert main(["report", str(sweep), "--no-progress"]) == 0
    report = sweep.with_name("s_report")
    with open(report / "retest.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    assert "In-window vs unseen" in (report / "index.html").read_text()


def test_retest_bad_input_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.h5"
    assert main(["retest", str(missing)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pyannow-hpc: error:")
