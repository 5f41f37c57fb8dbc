"""`pyannow-hpc simulate`: parameters on the command line, HDF5 out, clear errors."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from pyannow_hpc.cli import main
from pyannow_hpc.worm import simulate


def test_writes_traces_spikes_params_and_provenance(tmp_path, capsys):
    out = tmp_path / "sub" / "run.h5"
    rc = main(["simulate", "--model", "pyannow", "--duration-s", "0.5", "-p", "g_egl19=12", "--param", "tau_ca_ms=30",
               "--integrator", "seed_euler", "--gates", "--seed", "3", "--burn-in-s", "0", "--out", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    ref = simulate({"g_egl19": 12, "tau_ca_ms": 30}, duration_s=0.5, integrator="seed_euler", seed=3, record_gates=True)
    with h5py.File(out, "r") as f:
        assert f["v_mV"].shape == ref.v_mV.shape and f["v_mV"].dtype == np.float32
        assert np.array_equal(f["v_mV"][:], ref.v_mV)
        assert np.array_equal(f["n"][:], ref.traces["n"])
        assert np.array_equal(f["spike_times_ms"][:], ref.spike_times_ms)
        assert f["params"].attrs["g_egl19"] == 12.0 and f["params"].attrs["g_exp2"] == 5.0
        assert f.attrs["integrator"] == "seed_euler" and f.attrs["seed"] == 3
        assert "git_hash" in f.attrs and "package_version" in f.attrs
        assert f["muscle_names"][0] == b"DL01"
    assert [p.name for p in out.parent.iterdir()] == ["run.h5"]  # no temp file left behind


def test_burn_in_is_simulated_then_dropped(tmp_path):
    out = tmp_path / "b.h5"
    assert main(["simulate", "--duration-s", "0.5", "--burn-in-s", "0.25", "--out", str(out)]) == 0
    ref = simulate(None, model="boyle2008", duration_s=0.75)
    with h5py.File(out, "r") as f:
        assert f["t_ms"][0] == 0.0 and f["t_ms"][-1] == 500.0 and f.attrs["burn_in_s"] == 0.25
        assert np.array_equal(f["v_mV"][:], ref.v_mV[250:])  # 1 kHz: sample 250 is t = 0.25 s
        assert f.attrs["duration_ms"] == 500.0


def test_sample_rate_flag(tmp_path):
    out = tmp_path / "r.h5"
    assert main(["simulate", "--duration-s", "1", "--sample-rate-hz", "250", "--out", str(out)]) == 0
    with h5py.File(out, "r") as f:
        assert f["v_mV"].shape == (251, 96) and f["t_ms"][1] == 4.0 and f.attrs["sample_rate_hz"] == 250.0


def test_list_params(capsys):
    assert main(["simulate", "--model", "pyannow", "--list-params"]) == 0
    text = capsys.readouterr().out
    assert "g_egl19" in text and "tau_ca_ms" in text and "25" in text
    assert main(["simulate", "--list-params"]) == 0  # the default model, boyle2008
    assert "g_ca_boyle" in capsys.readouterr().out


@pytest.mark.parametrize("argv,needle", [
    (["-p", "g_egl19=nan"], "g_egl19"),
    (["-p", "tau_ca_ms=500"], "tau_ca_ms"),
    (["-p", "bogus=1"], "bogus"),
    (["--duration-s", "-1"], "duration_s"),
    (["--backend", "cuda"], "backend"),
])
def test_bad_input_is_one_line_error_and_no_file(tmp_path, capsys, argv, needle):
    out = tmp_path / "x.h5"
    duration = [] if "--duration-s" in argv else ["--duration-s", "0.1"]
    rc = main(["simulate", "--model", "pyannow", *duration, *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc != 0 and err.startswith("pyannow-hpc: error:") and needle in err and err.count("\n") == 1
    assert not out.exists()


def test_out_required(capsys):
    assert main(["simulate", "--duration-s", "0.1"]) != 0
    assert "--out" in capsys.readouterr().err
