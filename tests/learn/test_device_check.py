"""scripts/device_check.sh: no GPU here, so its CPU path and its refusal are tested."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "device_check.sh"


def _run(*args, timeout=600):
    env = {**os.environ, "PY": sys.executable, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_refuses_without_a_gpu_unless_allowed():
    import jax

    if jax.default_backend() == "gpu":
        pytest.skip("a GPU is visible: the refusal path does not apply")  # never on CI (no GPU)
    p = _run("--size", "small")
    assert p.returncode == 1 and "JAX sees no GPU" in p.stderr
    bad = _run("--size", "huge")
    assert bad.returncode == 2 and "--size must be" in bad.stderr


@pytest.mark.slow
def test_small_run_on_cpu_prints_step_times():
    p = _run("--size", "small", "--allow-cpu")
    assert p.returncode == 0, p.stderr[-2000:]
    runs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert [r["net"] for r in runs] == ["ode", "pde"]
    for r in runs:
        assert r["adam_step_ms"] > 0 and r["lbfgs_step_ms"] > 0 and r["params_identical_on_all_ranks"]
        assert r["global_points"] >= 2000
