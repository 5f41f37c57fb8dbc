"""Sibernetic + C302 container backend against the stand-in runtime
(tests/fixtures/fake_runtime: checks its argv, writes realistic output)."""
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError, RuntimeNotFoundError, SimulationError
from pyannow_hpc.worm import simulate
from pyannow_hpc.worm.activity import muscle_names
from pyannow_hpc.worm.c302_io import MISSING_C302_SLOT
from pyannow_hpc.worm.container import IMAGE, SiberneticRun, build_argv

SCRIPT_ARGS = ["python3", "/out/pyannow_sibernetic.py", "-simDir", "/out/C1_Muscles", "-duration", "50.0",
               "-dt", "0.005", "-logstep", "200", "-device", "CPU", "-configuration", "worm_crawl_half_resolution"]


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_docker_argv_is_exactly_the_documented_command(fake_runtime):
    act = simulate(None, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)
    (call,) = _calls(fake_runtime["log"])
    argv = call["argv"]
    assert argv[:3] == ["docker", "run", "--rm"] and argv[3] == "--name" and argv[4].startswith("pyannow-")
    assert argv[5] == "-v" and argv[6].endswith(":/out") and argv[7:10] == ["-w", "/home/ow/sibernetic", IMAGE]
    assert argv[10:] == SCRIPT_ARGS
    out_host = argv[6].rsplit(":", 1)[0]
    assert out_host.startswith(str(fake_runtime["tasks"])) and not os.path.exists(out_host)  # cleaned up
    assert os.listdir(fake_runtime["tasks"]) == []
    # the mounted network: c302 C1 muscles at C1's defaults (the default point maps to no override)
    mounted = call["mounted"]
    assert mounted["gmax_S_per_cm2"] == pytest.approx({"ca_boyle": 7e-4, "k_slow": 6e-4, "k_fast": 1e-4, "Leak": 5e-7},
                                                      rel=1e-6)
    assert {"LEMS_c302.xml", "LEMS_c302_nrn.py", "GenericMuscleCell.hoc", "CaPool.mod", "ca_boyle.mod"} <= set(mounted["files"])
    # parsed: C302 V (with the missing MVL24 slot), activation, body motion
    assert act.backend == "container" and act.v_mV.shape == (51, 96)
    assert np.isnan(act.v_mV[:, MISSING_C302_SLOT]).all()
    assert np.nanmax(act.v_mV) > 10 and np.nanmin(act.v_mV) < -40
    assert act.traces["activation"].shape == (51, 96) and 0 <= act.traces["activation"].min()
    # body midline: 5 WCON frames at 0, 10, ..., 40 ms interpolated onto t_ms, NaN after the last frame
    bx = act.traces["body_x"]
    assert bx.shape == (51, 49) and np.isfinite(bx[:41]).all() and np.isnan(bx[41:]).all()
    assert bx[5, 0] == pytest.approx(0.5) and bx[40, 2] == pytest.approx(24.0)  # x = 10 p + frame
    # the stand-in's wave (4 Hz at C1's ca_boyle) crosses -10 mV in DL01 at asin(0.9348)/(8 pi) s = 48.05 ms,
    # read from the full-resolution C302 V; DL03 follows 20.8 ms later, outside the window
    names = muscle_names()
    assert act.spikes_of(names.index("DL01"))[0] == pytest.approx(48.05, abs=0.1)
    assert len(act.spikes_of(names.index("DL03"))) == 0


@pytest.mark.parametrize("model,params,expect", [
    ("boyle2008", {"g_ca_boyle": 1.4, "g_k_fast": 0.25}, {"ca_boyle": 1.4e-3, "k_fast": 2.5e-4, "k_slow": 6e-4}),
    ("pyannow", {"g_egl19": 12.0, "g_exp2": 2.5}, {"ca_boyle": 7e-4 * 12 / 8, "k_slow": 6e-4 * 2.5 / 5, "k_fast": 1e-4}),
])
def test_parameters_reach_the_mounted_network(fake_runtime, model, params, expect):
    """The network the container sees carries the overridden densities (c302's mapping),
    and the parameters change the run (the stand-in's wave follows gmax_ca_boyle)."""
    act = simulate(params, backend="container", model=model, duration_s=0.05, dt_ms=0.05)
    base = simulate(None, backend="container", model=model, duration_s=0.05, dt_ms=0.05)
    varied, default = _calls(fake_runtime["log"])
    for chan, value in expect.items():
        assert varied["mounted"]["gmax_S_per_cm2"][chan] == pytest.approx(value, rel=1e-9)
    assert default["mounted"]["gmax_S_per_cm2"]["ca_boyle"] == pytest.approx(7e-4)
    assert varied["argv"][10:] == default["argv"][10:] == SCRIPT_ARGS  # parameters travel in files, not argv
    same = np.allclose(act.traces["activation"], base.traces["activation"])
    assert same == (expect["ca_boyle"] == pytest.approx(7e-4))
    assert os.listdir(fake_runtime["tasks"]) == []


