"""The refine command's pieces without NEURON: envelope correlation, ranking,
the atomic /refine merge, and one-line errors."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pyannow_hpc.parallel.isolation import Outcome
from pyannow_hpc.parallel.refine import RANK_BY, read_refine, write_refine
from pyannow_hpc.worm.fidelity import envelope_correlation
from pyannow_hpc.store.ledger import DONE, FAILED, LedgerData, read_ledger, write_ledger


def test_envelope_correlation():
    t = np.arange(0, 500.0, 1.0)
    slow = np.sin(2 * np.pi * t / 200.0)[:, None] * np.ones((1, 4))
    spiky = slow + 5 * (np.arange(len(t)) % 10 == 0)[:, None]  # spikes riding on the same slow wave
    a = slow.copy()
    b = spiky.copy()
    b[:, 1] *= -1  # anti-correlated muscle
    b[:, 2] = np.nan  # missing muscle (C302's MVL24)
    a[:, 3] = 1.0  # flat muscle
    t_b = t[::2]  # another grid, resampled onto the common one
    c = envelope_correlation(t, a, t_b, b[::2], envelope_ms=20.0)
    assert c[0] > 0.9 and c[1] < -0.9 and np.isnan(c[2]) and np.isnan(c[3])


def _ledger(tmp_path, f1, status=None):
    n = len(f1)
    led = LedgerData.new(list(range(10, 10 + n)), ("g_egl19",), np.linspace(1, 2, n)[:, None], np.zeros(n, np.int64))
    led.status[:] = DONE if status is None else status
    led.metrics["f1_mireval"][:] = f1
    led.metrics["onset_loss"][:] = -np.asarray(f1)
    path = tmp_path / "l.h5"
    write_ledger(path, led)
    return path, led


def test_pick_top_skips_failed_and_nan(tmp_path):
    _, led = _ledger(tmp_path, [0.1, 0.5, np.nan, 0.9, 0.5], status=[DONE, DONE, DONE, FAILED, DONE])
    def pick_top(k, by):
        return led.best_rows(by, k, higher_is_better=RANK_BY[by])

    assert pick_top(2, "f1_mireval") == [1, 4]  # task 13 failed, ties by task id
    assert pick_top(10, "onset_loss") == [1, 4, 0]


def test_write_refine_merges_by_task_id_and_keeps_the_ledger(tmp_path):
    path, _ = _ledger(tmp_path, [0.1, 0.2])
    o1 = Outcome(10, DONE, {"gap.corr_v_envelope": 0.5}, np.array([0.1, 0.2]), np.array([60, 61], np.int16))
    write_refine(path, {"backend": "c302"}, [o1])
    o2 = Outcome(11, FAILED, error="SimulationError: boom")
    o1b = Outcome(10, DONE, {"gap.corr_v_envelope": 0.7}, np.array([0.3]), np.array([62], np.int16))
    write_refine(path, {"backend": "c302"}, [o2, o1b])
    ref = read_refine(path)
    assert sorted(ref) == [10, 11]
    assert ref[10]["gap.corr_v_envelope"] == 0.7 and list(ref[10]["pitches"]) == [62]
    assert ref[11]["status"] == FAILED and ref[11]["error"] == "SimulationError: boom"
    assert len(read_ledger(path)) == 2  # the sweep's part untouched
    with h5py.File(path) as f:
        assert f["refine"].attrs["backend"] == "c302"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".l.h5.lock", "l.h5"]  # no temp left behind


def test_write_refine_holds_the_ledger_lock(tmp_path):
    from pyannow_hpc.errors import LockError
    from pyannow_hpc.store.lock import ledger_lock

    path, _ = _ledger(tmp_path, [0.1, 0.2])
    raw = path.read_bytes()
    with ledger_lock(path):  # this process stands in for a sweep writing the ledger
        with pytest.raises(LockError, match="being written"):
            write_refine(path, {"backend": "c302"}, [Outcome(10, DONE, {"gap.corr_v_envelope": 0.5})])
    assert path.read_bytes() == raw


def test_refine_keeps_groups_other_commands_added(tmp_path):
    """write_refine rewrites the whole ledger: /retest and /prior must ride along."""
    from pyannow_hpc.store.groups import write_group

    path, _ = _ledger(tmp_path, [0.1, 0.2])
    write_group(path, "retest", lambda g: g.create_dataset("task", data=np.array([10, 11])))
    write_refine(path, {"backend": "c302"}, [Outcome(10, DONE, {"gap.corr_v_envelope": 0.5})])
    with h5py.File(path) as f:
        assert list(f["retest/task"][()]) == [10, 11] and "10" in f["refine"]


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pyannow_hpc", "refine", *args], cwd=cwd, capture_output=True,
                          text=True, env=dict(os.environ, PYANNOW_NO_MPI="1"))


def test_cli_errors_are_one_line(tmp_path):
    p = _cli("missing.h5", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.strip().startswith("pyannow-hpc: error:") and "does not exist" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    path, _ = _ledger(tmp_path, [0.1])
    p = _cli(str(path), "--top", "0", cwd=tmp_path)
    assert p.returncode == 2 and "--top must be >= 1" in p.stderr


def test_the_report_shows_refine_results(tmp_path):
    """A ledger's /refine reaches the report: refine.csv, one labelled row per refined task."""
    import csv

    from pyannow_hpc.music.notes import NoteSequence
    from pyannow_hpc.report.render import render

    path, led = _ledger(tmp_path, [0.1, 0.4, 0.3])
    led.target = NoteSequence.from_arrays([0.5, 1.0, 1.5], [60, 62, 64], name="t")
    led.attrs.update(duration_s=2.0, window_start_s=0.0, fixed_params='{"g_exp2": 6.0}')
    for row in range(3):
        led.onsets_s[row], led.pitches[row] = np.array([0.5, 1.2]), np.array([60, 61], np.int16)
    write_ledger(path, led)
    m = {"surrogate.f1_mireval": 0.4, "c302.f1_mireval": 0.25, "surrogate.chance_f1_mireval": 0.1,
         "c302.chance_f1_mireval": 0.12, "surrogate.worm_rate_hz": 1.0, "c302.worm_rate_hz": 1.5,
         "gap.corr_v_envelope": 0.6}
    write_refine(path, {"backend": "c302"}, [Outcome(11, DONE, m, np.array([0.4]), np.array([60], np.int16)),
                                             Outcome(12, FAILED, error="SimulationError: NEURON blew up")])
    index = render(path, tmp_path / "rep", top_k=2, progress=False)
    with open(tmp_path / "rep" / "refine.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["task"]) for r in rows] == [11, 12]
    assert rows[0]["parameters"] == "g_exp2=6, g_egl19=1.5"  # the task as the sweep ran it
    f1 = "F1 (mir_eval one-to-one, ±50 ms)"
    assert float(rows[0][f"{f1}: c302"]) == 0.25 and float(rows[0][f"uniform chance {f1} at its note count: c302"]) == 0.12
    assert rows[1]["failed"] == "SimulationError: NEURON blew up"
    assert "2 tasks re-run on c302 (refine.csv)" in index.read_text()


def test_cli_refuses_a_locked_ledger_before_simulating(tmp_path):
    from pyannow_hpc.store.lock import ledger_lock

    path, _ = _ledger(tmp_path, [0.1, 0.2])
    with ledger_lock(path):  # a sweep writing the ledger: refine says so up front, not after hours
        p = _cli(str(path), "--top", "1", cwd=tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode != 0 and len(lines) == 1 and lines[0].startswith("pyannow-hpc: error:")
    assert "being written by another process" in lines[0]
