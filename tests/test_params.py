"""The parameter space: defaults, bounds and the edge validation messages."""
import math

import numpy as np
import pytest

from pyannow_hpc.errors import ParameterError
from pyannow_hpc.params import PYANNOW_SPACE, Param, space


def test_seed_defaults_match_science_md():
    d = space("pyannow").defaults()
    assert d["g_egl19"] == 8.0 and d["v_half_ca_mV"] == -20.0 and d["tau_ca_ms"] == 15.0
    assert d["g_exp2"] == 5.0 and d["ca_thresh_mV"] == -10.0 and d["g_nca"] == 0.8 and d["g_leak"] == 0.05
    assert d["drive_amp_uA"] == 12.0 and d["drive_freq_hz"] == 1.5 and d["noise_sd_uA"] == 0.3
    assert d["coupling_g"] == 0.0  # 0 reproduces the seed's independent cells


def test_search_bounds_match_science_md():
    b = dict(zip(PYANNOW_SPACE.names, PYANNOW_SPACE.bounds()))
    assert list(b["g_egl19"]) == [0.5, 25.0]
    assert list(b["v_half_ca_mV"]) == [-50.0, 0.0]
    assert list(b["tau_ca_ms"]) == [1.0, 80.0]
    assert list(b["g_exp2"]) == [0.5, 20.0]
    assert list(b["ca_thresh_mV"]) == [-30.0, 10.0]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nonfinite_rejected_naming_parameter(value):
    with pytest.raises(ParameterError, match=r"g_egl19 = (nan|inf|-inf) is not finite.*\[0.5, 25\]"):
        space("pyannow").validate({"g_egl19": value})


def test_out_of_bounds_names_value_and_bounds():
    with pytest.raises(ParameterError) as exc:
        space("pyannow").validate({"tau_ca_ms": 200})
    msg = str(exc.value)
    assert "tau_ca_ms = 200" in msg and "[1, 80]" in msg and "\n" not in msg


def test_unknown_parameter_suggests_closest():
    with pytest.raises(ParameterError, match="did you mean 'g_egl19'"):
        space("pyannow").validate({"g_egl91": 3})


def test_non_numeric_rejected():
    with pytest.raises(ParameterError, match="must be a number"):
        space("pyannow").validate({"g_exp2": "fast"})


def test_validate_returns_new_full_dict():
    s = space("pyannow")
    out = s.validate({"g_exp2": 7})
    assert out["g_exp2"] == 7.0 and set(out) == set(s.names)
    assert s.defaults()["g_exp2"] == 5.0


def test_unknown_model():
    with pytest.raises(ParameterError, match="unknown cell model"):
        space("hodgkin")


def test_param_definition_checks():
    with pytest.raises(ValueError):
        Param("x", "mV", 5.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        Param("x", "ms", 1.0, 0.0, 2.0, scale="log")


def test_describe_lists_every_parameter():
    text = space("pyannow").describe()
    for name in space("pyannow").names:
        assert name in text
    assert np.all(space("pyannow").bounds()[:, 0] <= space("pyannow").bounds()[:, 1])