def test_mounted_nrn_script_paths_are_rewritten_like_sibernetic_c302(tmp_path, fake_runtime):
    from pyannow_hpc.worm.activity import SimulationSpec
    from pyannow_hpc.worm.container import generate_network

    out = tmp_path / "out"
    out.mkdir()
    spec = SimulationSpec(params={"g_ca_boyle": 1.4}, model="boyle2008", duration_ms=50.0, dt_ms=0.05)
    net = generate_network(out, spec, SiberneticRun(duration_ms=50.0))
    nrn = (net / "LEMS_c302_nrn.py").read_text()
    assert 'h.load_file("/out/C1_Muscles/GenericMuscleCell.hoc")' in nrn
    assert 'h.load_file("/out/C1_Muscles/GenericNeuronCell.hoc")' in nrn
    assert "open('/out/C1_Muscles/time.dat'" in nrn and "open('/out/C1_Muscles/c302_C1_Muscles.muscles.dat'" in nrn
    assert "open('c302_" not in nrn and 'load_file("GenericMuscleCell.hoc")' not in nrn
    assert 'step="0.005ms"' in (net / "LEMS_c302.xml").read_text()  # c302's dt = Sibernetic's, as the script passes it
    assert (out / "pyannow_sibernetic.py").read_bytes() == (
        Path(__import__("pyannow_hpc.worm.sibernetic_entry", fromlist=["x"]).__file__).read_bytes())
    assert "gmax_ca_boyle = 0.0014  // units: S cm-2" in (net / "GenericMuscleCell.hoc").read_text()


def test_apptainer_argv(fake_runtime, monkeypatch, tmp_path):
    monkeypatch.setenv("PYANNOW_CONTAINER_RUNTIME", "apptainer")
    sif = tmp_path / "ow.sif"
    sif.write_bytes(b"SIF")
    monkeypatch.setenv("PYANNOW_OW_IMAGE", str(sif))
    monkeypatch.setenv("FAKE_RUNTIME_NO_C302", "1")  # activation-only output: onsets from activation
    act = simulate({"g_ca_boyle": 1.0}, backend="container", model="boyle2008", duration_s=0.05, dt_ms=0.05)
    (call,) = _calls(fake_runtime["log"])
    argv = call["argv"]
    assert argv[:4] == ["apptainer", "exec", "--cleanenv", "--writable-tmpfs"]
    assert argv[4] == "--bind" and argv[5].endswith(":/out") and argv[6:9] == ["--pwd", "/home/ow/sibernetic", str(sif)]
    assert argv[9:] == SCRIPT_ARGS
    assert call["mounted"]["gmax_S_per_cm2"]["ca_boyle"] == pytest.approx(1e-3)
    assert np.isnan(act.v_mV).all() and len(act.spike_times_ms) > 0
    assert os.listdir(fake_runtime["tasks"]) == []


def test_build_argv_validates():
    sim = SiberneticRun(duration_ms=100.0, device="CPU; rm -rf /")
    with pytest.raises(ConfigError, match="plain word"):
        build_argv("docker", "/tmp", SiberneticRun(duration_ms=1.0, configuration="../etc"))
    with pytest.raises(ConfigError, match="plain word"):
        build_argv("docker", "/tmp", sim)
    with pytest.raises(ConfigError, match="cannot be mounted"):
        build_argv("docker", "/tmp/a:b", SiberneticRun(duration_ms=1.0))
    with pytest.raises(ConfigError, match="duration_ms"):
        build_argv("docker", "/tmp", SiberneticRun(duration_ms=float("nan")))
    with pytest.raises(ConfigError, match="unknown container runtime"):
        build_argv("podman", "/tmp", SiberneticRun(duration_ms=1.0))


def test_timeout_kills_group_and_container_and_cleans_up(fake_runtime, monkeypatch, tmp_path, alive):
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("FAKE_RUNTIME_MODE", "sleep")
    monkeypatch.setenv("FAKE_RUNTIME_PIDFILE", str(pidfile))
    monkeypatch.setenv("PYANNOW_CONTAINER_TIMEOUT_S", "2")
    t0 = time.monotonic()
    with pytest.raises(SimulationError, match="limit"):
        simulate({"g_egl19": 10.0}, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)
    assert time.monotonic() - t0 < 40  # includes the host-side network (cached after the first test)
    pids = [int(x) for x in pidfile.read_text().split()]
    time.sleep(0.1)
    assert len(pids) == 2 and not any(alive(p) for p in pids)  # runtime and its grandchild
    calls = _calls(fake_runtime["log"])
    assert calls[-1]["argv"][:2] == ["docker", "kill"] and calls[-1]["argv"][2] == calls[0]["argv"][4]
    assert os.listdir(fake_runtime["tasks"]) == []


@pytest.mark.parametrize("mode,match", [("crash", "exit 1.*CL_OUT_OF_RESOURCES"), ("garbage", "cannot parse"),
                                        ("nooutput", "no muscles_activity_buffer")])
def test_crash_and_garbage_are_one_line_simulation_errors(fake_runtime, monkeypatch, mode, match):
    monkeypatch.setenv("FAKE_RUNTIME_MODE", mode)
    with pytest.raises(SimulationError, match=match) as exc:
        simulate(None, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)
    assert "\n" not in str(exc.value)
    assert os.listdir(fake_runtime["tasks"]) == []


def test_missing_runtime_and_unmapped_params(fake_runtime, monkeypatch):
    with pytest.warns(UserWarning, match="v_half_ca_mV have no C302 counterpart"):
        simulate({"v_half_ca_mV": -25.0}, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeNotFoundError, match="docker or apptainer"):
        simulate(None, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)


def test_cli_reports_missing_runtime_in_one_line(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, PATH=os.path.dirname(sys.executable), PYANNOW_CONTAINER_RUNTIME="docker")
    code = "from pyannow_hpc.worm import simulate; simulate(None, backend='container', model='pyannow', duration_s=0.05, dt_ms=0.05)"
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode != 0 and "RuntimeNotFoundError: container runtime 'docker' not found" in p.stderr
