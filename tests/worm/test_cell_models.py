"""One CellModel spec per model: the table, the C field tables behind it, and
the worked example of a third model (the passive cell of docs/cell_models.md)."""
from __future__ import annotations

import ctypes
import dataclasses

import numpy as np
import pytest

from pyannow_hpc import _native, params
from pyannow_hpc.errors import NativeLibraryError
from pyannow_hpc.worm import make_spec, models, native, simulate


def test_one_table_of_models_and_spaces():
    assert set(models.MODELS) == set(params.SPACES) == {"pyannow", "boyle2008", "passive"}
    for name, m in models.MODELS.items():
        assert m.space is params.SPACES[name]
        native.bind(name)  # C and Python agree on every field, default and bound
    # the jobs' default and the library default are one model
    from pyannow_hpc.worm import DEFAULT_MODEL

    assert make_spec().model == DEFAULT_MODEL == "boyle2008"


def test_ctypes_structs_come_from_the_c_tables():
    for name in ("pw_drive", "pw_sim_config", "pw_sim_output", "pw_pyannow_params", "pw_boyle2008_params"):
        info, cls = _native.struct_info(name), _native.struct(name)
        assert ctypes.sizeof(cls) == info.size
        assert [f[0] for f in cls._fields_] == [f.name for f in sorted(info.fields, key=lambda f: f.offset)]
    # one channel parameter, walked: the space's name is the C member's, its default is C1's in both
    f = _native.struct_info("pw_boyle2008_params")["g_ca_boyle"]
    assert (f.unit, f.default) == ("mS/cm^2", params.BOYLE2008_SPACE["g_ca_boyle"].default)
    cs = native.cell_struct("boyle2008", params.BOYLE2008_SPACE.validate({"g_ca_boyle": 1.25}))
    assert cs.g_ca_boyle == 1.25 and cs.e_tau_ms == pytest.approx(0.100027)  # a constant from the C table


def test_constants_are_read_from_c():
    c = models.get("pyannow").constants()
    # SCIENCE.md section 1, typed in here as an independent check of the C table
    assert (c["e_ca_mV"], c["e_k_mV"], c["e_na_mV"], c["e_leak_mV"]) == (60.0, -80.0, 50.0, -65.0)
    assert (c["m_slope_mV"], c["n_half_mV"], c["n_slope_mV"]) == (6.5, -15.0, 12.0)
    assert (c["tau_n_min_ms"], c["tau_n_amp_ms"], c["tau_n_mid_mV"], c["tau_n_width_mV"]) == (20.0, 50.0, -15.0, 25.0)


def test_a_c_field_without_a_python_value_fails_loudly(monkeypatch):
    # a model whose space lacks one of its C struct's inputs: the binding check names the field
    sp = params.SPACES["passive"]
    short = dataclasses.replace(sp, params=tuple(p for p in sp.params if p.name != "syn_e_rev_mV"))
    monkeypatch.setitem(params.SPACES, "passive", short)
    native.bind.cache_clear()
    try:
        with pytest.raises(NativeLibraryError, match=r"pw_passive_params\.syn_e_rev_mV has no Python value"):
            native.bind("passive")
    finally:
        native.bind.cache_clear()
    with pytest.raises(NativeLibraryError, match="does not have"):
        _native.fill("pw_drive", {"no_such_field": 1.0})


def test_status_codes_come_from_the_header():
    codes = _native.status_codes()
    assert codes.PW_OK == 0 and codes.PW_E_NONFINITE < 0
    assert _native.load().pw_strerror(codes.PW_E_NONFINITE) == b"state became NaN or infinite"


# ------------------------------------------------- the worked example: a third model
def test_passive_cell_c_equals_jax_with_noise_coupling_and_the_pulse():
    p = {"noise_sd_uA": 0.5, "coupling_g": 0.2, "drive_g_syn": 0.4, "drive_pulse_ms": 150.0, "drive_phase_rad": 0.3}
    spec = make_spec(p, model="passive", duration_s=2.0, seed=9, float32=False)
    c, j = simulate(p, model="passive", backend="native", duration_s=2.0, seed=9, float32=False), \
        simulate(p, model="passive", backend="jax", duration_s=2.0, seed=9, float32=False)
    assert c.backend == "native" and j.backend == "jax" and c.v_mV.shape == (spec.n_steps // spec.record_every + 1, 96)
    assert float(np.max(np.abs(j.v_mV - c.v_mV))) <= 1e-9 * float(np.max(np.abs(c.v_mV)))
    np.testing.assert_array_equal(j.spike_times_ms, c.spike_times_ms)


def test_passive_cell_against_lsoda():
    p = params.PASSIVE_SPACE.validate({"noise_sd_uA": 0.0, "drive_g_syn": 0.5})
    act = simulate(p, model="passive", duration_s=1.0, dt_ms=0.1, sample_rate_hz=1000.0, float32=False)
    ref = models.get("passive").reference_solve()(p, act.t_ms, muscles=slice(0, 96, 11))["v"]
    err = float(np.sqrt(np.mean((act.v_mV[:, 0:96:11] - ref) ** 2)))
    assert err < 0.05 and np.ptp(ref) > 5.0  # the drive moved V by > 5 mV, the step tracks it


def test_passive_cell_refuses_what_it_cannot_do():
    from pyannow_hpc.errors import ConfigError

    with pytest.raises(ConfigError, match="only the exponential integrator"):
        simulate(None, model="passive", integrator="seed_euler", duration_s=0.1)
    with pytest.raises(ConfigError, match="numpy backend implements only pyannow"):
        simulate(None, model="passive", backend="numpy", duration_s=0.1)


def test_seed_reference_from_the_spec_equals_the_one_typed_in_from_science_md(reference):
    # the spec's reference solve uses the C table's constants; conftest's has them typed in
    t = np.arange(0.0, 60.0, 1.0)
    p = params.PYANNOW_SPACE.validate({"g_egl19": 4.0, "g_exp2": 10.0})
    mine = models.get("pyannow").reference_solve()(p, t, muscles=slice(0, 96, 13))["v"]
    theirs = reference(t, g_egl19=4.0, g_exp2=10.0, muscles=slice(0, 96, 13))
    np.testing.assert_allclose(mine, theirs, atol=1e-6)


def test_c302_mapping_goes_through_the_existing_functions():
    from pyannow_hpc.errors import ConfigError
    from pyannow_hpc.worm.c302_params import c302_overrides

    p = params.BOYLE2008_SPACE.validate({"g_ca_boyle": 1.4})
    assert models.get("boyle2008").c302_overrides(p) == c302_overrides("boyle2008", p)
    assert models.get("boyle2008").c302_overrides(p)["muscle_ca_boyle_cond_density"].startswith("0.0014")
    with pytest.raises(ConfigError, match="no mapping onto c302"):
        models.get("passive").c302_overrides(params.PASSIVE_SPACE.defaults())
