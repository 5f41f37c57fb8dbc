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


def test_unmapped_non_defaults_are_refused_naming_them_and_the_mapped_ones():
    from pyannow_hpc.errors import ConfigError
    from pyannow_hpc.worm.c302_params import check_mappable

    assert check_mappable("pyannow", {"g_egl19": 12.0, "v_half_ca_mV": -20.0}) == ()  # a default is fine
    with pytest.raises(ConfigError) as exc:
        check_mappable("pyannow", {"g_egl19": 12.0, "v_half_ca_mV": -25.0, "g_nca": 1.0})
    msg = str(exc.value)
    assert "cannot apply v_half_ca_mV, g_nca" in msg and "maps only g_egl19, g_exp2, ca_thresh_mV, g_leak" in msg
    assert "ignore_unmapped = true" in msg and "\n" not in msg
    assert check_mappable("boyle2008", {"drive_freq_hz": 2.0}, ignore_unmapped=True) == ("drive_freq_hz",)


def test_config_refuses_unmapped_unless_ignore_unmapped(tmp_path):
    from pyannow_hpc.config import loads_config
    from pyannow_hpc.errors import ConfigError

    text = ('backend = "c302"\nmodel = "pyannow"\n[params]\ng_egl19 = { range = [4.0, 16.0] }\n'
            'tau_ca_ms = { range = [5.0, 40.0] }\n[fixed]\ng_nca = 0.5\n[output]\nledger = "x.h5"\n')
    with pytest.raises(ConfigError, match=r"<string>: backend 'c302' cannot apply tau_ca_ms, g_nca"):
        loads_config(text)
    cfg = loads_config("ignore_unmapped = true\n" + text)
    assert cfg.ignored_unmapped == ("tau_ca_ms", "g_nca")
    assert cfg.config_hash() != loads_config(text.replace("c302", "native")).config_hash()
    # the surrogates apply every parameter: nothing to refuse, and old configs hash as before
    native = loads_config(text.replace("c302", "native"))
    assert native.ignored_unmapped == () and "ignore_unmapped" not in native.science_dict()
    with pytest.raises(ConfigError, match="ignore_unmapped must be bool"):
        loads_config('ignore_unmapped = "yes"\n' + text)


def test_objective_validates_its_window_and_lists_the_searchable_parameters():
    from pyannow_hpc.errors import ConfigError
    from pyannow_hpc.music.notes import NoteSequence
    from pyannow_hpc.worm.c302_objective import C302Objective

    target = NoteSequence.from_arrays([0.1], [60])
    assert C302Objective(target, model="pyannow").search_params() == ("g_egl19", "g_exp2", "g_leak")
    assert C302Objective(target).search_params()[:2] == ("g_ca_boyle", "g_k_slow")
    for bad in ({"duration_s": 30.0}, {"duration_s": 0.0}, {"dt_ms": 0.5}, {"model": "nonexistent"},
                {"failure_loss": float("nan")}):
        with pytest.raises(ConfigError):
            C302Objective(target, **bad)


def test_objective_call_maximise_failure_and_ignored(monkeypatch):
    """The objective's own logic, with the C302 run replaced by a recorder."""
    import warnings

    from pyannow_hpc import pipeline
    from pyannow_hpc.errors import ConfigError, SimulationError
    from pyannow_hpc.music.notes import NoteSequence
    from pyannow_hpc.worm.c302_objective import C302Objective

    calls = []

    def fake_evaluate(params, **kw):
        calls.append((dict(params), kw))
        if params.get("g_ca_boyle") == 9.0:
            raise SimulationError("NEURON run failed")
        if "drive_freq_hz" in params:  # what the backend says about a parameter it cannot apply
            warnings.warn("c302 backend: drive_freq_hz have no C302 counterpart and are ignored")
        return pipeline.EvalResult(notes=NoteSequence.from_arrays([], []), metrics={"onset_loss": 0.25, "f1_mireval": 0.5})

    monkeypatch.setattr(pipeline, "evaluate_params", fake_evaluate)
    target = NoteSequence.from_arrays([0.1], [60])
    f = C302Objective(target, duration_s=0.5, window_start_s=2.0)
    assert f({"g_ca_boyle": 1.0}) == 0.25
    kw = calls[-1][1]
    assert kw["backend"] == "c302" and kw["onset_method"] == "threshold" and kw["duration_s"] == 0.5
    assert kw["window_start_s"] == 2.0 and kw["dt_ms"] == 0.05 and kw["model"] == "boyle2008"
    assert C302Objective(target, metric="f1_mireval", maximise=True)({"g_ca_boyle": 1.0}) == -0.5
    with pytest.raises(SimulationError):
        f({"g_ca_boyle": 9.0})
    assert C302Objective(target, failure_loss=1e3)({"g_ca_boyle": 9.0}) == 1e3
    n = len(calls)
    with pytest.raises(ConfigError, match="cannot apply drive_freq_hz"):
        f({"drive_freq_hz": 2.0})
    assert len(calls) == n  # refused before any run
    quiet = C302Objective(target, ignore_unmapped=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the caller asked: no warning per call
        assert quiet({"drive_freq_hz": 2.0}) == 0.25
