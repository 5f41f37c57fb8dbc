"""The reporter: files, rankings, labels, and clear errors on bad ledgers."""
from __future__ import annotations

import csv
import re

import numpy as np
import pytest
import soundfile as sf

from pyannow_hpc.cli import main
from pyannow_hpc.report import tables
from pyannow_hpc.report.render import render

MIR = "F1 (mir_eval one-to-one, ±50 ms)"
SEED = "F1 (seed any-match, ±50 ms)"


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_rank_tasks_skips_failed_pending_and_nan_and_breaks_ties_by_row():
    status = np.array([1, 1, 2, 0, 1, 1, 1])
    loss = np.array([0.3, 0.1, 0.0, 0.0, np.nan, 0.1, 0.2])
    got = tables.rank_tasks({"onset_loss": loss}, status, "onset_loss", 10)
    assert got.tolist() == [1, 5, 6, 0]
    f1 = np.array([0.2, 0.5, 0.9, 0.9, np.nan, 0.1, 0.5])
    assert tables.rank_tasks({"f1_mireval": f1}, status, "f1_mireval", 2).tolist() == [1, 6]


def test_render_writes_tables_audio_plots_and_page(ledger, tmp_path):
    path, led = ledger
    out = tmp_path / "report"
    index = render(path, out, top_k=3, progress=False, rank_by="onset_loss")
    assert index == out / "index.html"

    rows = _csv(out / "f1_table.csv")
    assert len(rows) == 3
    # best 3 by onset_loss among done rows, lowest first
    done = np.flatnonzero(led.status == 1).tolist()
    assert len(done) == len(led) - 3  # 2 failed, 1 pending in the fixture
    expect = sorted(done, key=lambda r: led.metrics["onset_loss"][r])[:3]
    assert [int(r["task"]) for r in rows] == [int(led.task_ids[r]) for r in expect]
    assert [float(r[MIR]) for r in rows] == [led.metrics["f1_mireval"][r] for r in expect]
    assert [float(r[SEED]) for r in rows] == [led.metrics["f1_seed"][r] for r in expect]
    assert float(rows[0]["g_egl19"]) == led.params[expect[0], 0]
    md = (out / "f1_table.md").read_text()
    assert MIR in md and SEED in md and "Ranked by onset_loss" in md
    summary = {r["quantity"]: r["value"] for r in _csv(out / "summary.csv")}
    assert (summary["done"], summary["failed"], summary["pending"]) == (str(len(done)), "2", "1")

    # audio: target + the best 3, each one readable, at one rate, not silent
    wavs = sorted((out / "audio").glob("*.wav"))
    assert [w.name for w in wavs] == sorted(["target.wav"] + [f"best{i + 1:02d}_task{led.task_ids[r]}.wav" for i, r in enumerate(expect)])
    for w in wavs:
        data, fs = sf.read(w)
        assert fs == 22050 and data.ndim == 1 and len(data) > fs // 2
        assert np.sqrt(np.mean(data**2)) > 1e-3, w.name

    for png in ("loss_hist.png", "z_hist.png", "param_scatter.png", "pianoroll.png"):
        assert (out / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page = index.read_text()
    srcs = re.findall(r'<audio[^>]* src="([^"]+)"', page)
    assert srcs == ["audio/target.wav"] + [f"audio/best{i + 1:02d}_task{led.task_ids[r]}.wav" for i, r in enumerate(expect)]
    assert re.findall(r'<img src="([^"]+)"', page) == ["plots/z_hist.png", "plots/loss_hist.png", "plots/param_scatter.png",
                                                       "plots/pianoroll.png"]
    # the target track is the scored window [2, 6) s of the 8 s target
    assert "target: test target (10 notes)" in page
    assert sf.info(out / "audio" / "target.wav").duration < 5.0
    for needle in (MIR, SEED, "abc123def456", "testhost", "mpi_size", "n_samples = 24", "2026-11-29T13:01:00"):
        assert needle in page
    # the fixture's two failed tasks share one message
    assert _csv(out / "failures.csv") == [
        {"tasks": "2", "error": "SimulationError: blew up to NaN at t=1.2 s", "task ids": "3 17"}
    ]
    assert "<h2>Failures</h2>" in page
    # nothing half-written left behind
    assert not list(out.rglob(".*"))


def test_default_ranking_is_f1_above_own_shifts_with_a_note_minimum(ledger, tmp_path):
    from pyannow_hpc.music.alignment import MIN_NOTES, score_with_nulls
    from pyannow_hpc.music.nulls import expected_max_z
    from pyannow_hpc.report.tables import z_rows

    path, led = ledger
    render(path, tmp_path / "r", top_k=4, progress=False)
    md = (tmp_path / "r" / "f1_table.md").read_text()
    assert "Ranked by shift_excess" in md and f"fewer than {MIN_NOTES} notes last" in md
    rows = _csv(tmp_path / "r" / "f1_table.csv")
    # recompute every done task's score from its stored onsets: the report's order must be theirs
    target = led.target.window(2.0, 6.0)
    expect = []
    for r in np.flatnonzero(led.status == 1):
        s = score_with_nulls(led.onsets_s[r], target.onset_s, start_s=0.0, stop_s=4.0, seed=int(led.seeds[r]))
        expect.append((-s.rank_score, r))
    expect = [int(led.task_ids[r]) for _, r in sorted(expect)[:4]]
    assert [int(r["task"]) for r in rows] == expect
    for row in rows:  # each F1 beside its nulls, labelled
        for col in ("z vs worm's own shifts", "F1 above own shifts", "uniform chance F1 (one-to-one)",
                    "best metronome F1 at worm's count", "beat ceiling F1 (1-4 notes per click)"):
            assert col in row
    summary = {r["quantity"]: r["value"] for r in _csv(tmp_path / "r" / "summary.csv")}
    n_rankable = sum(1 for r in np.flatnonzero(led.status == 1) if len(led.onsets_s[r]) >= MIN_NOTES)
    assert 0 < n_rankable < int((led.status == 1).sum())
    key = f"expected max of {n_rankable} null z draws (the best point's z by selection alone)"
    assert float(summary[key]) == pytest.approx(expected_max_z(n_rankable))
    assert z_rows([]) == []


def test_rank_by_f1_picks_highest_first(ledger, tmp_path):
    path, led = ledger
    render(path, tmp_path / "r", top_k=2, progress=False, rank_by="f1_mireval")
    rows = _csv(tmp_path / "r" / "f1_table.csv")
    f1 = np.where(led.status == 1, led.metrics["f1_mireval"], -np.inf)
    assert [int(r["task"]) for r in rows] == np.argsort(-f1, kind="stable")[:2].tolist()


def test_cli_report_default_folder_next_to_ledger(ledger, capsys):
    path, _ = ledger
    assert main(["report", str(path), "--top", "2", "--no-progress"]) == 0
    out = path.with_name("sweep_report")
    assert f"report: {out / 'index.html'}" in capsys.readouterr().out
    assert len(_csv(out / "f1_table.csv")) == 2


@pytest.mark.parametrize("content", [None, b"not an hdf5 file at all\n", "h5-without-tasks"])
def test_cli_bad_ledger_is_one_line_error_and_no_output(tmp_path, capsys, content):
    path = tmp_path / "bad.h5"
    if content == "h5-without-tasks":
        import h5py

        with h5py.File(path, "w") as f:
            f.attrs["x"] = 1
    elif content is not None:
        path.write_bytes(content)
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pyannow-hpc: error: ") and "\n" not in err and "bad.h5" in err
    assert not out.exists()


def test_cli_rejects_top_zero(ledger, capsys):
    path, _ = ledger
    assert main(["report", str(path), "--top", "0"]) == 2
    assert "top_k must be at least 1" in capsys.readouterr().err


def test_report_of_a_real_sweep_scores_the_same_target_window(tmp_path):
    """Rescoring the best worm's ledger notes against the reporter's target
    window reproduces the sweep's own F1 exactly: the report plays and plots
    the window the sweep scored (start_s > 0 here), not some other stretch."""
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        'backend = "native"\nmodel = "pyannow"\ntarget = "default"\n'
        '[sampler]\nmethod = "sobol"\nn_samples = 4\nseed = 5\n'
        '[params]\ng_egl19 = { range = [1.0, 25.0], scale = "log" }\n'
        '[simulation]\nstart_s = 3.0\nduration_s = 2.0\n'
        f'[output]\nledger = "{tmp_path / "s.h5"}"\n'
    )
    assert main(["sweep", str(toml), "--no-progress"]) == 0
    render(tmp_path / "s.h5", tmp_path / "rep", top_k=2, progress=False)
    best = _csv(tmp_path / "rep" / "f1_table.csv")[0]
    at_50ms = [r for r in _csv(tmp_path / "rep" / "best_f1_tolerances.csv") if r["tolerance (± ms)"] == "50"][0]
    assert float(at_50ms["F1 (mir_eval one-to-one)"]) == float(best[MIR])
    assert float(at_50ms["F1 (seed any-match)"]) == float(best[SEED])
    assert int(at_50ms["target notes"]) > 0


