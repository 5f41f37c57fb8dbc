"""Sibernetic + C302 container backend against the stand-in runtime
(tests/fixtures/fake_runtime: checks its argv, writes realistic output)."""
import json
import os
import time

import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError, RuntimeNotFoundError, SimulationError
from pyannow_hpc.worm import simulate
from pyannow_hpc.worm.activity import muscle_names
from pyannow_hpc.worm.c302_io import MISSING_C302_SLOT
from pyannow_hpc.worm.container import IMAGE, SiberneticRun, build_argv

SCRIPT_ARGS = ["python3", "sibernetic_c302.py", "-duration", "100.0", "-dt", "0.005", "-dtNrn", "0.05",
               "-logstep", "200", "-device=CPU", "-configuration", "worm_crawl_half_resolution", "-reference", "FW",
               "-c302params", "C2", "-datareader", "UpdatedSpreadsheetDataReader2", "-outDir", "/out"]


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_docker_argv_is_exactly_the_documented_command(fake_runtime):
    act = simulate(None, backend="container", model="pyannow", duration_s=0.1, dt_ms=0.05)
    (call,) = _calls(fake_runtime["log"])
    argv = call["argv"]
    assert argv[:3] == ["docker", "run", "--rm"] and argv[3] == "--name" and argv[4].startswith("pyannow-")
    assert argv[5] == "-v" and argv[6].endswith(":/out") and argv[7:10] == ["-w", "/home/ow/sibernetic", IMAGE]
    assert argv[10:] == SCRIPT_ARGS
    out_host = argv[6].rsplit(":", 1)[0]
    assert out_host.startswith(str(fake_runtime["tasks"])) and not os.path.exists(out_host)  # cleaned up
    assert os.listdir(fake_runtime["tasks"]) == []
    # parsed: C302 V (with the missing MVL24 slot), activation, body motion
    assert act.backend == "container" and act.v_mV.shape == (101, 96)
    assert np.isnan(act.v_mV[:, MISSING_C302_SLOT]).all()
    assert np.nanmax(act.v_mV) > 10 and np.nanmin(act.v_mV) < -40
    assert act.traces["activation"].shape == (101, 96) and 0 <= act.traces["activation"].min()
    # body midline: 5 WCON frames at 0, 20, ..., 80 ms interpolated onto t_ms, NaN after the last frame
    bx = act.traces["body_x"]
    assert bx.shape == (101, 49) and np.isfinite(bx[:81]).all() and np.isnan(bx[81:]).all()
    assert bx[10, 0] == pytest.approx(0.5) and bx[80, 2] == pytest.approx(24.0)  # x = 10 p + frame
    # the fake's wave crests in the dorsal head muscles first: DL01 spikes, before DL03
    names = muscle_names()
    first = {m: act.spikes_of(m)[0] for m in (names.index("DL01"), names.index("DL03")) if len(act.spikes_of(m))}
    assert len(first) == 2 and first[names.index("DL01")] < first[names.index("DL03")]


def test_apptainer_argv(fake_runtime, monkeypatch, tmp_path):
    monkeypatch.setenv("PYANNOW_CONTAINER_RUNTIME", "apptainer")
    sif = tmp_path / "ow.sif"
    sif.write_bytes(b"SIF")
    monkeypatch.setenv("PYANNOW_OW_IMAGE", str(sif))
    monkeypatch.setenv("FAKE_RUNTIME_NO_C302", "1")  # activation-only output: onsets from activation
    act = simulate(None, backend="container", model="pyannow", duration_s=0.1, dt_ms=0.05)
    (call,) = _calls(fake_runtime["log"])
    argv = call["argv"]
    assert argv[:4] == ["apptainer", "exec", "--cleanenv", "--writable-tmpfs"]
    assert argv[4] == "--bind" and argv[5].endswith(":/out") and argv[6:9] == ["--pwd", "/home/ow/sibernetic", str(sif)]
    assert argv[9:] == SCRIPT_ARGS
    assert np.isnan(act.v_mV).all() and len(act.spike_times_ms) > 0
    assert os.listdir(fake_runtime["tasks"]) == []


def test_build_argv_validates():
    sim = SiberneticRun(duration_ms=100.0, device="CPU; rm -rf /")
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
        simulate(None, backend="container", model="pyannow", duration_s=0.1, dt_ms=0.05)
    assert time.monotonic() - t0 < 15
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


def test_missing_runtime_and_unsupported_params(fake_runtime, monkeypatch):
    with pytest.raises(ConfigError, match="cannot apply g_egl19"):
        simulate({"g_egl19": 12.0}, backend="container", model="pyannow", duration_s=0.05, dt_ms=0.05)
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
