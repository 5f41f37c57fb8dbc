"""The boyle2008 surrogate against NEURON running c302's own C1 muscle cell
(c302_IClampMuscle, jNeuroML -> NEURON): V and [Ca] traces, spike times."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.worm import neuron_reference as nr

pytestmark = pytest.mark.c302


@pytest.fixture(scope="module")
def neuron_runs(tmp_path_factory):
    # the compiled-mechanism cache goes to this test's tmp dir, never to ~/.cache
    mp = pytest.MonkeyPatch()
    mp.setenv("PYANNOW_C302_CACHE", str(tmp_path_factory.mktemp("nrnmech")))
    try:
        yield {amp: nr.run_neuron(amp) for amp in (4.0, 6.0)}
    finally:
        mp.undo()


def _cmp(neuron_runs, amp, dt):
    return nr.compare(neuron_runs[amp], nr.run_surrogate(amp, dt_ms=dt), level="C1", amp_pA=amp, dt_ms=dt)


# Measured (2026-12, this test's runs): amp pA, dt ms -> RMS V (mV), RMS [Ca] (relative), max spike shift (ms)
#   4, 0.05 -> 0.111, 0.0016, 0.05     4, 0.5 -> 0.738, 0.0130, 0.70
#   6, 0.05 -> 1.898, 0.0265, 1.80     6, 0.5 -> 10.04, 0.174, 12.55
# The bounds sit ~30 % above those numbers (not 2-5x): a change that moves the
# surrogate's agreement with NEURON by more than that fails here.  The
# production dt is 0.5 ms; README/docs quote both dts.


def test_single_spike_then_plateau_matches_neuron(neuron_runs):
    # 4 pA: one spike, then a plateau near -23 mV (c302's C1 muscle goes into depolarisation block)
    c = _cmp(neuron_runs, 4.0, 0.05)
    assert len(c.neuron_spikes_ms) == len(c.surrogate_spikes_ms) == 1
    assert c.max_spike_shift_ms < 0.15
    assert c.rms_v_mV < 0.15 and c.rms_ca_rel < 0.0025
    assert abs(neuron_runs[4.0].v_mV[int(800 / 0.05)] - (-23.2)) < 0.5
    coarse = _cmp(neuron_runs, 4.0, 0.5)  # the production dt
    assert len(coarse.surrogate_spikes_ms) == 1
    assert coarse.max_spike_shift_ms < 1.0 and coarse.rms_v_mV < 1.0 and coarse.rms_ca_rel < 0.018
    assert coarse.rms_v_mV > 3 * c.rms_v_mV  # the coarse step really is the less accurate one


def test_repetitive_spiking_matches_neuron_at_fine_and_production_dt(neuron_runs):
    fine, coarse = _cmp(neuron_runs, 6.0, 0.05), _cmp(neuron_runs, 6.0, 0.5)
    assert len(fine.neuron_spikes_ms) == 7  # ~9 Hz train for the 800 ms step
    assert len(fine.surrogate_spikes_ms) == len(coarse.surrogate_spikes_ms) == 7
    assert fine.max_spike_shift_ms < 2.4 and fine.rms_v_mV < 2.5 and fine.rms_ca_rel < 0.035
    # dt 0.5 ms: ~1.7 % longer inter-spike intervals, the last spike 12.6 ms late
    assert coarse.max_spike_shift_ms < 16.5 and coarse.rms_v_mV < 13.0 and coarse.rms_ca_rel < 0.23
    assert coarse.rms_v_mV > 3 * fine.rms_v_mV


def test_surrogate_is_closer_to_the_exact_solution_than_neuron(neuron_runs):
    # NEURON's fixed-step implicit Euler (dt 0.05 ms) drifts too: against a tight
    # LSODA solve the surrogate's spike times are closer than NEURON's
    from pyannow_hpc.params import space
    from pyannow_hpc.worm.boyle2008 import C302_SETS, CurrentStep
    from pyannow_hpc.worm.boyle2008_reference import solve
    from pyannow_hpc.worm.spikes import detect_spikes

    params = space("boyle2008").validate({**C302_SETS["C1"], "drive_g_syn": 0.0, "noise_sd_uA": 0.0})
    t = np.arange(0.0, 1000.0 + 1e-9, 0.025)
    exact = solve(params, t, step=CurrentStep.from_pA(6.0, 100.0, 900.0, nr.AREA_UM2))
    exact_spikes, _ = detect_spikes(exact["v"], 0.025, -10.0, 50.0)
    sur = nr.run_surrogate(6.0, dt_ms=0.05).spike_times_ms
    neu = neuron_runs[6.0].spike_times_ms
    assert len(exact_spikes) == len(sur) == len(neu) == 7
    assert np.max(np.abs(sur - exact_spikes)) < 0.5 * np.max(np.abs(neu - exact_spikes))
