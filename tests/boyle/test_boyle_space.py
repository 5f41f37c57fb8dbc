"""The boyle2008 parameter space and constants are c302's, read from its installed files."""
from __future__ import annotations

import importlib.resources
import math
import xml.etree.ElementTree as ET

import pytest

from pyannow_hpc.errors import ConfigError, ParameterError
from pyannow_hpc.params import space
from pyannow_hpc.worm import make_spec
from pyannow_hpc.worm.boyle2008 import C302_SETS, GATES, H_ALPHA, H_CA_HALF_MM, H_K_MM

NS = "{http://www.neuroml.org/schema/neuroml2}"


def _mV(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"mV": 1.0, "ms": 1.0, "mM": 1.0}[unit]


def test_gate_kinetics_match_cell_C_xml():
    root = ET.parse(importlib.resources.files("c302") / "cell_C.xml").getroot()
    channels = {c.get("id"): c for c in root.iter(NS + "ionChannel")}
    where = {"e": "ca_boyle", "f": "ca_boyle", "p": "k_fast", "q": "k_fast", "n": "k_slow"}
    for gate, chan in where.items():
        (g,) = [x for x in channels[chan].iter(NS + "gateHHtauInf") if x.get("id") == gate]
        tau = _mV(g.find(NS + "timeCourse").get("tau"))
        ss = g.find(NS + "steadyState")
        assert GATES[gate] == (tau, _mV(ss.get("midpoint")), _mV(ss.get("scale")), int(g.get("instances")))
    (h,) = channels["ca_boyle"].iter(NS + "customHGate")
    assert (H_ALPHA, H_CA_HALF_MM, H_K_MM) == (float(h.get("alpha")), _mV(h.get("ca_half")), _mV(h.get("k")))


@pytest.mark.parametrize("level", ["C1", "C2"])
def test_c302_sets_convert_and_lie_inside_the_bounds(level):
    import importlib

    model = importlib.import_module(f"c302.parameters_{level}").ParameterisedModel()
    get = lambda name: model.get_bioparameter(name).value  # noqa: E731
    muscle = "muscle_" if level == "C2" else ""

    def si(text):  # "0.0007 S_per_cm2" -> 0.7 (mS/cm^2); mV, ms and NeuroML's rho unit unchanged
        value, unit = text.split()
        return float(value) * {"S_per_cm2": 1e3, "mS_per_cm2": 1.0, "mV": 1.0, "ms": 1.0,
                               "mol_per_m_per_A_per_s": 1.0}[unit]

    expect = C302_SETS[level]
    assert math.isclose(si(get("muscle_ca_boyle_cond_density")), expect["g_ca_boyle"])
    assert math.isclose(si(get("muscle_k_slow_cond_density")), expect["g_k_slow"])
    assert math.isclose(si(get("muscle_k_fast_cond_density")), expect["g_k_fast"])
    assert math.isclose(si(get("muscle_leak_cond_density")), expect["g_leak"])
    assert math.isclose(si(get(f"{muscle}ca_boyle_erev")), expect["e_ca_mV"])
    assert math.isclose(si(get(f"{muscle}k_slow_erev")), expect["e_k_mV"])
    assert math.isclose(si(get(f"{muscle}leak_erev")), expect["e_leak_mV"])
    pool = "_muscle" if level == "C2" else ""
    assert math.isclose(si(get(f"ca_conc_decay_time{pool}")), expect["ca_decay_ms"])
    assert math.isclose(si(get(f"ca_conc_rho{pool}")), expect["ca_rho"])
    sp = space("boyle2008")
    for name, value in expect.items():
        assert sp[name].lower <= value <= sp[name].upper, name
    if level == "C1":
        assert {k: sp[k].default for k in expect} == expect


def test_bad_parameters_give_one_line_errors():
    with pytest.raises(ParameterError, match="g_ca_boyle = nan"):
        make_spec({"g_ca_boyle": float("nan")}, model="boyle2008")
    with pytest.raises(ParameterError, match="outside its bounds"):
        make_spec({"ca_decay_ms": 1e6}, model="boyle2008")
    with pytest.raises(ParameterError, match="did you mean 'g_k_slow'"):
        make_spec({"g_kslow": 1.0}, model="boyle2008")
    from pyannow_hpc.worm import simulate

    with pytest.raises(ConfigError, match="only the exponential integrator"):
        simulate(None, model="boyle2008", integrator="seed_euler", duration_s=0.1)
    from pyannow_hpc.worm import boyle2008_jax, boyle2008_native

    for backend in (boyle2008_native, boyle2008_jax):
        for bad, match in (({"integrator": "seed_euler"}, "only the exponential integrator"),
                           ({"record_gates": True}, "not gates"),
                           ({"spike_thresh_mV": float("nan")}, "spike_thresh_mV")):
            with pytest.raises(ConfigError, match=match):
                backend.simulate(make_spec(None, model="boyle2008", duration_s=0.1, **bad))


def test_the_space_has_the_drive_and_gene_names():
    sp = space("boyle2008")
    for name in ("g_ca_boyle", "g_k_slow", "g_k_fast", "g_leak", "ca_decay_ms", "ca_rho", "drive_g_syn",
                 "drive_freq_hz", "noise_sd_uA", "coupling_g"):
        assert name in sp
    assert "EGL-19" in sp["g_ca_boyle"].doc


def test_both_onset_methods_work_with_boyle2008():
    # the sweep's default onset method is "crest", which needs ca_thresh_mV in the parameters
    from pyannow_hpc.worm import simulate
    from pyannow_hpc.worm.onsets import extract_notes

    act = simulate({"drive_g_syn": 0.15}, model="boyle2008", duration_s=2.0)
    crest = extract_notes(act, method="crest")
    spikes = extract_notes(act, method="threshold")
    assert len(spikes) == len(act.spike_times_ms) > len(crest) > 0  # crest: at most 3 per wave cycle
    assert len(crest) <= 3 * 3  # 2 s at 1.5 Hz: 3 cycles
