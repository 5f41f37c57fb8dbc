"""run_sweep on one rank (the MPI tier and the launcher tests cover more ranks)."""
from pathlib import Path

import numpy as np
import pytest

import fake_tasks
from sweep_config import sweep_toml
from pyannow_hpc.config import loads_config
from pyannow_hpc.parallel import sweep as S
from pyannow_hpc.parallel.comm import SerialComm
from pyannow_hpc.errors import ConfigError, OutputError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L

#: this file's sweep: 24 tasks over two parameters, one held fixed, flushing at every outcome
SWEEP = dict(n_samples=24, seed=5, params={"g_egl19": {"range": [1.0, 20.0], "scale": "log"}, "tau_ca_ms": [5, 40]},
             fixed={"g_exp2": 6.0}, output={"flush_every_s": 0.0})


@pytest.fixture(autouse=True)
def tiny_target(monkeypatch):
    target = NoteSequence.from_arrays([0.5, 1.0, 2.5], [60, 64, 67], name="tiny")
    monkeypatch.setattr(S, "_load_target", lambda cfg: target)
    return target


def cfg_for(tmp_path, name="s.h5", **tables):
    return loads_config(sweep_toml(tmp_path / name, **{**SWEEP, **tables}), source="t.toml")


def run(cfg, fn=fake_tasks.quick, **kw):
    return S.run_sweep(cfg, comm=SerialComm(), task_fn=fn, progress=False, log=lambda m: None, **kw)


def test_sweep_fills_the_ledger_with_provenance(tmp_path):
    cfg = cfg_for(tmp_path)
    summary = run(cfg)
    led = L.read_ledger(cfg.output.ledger)
    assert summary.done == 24 and summary.failed == 0 and summary.n_skipped == 0
    assert led.counts() == {"pending": 0, "done": 24, "failed": 0}
    assert led.param_names == ("g_egl19", "tau_ca_ms")
    for key in ("package_version", "git_hash", "host", "mpi_size", "config_text", "config_hash", "start_utc", "end_utc"):
        assert key in led.attrs, key
    assert led.attrs["end_utc"] and led.attrs["config_hash"] == cfg.config_hash()
    assert "g_egl19" in led.attrs["config_text"] and led.attrs["mpi_size"] == 1
    assert led.target.name == "tiny"
    # the task function saw the fixed parameters too, and its result is in the row
    task = S.Task(int(led.task_ids[3]), {"g_egl19": led.params[3, 0], "tau_ca_ms": led.params[3, 1], "g_exp2": 6.0}, int(led.seeds[3]))
    ref = fake_tasks.quick(task)
    assert led.metrics["onset_loss"][3] == ref.metrics["onset_loss"]
    assert np.array_equal(led.onsets_s[3], ref.onsets_s)
    assert summary.best_loss == np.nanmin(led.metrics["onset_loss"])


def test_failures_are_recorded_and_the_sweep_goes_on(tmp_path):
    cfg = cfg_for(tmp_path, scheduler={"task_timeout_s": 0.3})
    ids = np.arange(24)
    # os._exit / SIGSEGV would end this test process: in-process only the catchable kinds
    fn = lambda t: fake_tasks.faulty(t) if t.task_id % 8 in (0, 1, 2, 3, 4, 7) else fake_tasks.quick(t)  # noqa: E731
    summary = run(cfg, fn)
    led = L.read_ledger(cfg.output.ledger)
    failed = ids[np.isin(ids % 8, (1, 2, 3, 4))]
    assert np.array_equal(np.flatnonzero(led.status == L.FAILED), failed)
    assert summary.failed == len(failed) and summary.done == 24 - len(failed)
    assert "injected failure in task 9" in led.errors[9]
    assert "blew up to NaN" in led.errors[10] and "non-finite" in led.errors[11]
    assert "TimeoutError" in led.errors[12]
    assert np.all(np.isnan(led.metrics["onset_loss"][failed]))


def test_isolated_sweep_survives_hard_crashes(tmp_path):
    cfg = cfg_for(tmp_path, n_samples=8, scheduler={"isolate": True, "task_timeout_s": 2.0})
    run(cfg, fake_tasks.faulty)
    led = L.read_ledger(cfg.output.ledger)
    assert led.status.tolist() == [1, 2, 2, 2, 2, 2, 2, 1]
    assert "os._exit(7)" in led.errors[5] and "SIGSEGV" in led.errors[6]
    assert "child killed" in led.errors[4]


def test_resume_recomputes_only_pending_and_matches_uninterrupted(tmp_path):
    full = cfg_for(tmp_path, name="full.h5")
    run(full)
    cfg = cfg_for(tmp_path, name="part.h5")
    run(cfg)
    part = L.read_ledger(cfg.output.ledger)
    # as if killed: some tasks never came back (in flight), some never started
    part.reset([0, 5, 6, 7, 23])
    L.write_ledger(cfg.output.ledger, part)
    calls = []
    summary = run(cfg, lambda t: calls.append(t.task_id) or fake_tasks.quick(t))
    assert sorted(calls) == [0, 5, 6, 7, 23] and summary.n_skipped == 19 and summary.done == 5
    resumed = L.read_ledger(cfg.output.ledger)
    assert L.diff_results(resumed, L.read_ledger(full.output.ledger)) == []
    assert resumed.attrs["n_runs"] == 2
    # nothing left to do: a third run computes nothing
    assert run(cfg, lambda t: pytest.fail("recomputed a done task")).done == 0