def test_all_failed_sweep_still_renders_a_page_without_worm_tracks(tmp_path):
    from pyannow_hpc.store.ledger import FAILED, LedgerData, write_ledger

    led = LedgerData.new(np.arange(4), ("g_egl19",), np.array([[1.0], [2.0], [3.0], [4.0]]), np.arange(4),
                         attrs={"duration_s": 2.0}, target=None)
    for row in range(4):
        led.record(row, FAILED, error="SimulationError: timed out after 120 s")
    path = write_ledger(tmp_path / "failed.h5", led)
    index = render(path, tmp_path / "rep", progress=False)
    page = index.read_text()
    assert "0 of 4 tasks done, 4 failed" in page
    assert re.findall(r"<audio", page) == []  # no target stored, no task ranked
    assert _csv(tmp_path / "rep" / "f1_table.csv") == []
    assert {p.name for p in (tmp_path / "rep" / "plots").iterdir()} == {"loss_hist.png", "z_hist.png", "param_scatter.png"}
    assert _csv(tmp_path / "rep" / "failures.csv") == [
        {"tasks": "4", "error": "SimulationError: timed out after 120 s", "task ids": "0 1 2 3"}
    ]


def test_scatter_keeps_the_parameters_that_track_the_loss():
    from pyannow_hpc.report.plots import most_informative

    rng = np.random.default_rng(0)
    params = rng.uniform(size=(200, 6))
    loss = np.exp(3 * params[:, 4]) - 2 * params[:, 1] + 0.01 * rng.normal(size=200)  # monotone in 4, in 1
    assert most_informative(params, loss, [0, 1, 2, 3, 4, 5], 2) == [1, 4]
    assert most_informative(params, loss, [0, 2], 4) == [0, 2]


def test_report_counts_statuses_by_task_status_not_bare_numbers():
    """The report agrees with the ledger's own counts, and names the codes by
    store.tasks.TaskStatus (no ``status == 1`` left to drift from it)."""
    import inspect

    from pyannow_hpc.report import render as render_mod
    from pyannow_hpc.store.tasks import TaskStatus

    status = np.array([TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.PENDING, TaskStatus.DONE, TaskStatus.FAILED],
                      dtype=np.int8)
    rows = {r["quantity"]: r["value"] for r in tables.summary_rows(status, {"f1_mireval": np.linspace(0, 1, 5)})}
    assert (rows["done"], rows["failed"], rows["pending"]) == (2, 2, 1)
    fails = tables.failure_rows(status, ["", "a", "", "", "b"], np.arange(5))
    assert [(r["tasks"], r["task ids"]) for r in fails] == [(1, "1"), (1, "4")]
    for mod in (tables, render_mod):
        bare = re.findall(r"status\)?\s*[=!]=\s*\d", inspect.getsource(mod))
        assert bare == [], f"{mod.__name__} compares status to bare numbers: {bare}"
