"""Every example sweep file in examples/ loads and validates (what the README runs)."""
from pathlib import Path

import pytest

from pyannow_hpc.config import load_config
from pyannow_hpc.params import space

# sweep files; the optimize_*.toml files are checked by tests/optimize/test_config.py
EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[1] / "examples").glob("*.toml")
                  if not p.name.startswith("optimize_"))


def test_there_are_examples():
    assert {p.name for p in EXAMPLES} >= {"sweep_small.toml", "sweep_boyle.toml", "sweep_c302.toml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates(path):
    cfg = load_config(path)
    assert cfg.param_names and all(n in space(cfg.model) for n in cfg.param_names)
    assert cfg.simulation.onset_method in ("crest", "threshold")

