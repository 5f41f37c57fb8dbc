"""`pyannow-hpc retest`: the best points on unseen time, stored in the ledger, shown beside in-window."""
from __future__ import annotations

import csv

import h5py
import numpy as np
import pytest

from pyannow_hpc.cli import main
from pyannow_hpc.report.retest import read_retest, read_retest_long


@pytest.fixture
def sweep(tiny_sweep):
    return tiny_sweep[0]


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


def test_retest_survives_a_resumed_sweep(tiny_sweep, make_pending, capsys):
    """The sweep rewrites the whole ledger on every flush; /retest rides along."""
    path, toml = tiny_sweep
    assert main(["retest", str(path), "--top", "1", "--windows", "1", "--no-progress"]) == 0
    rows = read_retest_long(path)
    with h5py.File(path) as f:
        created = f["retest"].attrs["created_utc"]
    make_pending(path, [0, 2])
    assert main(["sweep", str(toml), "--no-progress"]) == 0  # resumes: runs 2 tasks, flushes the ledger
    capsys.readouterr()
    from pyannow_hpc.store.ledger import read_ledger

    assert read_ledger(path).counts()["pending"] == 0
    assert read_retest_long(path) == rows
    with h5py.File(path) as f:
        assert f["retest"].attrs["created_utc"] == created


def test_retest_is_refused_while_a_sweep_holds_the_ledger(sweep, capsys):
    from pyannow_hpc.store.lock import ledger_lock

    raw = sweep.read_bytes()
    with ledger_lock(sweep):  # this process stands in for a running sweep
        assert main(["retest", str(sweep), "--top", "1", "--windows", "1", "--no-progress"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pyannow-hpc: error:") and "being written" in err[0]
    assert sweep.read_bytes() == raw
