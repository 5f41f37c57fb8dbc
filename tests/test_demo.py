"""The main job end to end, and its one-line errors."""
import subprocess
import sys

import h5py
import numpy as np
import pytest
import soundfile as sf

from pyannow_hpc.cli import main


def test_demo_writes_every_output(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--duration-s", "8", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for name in ("worm.wav", "target.wav", "f1_table.md", "f1_table.csv", "pianoroll.png", "result.h5"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in printed  # it says where everything went
    assert "F1 (mir_eval one-to-one, ±50 ms)" in printed and "F1 (seed any-match, ±50 ms)" in printed

    wav, fs = sf.read(out / "worm.wav")
    assert fs == 22050 and 0 < np.max(np.abs(wav)) <= 1.0
    table = (out / "f1_table.md").read_text()
    assert "mir_eval one-to-one" in table and "seed any-match" in table

    with h5py.File(out / "result.h5") as f:
        assert f.attrs["job"] == "demo" and f.attrs["package_version"]
        assert f.attrs["git_hash"] and f.attrs["host"]
        onsets = f["worm/onset_s"][()]
        assert len(onsets) > 0 and np.all(np.diff(onsets) >= 0) and onsets.max() < 8.0
        pitches = f["worm/pitch"][()]
        assert pitches.min() >= 24 and pitches.max() <= 119  # the 96-muscle pitch map
        assert f["params"].attrs["g_ca_boyle"] == 0.7  # c302 set C1
        f1 = f["metrics"].attrs["f1_mireval"]
        assert 0.0 <= f1 <= 1.0
        table = f["f1_table"]
        assert table["tolerance (± ms)"][()].tolist() == [25.0, 50.0, 100.0]
        assert table["F1 (mir_eval one-to-one)"][1] == pytest.approx(f1)
        # any-match can only be >= one-to-one on the same notes
        assert np.all(table["F1 (seed any-match)"][()] >= table["F1 (mir_eval one-to-one)"][()] - 1e-12)
        # the default (boyle2008 at the edge of its excitable region, spike
        # onsets) plays at a musical rate, not the ~107 notes/s of a saturated drive
        assert f.attrs["model"] == "boyle2008" and f.attrs["onset_method"] == "threshold"
        assert 2.0 < len(onsets) / 8.0 < 20.0
        # the nulls are stored beside the score: uniform chance, shift z, ceilings
        m = f["metrics"].attrs
        assert 0.0 < m["uniform_mean"] < 1.0 and np.isfinite(m["shift_z"]) and 0.0 < m["shift_p"] <= 1.0
        assert m["beat_ceiling_f1"] > m["uniform_mean"]
        assert np.all(np.isfinite(table["z vs worm's own shifts"][()]))
        assert f.attrs["burn_in_s"] == 2.0
    for label in ("vs worm's own shifts: z", "uniform chance", "best metronome at", "beat ceiling"):
        assert label in printed


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pyannow_hpc", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "g_ca_boyle=nan"], "g_ca_boyle = nan is not finite"),
        (["-p", "ca_decay_ms=500"], "ca_decay_ms = 500 ms is outside its bounds [2, 300]"),
        (["--model", "pyannow", "-p", "tau_ca_ms=500"], "tau_ca_ms = 500 ms is outside its bounds [1, 80]"),
        (["-p", "g_egl19=3"], "unknown parameter 'g_egl19' for model 'boyle2008'"),
        (["-p", "g_exp"], "--param expects NAME=VALUE"),
        (["--duration-s", "-1"], "duration_s must be a finite number"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path, args, message):
    r = _cli("demo", "--out", str(tmp_path / "o"), "--no-progress", *args)
    assert r.returncode != 0
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not any((tmp_path / "o").glob("*.h5"))


def test_malformed_midi_target(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    r = _cli("demo", "--out", str(tmp_path / "o"), "--no-progress", "--target", str(bad))
    assert r.returncode != 0 and "bad.mid" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "result.h5").exists()


def test_closed_stdout_pipe_is_not_a_traceback(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "pyannow_hpc", "demo", "--out", str(tmp_path / "o"), "--no-progress",
                          "--duration-s", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # like `| head -0`
    err = p.stderr.read().decode()
    assert p.wait() != 0 and "Traceback" not in err and "BrokenPipe" not in err
