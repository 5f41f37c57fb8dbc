"""The entry script that runs inside OpenWorm's image (pyannow_hpc/worm/sibernetic_entry.py),
run here with stand-in `nrnivmodl` and `./Release/Sibernetic` that record what they get:
the steps, argument vectors, working directory and environment of sibernetic_c302.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = Path(__file__).resolve().parents[2] / "pyannow_hpc" / "worm" / "sibernetic_entry.py"

_RECORDER = """#!{py}
import json, os, sys
with open({log!r}, "a") as f:
    f.write(json.dumps({{"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}}) + "\\n")
code = {log!r} + ".exit_" + os.path.basename(sys.argv[0])  # a file: Sibernetic gets a replaced environment
sys.exit(int(open(code).read()) if os.path.exists(code) else 0)
"""


@pytest.fixture
def sibernetic_home(tmp_path):
    log = tmp_path / "calls.jsonl"
    home = tmp_path / "sibernetic"
    (home / "Release").mkdir(parents=True)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for exe in (home / "Release" / "Sibernetic", bin_ / "nrnivmodl"):
        exe.write_text(_RECORDER.format(py=sys.executable, log=str(log)))
        exe.chmod(0o755)
    sim = tmp_path / "out" / "C1_Muscles"
    sim.mkdir(parents=True)
    (sim / "LEMS_c302_nrn.py").write_text("# converted network\n")
    env = {"PATH": f"{bin_}{os.pathsep}/usr/bin:/bin", "SIBERNETIC_HOME": str(home), "PYTHONPATH": "/opt/x",
           "SECRET_TOKEN": "must-not-reach-sibernetic"}
    return {"log": log, "home": home, "sim": sim, "env": env}


def _fail(h, program, code):
    Path(f"{h['log']}.exit_{program}").write_text(str(code))


def _run(h, *extra, **env):
    argv = [sys.executable, str(ENTRY), "-simDir", str(h["sim"]), "-duration", "50.0", "-dt", "0.005",
            "-logstep", "200", "-device", "CPU", "-configuration", "worm_crawl_half_resolution", *extra]
    p = subprocess.run(argv, env={**h["env"], **env}, capture_output=True, text=True, timeout=60)
    calls = [json.loads(x) for x in h["log"].read_text().splitlines()] if h["log"].exists() else []
    return p, calls


def test_runs_nrnivmodl_then_sibernetic_as_sibernetic_c302_does(sibernetic_home):
    h = sibernetic_home
    p, calls = _run(h)
    assert p.returncode == 0, p.stderr
    nrn, sib = calls
    assert nrn["argv"][1:] == [str(h["sim"])] and nrn["cwd"] == str(h["home"])  # x86_64/ lands in the run dir
    assert sib["argv"] == ["./Release/Sibernetic", "-c302", "-f", "worm_crawl_half_resolution", "-no_g",
                           "-l_to", f"lpath={h['sim']}", "timelimit=0.05", "timestep=5e-06", "logstep=200",
                           "device=CPU"]
    assert sib["cwd"] == str(h["home"])
    env = sib["env"]
    # the script's environment replaces the caller's (only these, plus what the interpreter adds itself)
    assert "SECRET_TOKEN" not in env and env["NEURON_MODULE_OPTIONS"] == "-nogui"
    assert env["PYTHONPATH"] == f".:/opt/x:{h['sim']}" and env["PATH"] == h["env"]["PATH"]
    assert "no WCON" in p.stderr  # this run dir has no wcon package: noted, not fatal


def test_a_failing_step_stops_the_run_with_its_exit_code(sibernetic_home):
    h = sibernetic_home
    _fail(h, "nrnivmodl", 3)
    p, calls = _run(h)
    assert p.returncode == 3 and len(calls) == 1 and "nrnivmodl failed (exit 3)" in p.stderr
    h["log"].unlink()
    _fail(h, "nrnivmodl", 0)
    _fail(h, "Sibernetic", 5)
    p, calls = _run(h)
    assert p.returncode == 5 and len(calls) == 2 and "Sibernetic failed (exit 5)" in p.stderr


def test_refuses_a_directory_without_the_network(sibernetic_home):
    (sibernetic_home["sim"] / "LEMS_c302_nrn.py").unlink()
    p, calls = _run(sibernetic_home)
    assert p.returncode == 2 and calls == [] and "no LEMS_c302_nrn.py" in p.stderr
