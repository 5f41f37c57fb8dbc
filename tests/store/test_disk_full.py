"""A full disk (a 1 MiB tmpfs, as root) for every command that writes: one line,
exit 4, no temporary file left, every file that exists complete."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
from _cli import cli, temp_leftovers  # noqa: E402

from pyannow_hpc.errors import OutputError  # noqa: E402
from pyannow_hpc.music.audio import write_audio  # noqa: E402
from pyannow_hpc.music.notes import NoteSequence  # noqa: E402
from pyannow_hpc.store import ledger as L  # noqa: E402


@pytest.fixture
def full(tmp_path):
    """A 1 MiB tmpfs mounted at tmp_path/full, unmounted afterwards."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.fail("the disk-full tests mount a tmpfs and need root (CI and this machine run as root)")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill ``folder``'s filesystem up to ``leave_bytes`` free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    if free > leave_bytes:
        (folder / "filler").write_bytes(b"\0" * (free - leave_bytes))


def complete(folder: Path) -> None:
    """Every file present is whole: HDF5 opens, WAVs decode; no temporary sibling."""
    assert temp_leftovers(folder) == []
    for p in folder.rglob("*"):
        if p.suffix == ".h5":
            with h5py.File(p, "r") as f:
                assert len(f.keys()) > 0
        elif p.suffix == ".wav":
            assert sf.info(str(p)).frames > 0


def test_simulate_on_full_disk(full):
    r = cli("simulate", "--duration-s", "10", "--out", full / "s.h5")
    assert r.rc == 4 and "no space left on device for" in r.error and "free on its filesystem" in r.error
    assert list(full.iterdir()) == []


def test_demo_on_full_disk(full):
    r = cli("demo", "--duration-s", "20", "--out", full / "d", "--no-progress")
    assert r.rc == 4 and "no space left on device" in r.error and ".wav" in r.error
    complete(full)


def test_sweep_on_full_disk(full, tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'[sampler]\nn_samples = 2\n[params]\ng_ca_boyle = [0.5, 1.0]\n[simulation]\nduration_s = 0.1\n'
                   f'[output]\nledger = "{full / "s.h5"}"\n')
    fill(full, 20_000)
    r = cli("sweep", cfg, "--no-progress", "--task", "hostile_tasks:ok")
    assert r.rc == 4 and "no space left on device" in r.error
    complete(full)
    assert not (full / "s.h5").exists()


def _ledger(path, n=200):
    rng = np.random.default_rng(0)
    led = L.LedgerData.new(np.arange(n), ("g_ca_boyle",), rng.uniform(0.5, 1, n), np.arange(n),
                           attrs={"config_hash": "h", "n_tasks_total": n, "duration_s": 60.0, "window_start_s": 0.0},
                           target=NoteSequence.from_arrays(np.arange(0, 60, 0.25), np.full(240, 60), name="t"))
    for i in range(n):
        k = 200
        led.record(i, L.DONE, {"onset_loss": rng.random(), "f1_mireval": rng.random(), "f1_seed": 0.5},
                   onsets_s=np.sort(rng.uniform(0, 60, k)), pitches=rng.integers(30, 90, k))
    return L.write_ledger(path, led)


def test_merge_and_report_on_full_disk(full, tmp_path):
    src = _ledger(tmp_path / "a.h5")
    fill(full, 50_000)
    r = cli("merge", full / "m.h5", src)
    assert r.rc == 4 and "no space left on device for" in r.error and "m.h5" in r.error
    (full / "filler").unlink()
    r = cli("report", src, "--out", full / "rep", "--no-progress", "--top", "3")
    assert r.rc == 4 and "no space left on device" in r.error
    complete(full)


def test_wav_and_text_on_full_disk(full):
    fill(full, 10_000)
    with pytest.raises(OutputError, match="no space left on device for .*w.wav: it needs"):
        write_audio(full / "w.wav", np.zeros(22050), 22050)
    from pyannow_hpc.store.atomic import write_text

    with pytest.raises(OutputError, match="no space left on device"):
        write_text(full / "t.md", "x" * 100_000)
    complete(full)


def test_enospc_during_the_write_itself_is_one_line(full):
    """The free-space check passed (another writer filled the disk after it): os.write's ENOSPC."""
    from pyannow_hpc.store import atomic

    fill(full, 10_000)
    old = atomic.check_free_space
    atomic.check_free_space = lambda path, need: None
    try:
        with pytest.raises(OutputError, match="no space left on device while writing .*x.wav"):
            write_audio(full / "x.wav", np.zeros(44100), 22050)
    finally:
        atomic.check_free_space = old
    complete(full)


def test_optimize_on_full_disk(full, tmp_path):
    """The optimiser's per-iteration flush on a full disk: one line, exit 4, no torn
    or temporary file (its ledger is built in memory; libhdf5 never sees ENOSPC)."""
    cfg = tmp_path / "o.toml"
    cfg.write_text('method = "cmaes"\nbackend = "native"\nmodel = "boyle2008"\n[params]\n'
                   'g_ca_boyle = { range = [0.5, 1.0] }\ntime_offset_s = { range = [-0.2, 0.2] }\n[simulation]\nduration_s = 0.5\nburn_in_s = 0.1\n'
                   '[budget]\nmax_iterations = 2\n[cmaes]\npopsize = 4\n[evaluate]\nn_shifts = 10\n'
                   f'[output]\nledger = "{full / "o.h5"}"\n')
    fill(full, 8_000)
    r = cli("optimize", cfg, "--no-progress", "--no-table")
    assert r.rc == 4 and "no space left on device for" in r.error and "o.h5" in r.error, r
    complete(full)
    assert not (full / "o.h5").exists()
