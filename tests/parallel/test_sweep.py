"""run_sweep on one rank (the MPI tier and the launcher tests cover more ranks)."""
from pathlib import Path

import numpy as np
import pytest

import fake_tasks
from pyannow_hpc.config import loads_config
from pyannow_hpc.parallel import sweep as S
from pyannow_hpc.parallel.comm import SerialComm
from pyannow_hpc.errors import ConfigError, OutputError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L

CFG = """
backend = "native"
model = "pyannow"
[sampler]
method = "sobol"
n_samples = 24
seed = 5
[params]
g_egl19 = {{ range = [1.0, 20.0], scale = "log" }}
tau_ca_ms = [5, 40]
[fixed]
g_exp2 = 6.0
[output]
ledger = "{ledger}"
flush_every_s = 0.0
"""


@pytest.fixture(autouse=True)
def tiny_target(monkeypatch):
    target = NoteSequence.from_arrays([0.5, 1.0, 2.5], [60, 64, 67], name="tiny")
    monkeypatch.setattr(S, "_load_target", lambda cfg: target)
    return target


def cfg_for(tmp_path, text=CFG, name="s.h5"):
    return loads_config(text.format(ledger=tmp_path / name), source="t.toml")


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
    text = CFG.replace("[output]", "[scheduler]\ntask_timeout_s = 0.3\n[output]")
    cfg = cfg_for(tmp_path, text)
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
    text = CFG.replace("n_samples = 24", "n_samples = 8").replace("[output]", "[scheduler]\nisolate = true\ntask_timeout_s = 2.0\n[output]")
    cfg = cfg_for(tmp_path, text)
    run(cfg, fake_tasks.faulty)
    led = L.read_ledger(cfg.output.ledger)
    assert led.status.tolist() == [1, 2, 2, 2, 2, 2, 2, 1]
    assert "exited with status 7" in led.errors[5] and "SIGSEGV" in led.errors[6]
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
    changed = cfg_for(tmp_path, CFG.replace("[5, 40]", "[5, 30]"))
    with pytest.raises(ConfigError, match="different sweep.*--force"):
        run(changed)
    run(changed, force=True)
    assert L.read_ledger(changed.output.ledger).attrs["config_hash"] == changed.config_hash()


def test_unwritable_output_fails_before_any_task(tmp_path):
    # a path under a regular file cannot be created, even by root (CI runs as root)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="cannot create output folder"):
        run(cfg_for(tmp_path, name="file.txt/sub/s.h5"), lambda t: pytest.fail("a task ran"))
    (tmp_path / "dir.h5").mkdir()
    with pytest.raises(OutputError, match="cannot be replaced"):
        run(cfg_for(tmp_path, name="dir.h5"), lambda t: pytest.fail("a task ran"))


def test_full_disk_mid_sweep_is_one_clear_error(tmp_path, monkeypatch):
    cfg = cfg_for(tmp_path)
    monkeypatch.setenv("FAKE_TASK_SLEEP_S", "0.02")
    real = L.write_ledger
    calls = []

    def flaky(path, led):
        calls.append(1)
        if len(calls) > 2:
            raise OutputError(f"no space left on device while writing {path}")
        return real(path, led)

    monkeypatch.setattr(L, "write_ledger", flaky)
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
    cfg = cfg_for(tmp_path, CFG.replace("flush_every_s = 0.0", "flush_every_s = 0.0\nreport = true")).with_shard(0, 2)
    rendered, said = [], []
    monkeypatch.setattr(S, "_render_report", lambda *a, **k: rendered.append(a))
    S.run_sweep(cfg, comm=SerialComm(), task_fn=fake_tasks.quick, progress=False, log=said.append)
    assert rendered == [] and any("report skipped for shard 0/2" in m for m in said)
    whole = cfg_for(tmp_path, CFG.replace("flush_every_s = 0.0", "flush_every_s = 0.0\nreport = true"), "w.h5")
    S.run_sweep(whole, comm=SerialComm(), task_fn=fake_tasks.quick, progress=False, log=said.append)
    assert len(rendered) == 1
