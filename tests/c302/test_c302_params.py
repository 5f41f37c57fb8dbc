"""Parameter mapping onto c302 param_overrides (fast: no NEURON)."""
import math

import pytest

from pyannow_hpc.errors import ParameterError
from pyannow_hpc.params import space
from pyannow_hpc.worm.c302_params import C1_DEFAULTS, MAPPINGS, c302_overrides, mapping_table, unmapped


def _value(s: str) -> float:
    return float(s.split()[0])


def test_defaults_generate_exactly_c1():
    for model in MAPPINGS:
        assert c302_overrides(model, space(model).defaults()) == {}


def test_seed_model_scales_by_ratio_to_its_default():
    out = c302_overrides("pyannow", {"g_egl19": 16.0, "g_exp2": 2.5})
    assert math.isclose(_value(out["muscle_ca_boyle_cond_density"]), 2 * 0.0007)
    assert math.isclose(_value(out["muscle_k_slow_cond_density"]), 0.5 * 0.0006)
    assert out["muscle_ca_boyle_cond_density"].endswith("S_per_cm2")
    assert "muscle_leak_cond_density" not in out  # unchanged -> not overridden


def test_boyle2008_converts_units_and_maps_e_k_to_both_potassium_channels():
    out = c302_overrides("boyle2008", {"g_ca_boyle": 1.4, "g_leak": 1e-3, "ca_decay_ms": 20.0, "e_k_mV": -70.0})
    assert math.isclose(_value(out["muscle_ca_boyle_cond_density"]), 0.0014)  # mS/cm^2 -> S/cm^2
    assert math.isclose(_value(out["muscle_leak_cond_density"]), 1e-6)
    assert out["ca_conc_decay_time"] == "20 ms"
    assert out["k_slow_erev"] == out["k_fast_erev"] == "-70 mV"


def test_boyle2008_defaults_match_c302_c1():
    sp = space("boyle2008")
    for m in MAPPINGS["boyle2008"]:
        if m.how == "unit" and m.c302.endswith("cond_density"):
            assert math.isclose(sp[m.ours].default * 1e-3, C1_DEFAULTS[m.c302][0], rel_tol=1e-6), m


def test_unmapped_parameters_are_listed_and_documented():
    assert {"v_half_ca_mV", "tau_ca_ms", "g_nca", "drive_amp_uA"} <= set(unmapped("pyannow"))
    assert "g_egl19" not in unmapped("pyannow") and "ca_thresh_mV" not in unmapped("pyannow")
    table = mapping_table("pyannow")
    assert "| g_egl19 | muscle_ca_boyle_cond_density |" in table and "| g_nca | (none) |" in table


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ParameterError, match="no parameter mapping"):
        c302_overrides("nonexistent", {})
