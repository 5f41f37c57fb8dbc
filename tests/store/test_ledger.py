import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L


def make_ledger(n=6, k=2, ids=None, attrs=None):
    ids = np.arange(n) if ids is None else np.asarray(ids)
    target = NoteSequence.from_arrays([0.5, 1.0, 2.0], [60, 62, 64], name="tiny")
    led = L.LedgerData.new(ids, [f"p{j}" for j in range(k)], np.arange(len(ids) * k).reshape(len(ids), k) * 0.5,
                           ids * 11, attrs=attrs or {"config_hash": "abc", "mpi_size": 2}, target=target)
    return led


def test_roundtrip_keeps_every_field(tmp_path):
    led = make_ledger()
    led.record(0, L.DONE, {"onset_loss": 0.25, "f1_mireval": 0.5}, "", [0.1, 0.2, 0.3], [60, 61, 62])
    led.record(2, L.FAILED, None, "ValueError: boom")
    led.record(3, L.DONE, {"onset_loss": 0.75, "extra_metric": 3.0}, "", [], [])
    path = L.write_ledger(tmp_path / "l.h5", led)
    back = L.read_ledger(path)
    assert back.param_names == ("p0", "p1")
    assert np.array_equal(back.params, led.params) and np.array_equal(back.seeds, led.seeds)
    assert back.status.tolist() == [1, 0, 2, 1, 0, 0]
    assert back.errors[2] == "ValueError: boom" and back.errors[0] == ""
    assert back.metrics["onset_loss"][0] == 0.25 and np.isnan(back.metrics["onset_loss"][1])
    assert back.metrics["extra_metric"][3] == 3.0 and set(L.METRIC_KEYS) <= set(back.metrics)
    assert np.array_equal(back.onsets_s[0], [0.1, 0.2, 0.3]) and back.pitches[0].tolist() == [60, 61, 62]
    assert len(back.onsets_s[3]) == 0 and len(back.onsets_s[5]) == 0
    assert back.attrs["config_hash"] == "abc" and back.attrs["mpi_size"] == 2
    assert back.attrs["format"] == L.FORMAT
    assert back.target.name == "tiny" and back.target.pitch.tolist() == [60, 62, 64]
    assert back.counts() == {"pending": 3, "done": 2, "failed": 1}


def test_plain_h5py_layout_is_the_agreed_one(tmp_path):
    led = make_ledger(n=200)
    for i in range(200):
        led.record(i, L.DONE, {"onset_loss": i}, "", np.arange(i % 4) * 0.1, np.arange(i % 4) + 30)
    L.write_ledger(tmp_path / "l.h5", led)
    with h5py.File(tmp_path / "l.h5") as f:
        t = f["tasks"]
        for name in ("params", "param_names", "seed", "status", "error", "onset_offsets", "onsets_s", "pitches", "task_id"):
            assert name in t
        assert t["status"].dtype == np.int8 and t["onset_offsets"].shape == (201,)
        assert t["params"].compression == "gzip" and t["params"].chunks is not None
        assert t["metrics/onset_loss"][7] == 7
        off = t["onset_offsets"][()]
        assert np.allclose(t["onsets_s"][off[3]:off[4]], [0.0, 0.1, 0.2])
        assert "target" in f and "onset_s" in f["target"]


def test_unreadable_files_raise_ledger_error(tmp_path):
    with pytest.raises(L.LedgerError, match="does not exist"):
        L.read_ledger(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(L.LedgerError, match="not a readable sweep ledger"):
        L.read_ledger(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(L.LedgerError, match="no /tasks group"):
        L.read_ledger(tmp_path / "other.h5")


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from pyannow_hpc.store import ledger as L
    path = sys.argv[1]
    n = 400
    led = L.LedgerData.new(np.arange(n), ["a", "b"], np.random.default_rng(0).random((n, 2)), np.arange(n))
    print("ready", flush=True)
    i = 0
    while True:  # a sweep's rank 0: record a batch, flush, forever
        for _ in range(20):
            led.record(i % n, L.DONE, {"onset_loss": float(i)}, "", np.arange(i % 50) * 0.01, np.arange(i % 50) % 100)
            i += 1
        led.attrs["written"] = i
        L.write_ledger(path, led)
""")


def test_sigkill_at_random_moments_never_leaves_an_unreadable_ledger(tmp_path):
    """SIGKILL a flushing writer (25 times or more) at random moments; the ledger must
    always open, be complete, and only move forward."""
    path = tmp_path / "ledger.h5"
    rng = np.random.default_rng(1)
    last_written = 0
    kills_mid_write = 0
    # at least 25 kills, and more (up to 100) until 3 of them landed mid-write: the
    # ledger is built in memory and only its final write touches the disk, a short
    # window that a loaded machine hits less often in 25 random tries
    for attempt in range(100):
        if attempt >= 25 and kills_mid_write >= 3:
            break
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.0, 0.25)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills_mid_write += bool(L.stale_temps(path))
        if not path.exists():
            continue  # killed before the first flush completed
        led = L.read_ledger(path)
        written = led.attrs.get("written", 0)
        assert written >= 20 and written % 20 == 0
        assert led.counts()["done"] == min(written, 400)
        assert np.all(led.status[: min(written, 400)] == L.DONE)
        L.remove_stale_temps(path)
        path.unlink()  # each round starts fresh, so every kill lands in a different phase
        last_written = max(last_written, written)
    assert last_written > 0
    # the kills did land mid-flush, where a non-atomic writer would corrupt the file
    assert kills_mid_write >= 3, kills_mid_write


def test_diff_results_names_what_differs():
    a, b = make_ledger(), make_ledger()
    assert L.diff_results(a, b) == []
    b.record(1, L.DONE, {"onset_loss": 1.0}, "", [0.5], [60])
    b.attrs["host"] = "elsewhere"  # provenance is not a result
    assert L.diff_results(a, b) == ["status", "metrics/onset_loss", "onsets_s", "pitches"]