def test_changed_config_on_resume_is_refused_unless_forced(tmp_path):
    run(cfg_for(tmp_path))
    changed = cfg_for(tmp_path, params={**SWEEP["params"], "tau_ca_ms": [5, 30]})
    with pytest.raises(ConfigError, match="different sweep.*--force"):
        run(changed)
    run(changed, force=True)
    assert L.read_ledger(changed.output.ledger).attrs["config_hash"] == changed.config_hash()


def test_unwritable_output_fails_before_any_task(tmp_path):
    # a path under a regular file cannot be created, even by root (CI runs as root)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="cannot (create output folder|write .*file.txt)"):
        run(cfg_for(tmp_path, name="file.txt/sub/s.h5"), lambda t: pytest.fail("a task ran"))
    (tmp_path / "dir.h5").mkdir()
    with pytest.raises(OutputError, match="(cannot be replaced|it is a folder)"):
        run(cfg_for(tmp_path, name="dir.h5"), lambda t: pytest.fail("a task ran"))


def test_full_disk_mid_sweep_is_one_clear_error(tmp_path, monkeypatch):
    cfg = cfg_for(tmp_path)
    monkeypatch.setenv("FAKE_TASK_SLEEP_S", "0.02")
    real = L.write_ledger
    monkeypatch.setattr(L, "write_ledger", fake_tasks.disk_full_after(2, real))
    with pytest.raises(OutputError, match="no space left"):
        run(cfg, fake_tasks.slow)
    monkeypatch.setattr(L, "write_ledger", real)
    led = L.read_ledger(cfg.output.ledger)  # the last good flush is intact
    assert 0 < led.counts()["done"] < 24


def test_unreadable_existing_ledger_is_refused_unless_forced(tmp_path):
    cfg = cfg_for(tmp_path)
    Path(cfg.output.ledger).write_bytes(b"this is not HDF5")
    with pytest.raises(L.LedgerError, match="not a readable sweep ledger.*--force"):
        run(cfg, lambda t: pytest.fail("a task ran"))
    assert run(cfg, force=True).done == 24
    assert L.read_ledger(cfg.output.ledger).counts()["done"] == 24


def test_shards_skip_the_report_and_say_so(tmp_path, monkeypatch):
    report = {"flush_every_s": 0.0, "report": True}
    cfg = cfg_for(tmp_path, output=report).with_shard(0, 2)
    rendered, said = [], []
    monkeypatch.setattr(S, "_render_report", lambda *a, **k: rendered.append(a))
    S.run_sweep(cfg, comm=SerialComm(), task_fn=fake_tasks.quick, progress=False, log=said.append)
    assert rendered == [] and any("report skipped for shard 0/2" in m for m in said)
    whole = cfg_for(tmp_path, "w.h5", output=report)
    S.run_sweep(whole, comm=SerialComm(), task_fn=fake_tasks.quick, progress=False, log=said.append)
    assert len(rendered) == 1


def test_the_ledger_rebuilds_every_task_as_it_ran(tmp_path):
    """LedgerData.task(row) + settings() are the whole recipe: the task function
    saw exactly led.task(row) (fixed + varied params, seed), on the stored settings."""
    cfg = cfg_for(tmp_path, simulation={"start_s": 1.5, "duration_s": 2.0, "dt_ms": 0.25})
    seen = {}
    run(cfg, lambda t: seen.setdefault(t.task_id, t) and fake_tasks.quick(t))
    led = L.read_ledger(cfg.output.ledger)
    assert {led.task(r).task_id: led.task(r) for r in range(len(led))} == seen
    assert led.task(3).params["g_exp2"] == 6.0 and set(led.task(3).params) == {"g_egl19", "tau_ca_ms", "g_exp2"}
    assert led.settings() == S.run_settings(cfg)
    assert (led.settings().window_start_s, led.settings().dt_ms, led.settings().onset_method) == (1.5, 0.25, "crest")
    # a ledger written before the settings were stored gets them from its config_text
    for key in ("dt_ms", "integrator", "onset_method"):
        del led.attrs[key]
    assert led.settings() == S.run_settings(cfg)


def test_refine_results_survive_a_resumed_sweep(tmp_path):
    from pyannow_hpc.parallel.isolation import Outcome
    from pyannow_hpc.parallel.refine import read_refine, write_refine

    cfg = cfg_for(tmp_path)
    run(cfg)
    out = Outcome(int(L.read_ledger(cfg.output.ledger).task_ids[2]), L.DONE, {"gap.corr_v_envelope": 0.25},
                  np.array([0.5]), np.array([61], np.int16))
    write_refine(cfg.output.ledger, {"backend": "c302"}, [out])
    part = L.read_ledger(cfg.output.ledger)
    part.reset([0, 7])  # as if killed before these came back
    L.write_ledger(cfg.output.ledger, part)
    assert run(cfg).done == 2  # the resume ran and flushed
    resumed = L.read_ledger(cfg.output.ledger)
    assert resumed.counts()["done"] == 24 and resumed.refine_attrs["backend"] == "c302"
    rec = read_refine(cfg.output.ledger)[out.task_id]
    assert rec["gap.corr_v_envelope"] == 0.25 and list(rec["pitches"]) == [61]
