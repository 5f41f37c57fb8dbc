"""The exponential (Rush-Larsen, Gauss-Seidel) step against a tight LSODA solve
of the same equations: errors shrink with dt and no spike is lost at dt 0.5 ms."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.params import space
from pyannow_hpc.worm import boyle2008_native, make_spec
from pyannow_hpc.worm.boyle2008_reference import solve
from pyannow_hpc.worm.spikes import detect_spikes

T_MS = 2000.0


@pytest.fixture(scope="module")
def reference():
    # muscle 0 (DL01) has drive phase 0: the reference cell is that muscle
    params = space("boyle2008").validate({"drive_g_syn": 0.15, "noise_sd_uA": 0.0})
    t = np.arange(0.0, T_MS + 1e-9, 0.5)
    ref = solve(params, t)
    spikes, _ = detect_spikes(ref["v"], 0.5, -10.0, 50.0)
    return params, ref, spikes


def _run(params, dt):
    spec = make_spec(params, model="boyle2008", duration_s=T_MS / 1000, dt_ms=dt, sample_rate_hz=2000.0,
                     float32=False, record_traces=True)
    return boyle2008_native.simulate(spec)


def test_error_shrinks_with_dt_and_spikes_are_kept(reference):
    params, ref, ref_spikes = reference
    assert len(ref_spikes) >= 4  # the drive makes this cell spike (2 per wave cycle)
    rms = {}
    for dt in (0.5, 0.25, 0.1, 0.05):
        act = _run(params, dt)
        v = act.v_mV[:, 0]
        rms[dt] = float(np.sqrt(np.mean((v - ref["v"]) ** 2)))
        spikes = act.spike_times_ms[act.spike_muscle == 0]
        assert len(spikes) == len(ref_spikes), f"dt={dt}: {spikes} vs reference {ref_spikes}"
        # well inside the +-50 ms onset tolerance of the music metrics, even at dt 0.5
        assert np.max(np.abs(spikes - ref_spikes)) < {0.5: 15.0, 0.25: 4.0, 0.1: 1.0, 0.05: 0.5}[dt]
    assert rms[0.5] > rms[0.25] > rms[0.1] > rms[0.05]
    assert rms[0.1] / rms[0.05] > 2.0  # at least first order
    assert rms[0.05] < 0.1  # mV


def test_calcium_follows_the_reference(reference):
    params, ref, _ = reference
    ca = _run(params, 0.05).traces["ca_mM"][:, 0]
    assert ref["ca_mM"].max() > 1e-8  # spikes load the pool (c302's units: ~1e-7 mM)
    assert np.sqrt(np.mean((ca - ref["ca_mM"]) ** 2)) < 0.01 * ref["ca_mM"].max()
