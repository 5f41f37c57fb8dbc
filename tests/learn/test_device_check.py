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


def test_bad_options_are_one_line_errors(tmp_path):
    for args, msg in ((("--ranks", "x"), "--ranks must be"), (("--json-out", str(tmp_path / "no" / "r.json")),
                                                               "no such directory")):
        p = _run(*args, "--allow-cpu")
        assert p.returncode == 2 and msg in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_small_run_on_cpu_writes_all_results(tmp_path):
    out = tmp_path / "device.json"
    p = _run("--size", "small", "--allow-cpu", "--no-install", "--json-out", str(out))
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(out.read_text())
    assert [r["net"] for r in res["pinn"]] == ["ode", "pde"]
    for r in res["pinn"]:
        assert r["adam_step_ms"] > 0 and r["lbfgs_step_ms"] > 0 and r["params_identical_on_all_ranks"]
        assert r["global_points"] >= 2000
    s = res["surrogate"]
    assert s["device"] == "cpu" and [r["batch"] for r in s["jax_vmap"]] == [4, 8]
    core = s["native_core"]["per_set_s"]
    for r in s["jax_vmap"]:  # the ratio is the one the script prints: native per-set cost over the device's
        assert r["worm_s_per_s"] == pytest.approx(r["batch"] * 0.5 / r["wall_s"])
        assert r["x_native_core"] == pytest.approx(core / r["per_set_s"])
    assert s["agreement"]["ok"] and 0 < s["agreement"]["max_rel_err"] <= 1e-9
    assert s["gradient_iteration"]["iteration_s"] > 0 and s["gradient_iteration"]["timed"]


def test_agreement_check_catches_a_wrong_device_result(monkeypatch):
    """The C-vs-device check is not vacuous: a perturbed device trace fails it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import device_surrogate as ds

    real = ds._batched_fn

    def off_by_a_bit(*a, **k):
        fn, spec = real(*a, **k)
        return (lambda th, s: fn(th, s) * (1.0 + 1e-7)), spec

    monkeypatch.setattr(ds, "_batched_fn", off_by_a_bit)
    bad = ds.agreement(0.1, 50.0, n_sets=2)
    assert not bad["ok"] and bad["max_rel_err"] > 1e-9
