"""The real C302 network (c302 C1 muscles -> jNeuroML -> nrnivmodl -> NEURON), 200 ms runs."""
import os

import numpy as np
import pytest

from pyannow_hpc.errors import SimulationError
from pyannow_hpc.worm import c302_backend, simulate
from pyannow_hpc.worm.c302_io import MISSING_C302_SLOT
from pyannow_hpc.worm.onsets import extract_notes

pytestmark = pytest.mark.c302


def test_default_run_end_to_end(default_run, c302_env):
    act, before, after = default_run
    assert after["compiles"] - before["compiles"] == 1  # fresh cache: compiled once
    assert act.backend == "c302" and act.v_mV.shape == (201, 96)
    np.testing.assert_allclose(np.diff(act.t_ms), 1.0)
    assert np.isnan(act.v_mV[:, MISSING_C302_SLOT]).all()
    others = np.delete(act.v_mV, MISSING_C302_SLOT, axis=1)
    assert np.isfinite(others).all()
    # C1 muscles start at -45 mV and stay between the inhibitory-synapse reversal (-70) and E_Ca (+40)
    np.testing.assert_allclose(others[0], -45.0, atol=0.5)
    assert -70.5 < others.min() and others.max() < 40.0
    assert others.std() > 1.0  # the network actually drives the muscles
    ca = act.traces["ca_mM"]
    assert np.all(np.delete(ca, MISSING_C302_SLOT, axis=1) >= 0)
    # spikes: real threshold crossings, never in the missing slot, each is a crossing of the trace
    assert len(act.spike_times_ms) > 0 and MISSING_C302_SLOT not in set(act.spike_muscle.tolist())
    notes = extract_notes(act, method="threshold", source="v", refractory_ms=act_refractory())
    assert abs(len(notes) - len(act.spike_times_ms)) <= 2  # 20 kHz vs 1 kHz crossing detection
    # the task directory is gone
    assert os.listdir(c302_env["tasks"]) == []


def act_refractory():
    from pyannow_hpc.worm.activity import SimulationSpec

    return SimulationSpec(params={}).refractory_ms


def test_conductance_change_reuses_compiled_mechanisms_and_network(default_run, c302_env, monkeypatch):
    act0 = default_run[0]
    mech = c302_env["cache"] / "nrnmech"
    entries = sorted(p for p in mech.iterdir() if p.is_dir())
    libs = {p: p.stat().st_mtime_ns for p in mech.rglob("libnrnmech*")}
    assert len(entries) == 1 and libs
    before = dict(c302_backend.STATS)
    params = {"g_egl19": 20.0, "g_exp2": 2.0}
    act = simulate(params, backend="c302", model="pyannow", duration_s=0.2, dt_ms=0.05)
    assert c302_backend.STATS["compiles"] == before["compiles"]  # nrnivmodl not called
    assert c302_backend.STATS["reuses"] == before["reuses"] + 1
    assert c302_backend.STATS["conversions"] == before["conversions"]  # c302 + jNeuroML not run either
    assert sorted(p for p in mech.iterdir() if p.is_dir()) == entries
    assert {p: p.stat().st_mtime_ns for p in mech.rglob("libnrnmech*")} == libs
    # more Ca, less K: the muscles depolarise further
    assert np.nanmax(np.abs(act.v_mV - act0.v_mV)) > 1.0
    assert np.nanmean(act.v_mV[-50:]) > np.nanmean(act0.v_mV[-50:])
    # the patched template is the network c302 + jNeuroML generate for these parameters
    monkeypatch.setenv("PYANNOW_C302_FAST", "0")
    full = simulate(params, backend="c302", model="pyannow", duration_s=0.2, dt_ms=0.05)
    assert c302_backend.STATS["conversions"] == before["conversions"] + 1
    np.testing.assert_allclose(act.v_mV, full.v_mV, atol=1e-3, equal_nan=True)  # jNeuroML prints float32 gmax
    np.testing.assert_array_equal(act.spike_muscle, full.spike_muscle)


def test_timeout_kills_and_cleans_up(c302_env, monkeypatch):
    monkeypatch.setenv("PYANNOW_C302_TIMEOUT_S", "1.5")
    with pytest.raises(SimulationError, match="limit"):
        simulate(None, backend="c302", model="pyannow", duration_s=0.2, dt_ms=0.05)
    assert os.listdir(c302_env["tasks"]) == []


@pytest.mark.slow
def test_calcium_decay_change_recompiles_once(default_run, c302_env):
    """boyle2008's ca_decay_ms -> c302 ca_conc_decay_time lives in CaPool.mod: a new
    mechanism set is compiled (and then reused), and the calcium transients change."""
    act0 = default_run[0]
    mech = c302_env["cache"] / "nrnmech"
    n0 = len([p for p in mech.iterdir() if p.is_dir()])
    before = dict(c302_backend.STATS)
    act = simulate({"ca_decay_ms": 40.0}, backend="c302", model="boyle2008", duration_s=0.2, dt_ms=0.05)
    assert c302_backend.STATS["compiles"] == before["compiles"] + 1
    assert len([p for p in mech.iterdir() if p.is_dir()]) == n0 + 1
    # the boyle2008 defaults are C1's muscle: only the slower Ca pool differs from the default run
    ca0, ca = act0.traces["ca_mM"], act.traces["ca_mM"]
    assert np.nanmax(ca) > 1.2 * np.nanmax(ca0)
    simulate({"ca_decay_ms": 40.0, "g_ca_boyle": 1.0}, backend="c302", model="boyle2008", duration_s=0.2, dt_ms=0.05)
    assert c302_backend.STATS["compiles"] == before["compiles"] + 1  # same .mod set: reused


def test_objective_scores_a_parameter_dict_on_c302(default_run, c302_env):
    """The optimiser's C302 objective: the same number as the sweep's pipeline, parameters
    that reach the network change it, and what C302 cannot apply is refused."""
    from pyannow_hpc.errors import ConfigError
    from pyannow_hpc.music.target import load_target
    from pyannow_hpc.pipeline import evaluate_params
    from pyannow_hpc.worm.c302_objective import C302Objective

    target = load_target(None)
    f = C302Objective(target, model="boyle2008", duration_s=0.2)  # the default run's template
    res = f.evaluate({"g_ca_boyle": 1.4})
    ref = evaluate_params({"g_ca_boyle": 1.4}, target=target, backend="c302", model="boyle2008", duration_s=0.2,
                          dt_ms=0.05, onset_method="threshold", burn_in_s=0.0)
    assert res.metrics["onset_loss"] == ref.metrics["onset_loss"] and res.metrics["wall_s"] > 0
    assert len(res.notes) > 0  # the window holds C302's early burst: a change below is a real one
    assert np.array_equal(res.notes.onset_s, ref.notes.onset_s)
    assert f({"g_ca_boyle": 0.35}) != res.metrics["onset_loss"]
    with pytest.raises(ConfigError, match="cannot apply drive_freq_hz"):
        f({"drive_freq_hz": 2.0})
    assert os.listdir(c302_env["tasks"]) == []
