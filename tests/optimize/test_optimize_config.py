"""The optimiser's TOML schema: bad input is one `pyannow-hpc: error:` line."""
import subprocess
import sys
from pathlib import Path

import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.optimize.config import load_config, loads_config
from pyannow_hpc.optimize.space import SearchSpace

REPO = Path(__file__).resolve().parents[2]
OK = """method = "cmaes"
backend = "native"
[params]
g_ca_boyle = { range = [0.3, 1.5], scale = "log" }
"""


@pytest.mark.parametrize("text, match", [
    (OK + "[budget]\nmax_iteratons = 3\n", "did you mean 'max_iterations'"),
    (OK.replace("[0.3, 1.5]", "[0.3, 50.0]"), "leaves the model's bounds"),
    (OK.replace('"cmaes"', '"gradient"'), "needs backend = \"jax\""),
    (OK.replace('"cmaes"', '"sgd"'), "method 'sgd' is unknown"),
    (OK.replace('scale = "log"', 'scale = "log", per = "muscle"'), "per-muscle parameters need backend"),
    (OK + "time_offset_s = { range = [-2.0, 0.1] }\n", "time_offset_s.range"),
    (OK + "[loss]\nprior_weight = 1.0\n", "needs loss.prior"),
    (OK + "[budget]\nmax_iterations = \"ten\"\n", "must be int"),
])
def test_bad_configs_name_the_key(text, match):
    with pytest.raises(ConfigError, match=match):
        loads_config(text, source="x.toml")


def test_per_quadrant_parameter_expands_to_96_muscles():
    cfg = loads_config(OK.replace('"native"', '"jax"').replace('scale = "log"', 'scale = "log", per = "quadrant"'))
    sp = SearchSpace.from_config(cfg)
    assert sp.dim == 4 and sp.labels[1] == "g_ca_boyle[VL]"
    import numpy as np

    th = sp.theta(sp.values(np.array([0.0, 0.25, 0.5, 1.0])))
    assert th["g_ca_boyle"].shape == (96,) and th["g_ca_boyle"][0] == pytest.approx(0.3)
    assert th["g_ca_boyle"][95] == pytest.approx(1.5) and th["g_ca_boyle"][24] == th["g_ca_boyle"][47]


@pytest.mark.parametrize("path", sorted((REPO / "examples").glob("optimize_*.toml")))
def test_examples_validate(path):
    load_config(path)


def test_cli_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(OK + "[budget]\nmax_iterations = 0\n")
    out = subprocess.run([sys.executable, "-m", "pyannow_hpc", "optimize", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("pyannow-hpc: error:"), out.stderr
    assert not (tmp_path / "out").exists()


def test_cmaes_with_one_free_value_is_one_line():
    from pyannow_hpc.errors import ConfigError
    from pyannow_hpc.optimize.config import loads_config

    with pytest.raises(ConfigError, match="cmaes needs at least 2 free values"):
        loads_config('method = "cmaes"\nmodel = "boyle2008"\n[params]\ng_ca_boyle = { range = [0.5, 1.0] }\n')
    assert loads_config('method = "nelder-mead"\nmodel = "boyle2008"\n[params]\ng_ca_boyle = { range = [0.5, 1.0] }\n')
