"""Onset detectors on synthetic muscle activity (hand-placed crests and spikes)."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.worm.activity import MuscleActivity
from pyannow_hpc.worm.onsets import extract_notes, velocity_from_peak


def make_activity(v, dt_ms=0.5, params=None, spikes=None, t0_ms=0.0):
    v = np.asarray(v, dtype=np.float32)
    t = t0_ms + np.arange(v.shape[0]) * dt_ms
    st, sm = spikes if spikes is not None else (np.zeros(0), np.zeros(0, dtype=int))
    p = {"drive_freq_hz": 1.5, "ca_thresh_mV": -10.0}
    p.update(params or {})
    return MuscleActivity(t, v, np.asarray(st, float), np.asarray(sm, int), backend="test", model="pyannow", params=p)


def test_velocity_rule_matches_seed_formula():
    # (peak - thresh)/65*50: 55 mV above -> 42.3 -> 42; below -> 1; huge -> 127
    assert velocity_from_peak([45.0, -10.0, 500.0], -10.0).tolist() == [42, 1, 127]


def test_crest_gated_picks_three_muscles_per_cycle_at_their_maxima(rng):
    dt, f = 0.5, 1.5
    cycle = round(1000 / (f * dt))
    assert cycle == 1333  # the seed's cycle at 1.5 Hz, 0.5 ms
    n_cycles = 7
    n = n_cycles * cycle + 500  # a partial last cycle, which must be ignored
    v = rng.uniform(-60, -40, size=(n, 96))
    expected = []
    for c in range(n_cycles + 1):
        for k in range(3):
            m = (3 * c + k) % 96
            at = rng.integers(0, cycle - 10) if c < n_cycles else 100
            if c * cycle + at >= n:
                continue
            peak = rng.uniform(0, 70)
            v[c * cycle + at, m] = peak
            if c < n_cycles:
                expected.append(((c * cycle + at) * dt / 1000, 24 + m, peak))
    # a larger value in a muscle that is NOT gated in cycle 0 must be ignored
    v[50, 40] = 79.0
    notes = extract_notes(make_activity(v, dt), method="crest")
    expected.sort()
    assert len(notes) == 3 * n_cycles
    np.testing.assert_allclose(notes.onset_s, [e[0] for e in expected])
    assert sorted(zip(notes.onset_s, notes.pitch)) == [(e[0], e[1]) for e in expected]
    exp_vel = velocity_from_peak(np.float32([e[2] for e in expected]), -10.0)
    got = dict(zip(zip(notes.onset_s, notes.pitch), notes.velocity))
    assert [got[(e[0], e[1])] for e in expected] == exp_vel.tolist()
    # V drops back below threshold one sample after each crest
    np.testing.assert_allclose(notes.duration_s, dt / 1000)


def test_crest_drops_peaks_below_threshold():
    dt = 1.0
    cycle = round(1000 / 1.5)  # 667 samples at 1 kHz
    v = np.full((2 * cycle, 96), -50.0)
    v[10, 0] = -5.0  # above -10: kept
    v[20, 1] = -15.0  # below -10: dropped
    v[30, 2] = -10.0  # exactly at threshold: kept (dropped only if < thresh)
    v[cycle + 5, 3] = 20.0
    notes = extract_notes(make_activity(v, dt), method="crest")
    assert notes.pitch.tolist() == [24, 26, 27]
    np.testing.assert_allclose(notes.onset_s, [0.010, 0.030, (cycle + 5) / 1000])
    # a stricter threshold drops the -5 and -10 mV crests too
    strict = extract_notes(make_activity(v, dt), method="crest", thresh_mV=0.0)
    assert strict.pitch.tolist() == [27]


def test_crest_duration_is_time_above_threshold_capped_at_cycle_end():
    dt = 1.0
    cycle = 667
    v = np.full((2 * cycle, 96), -50.0)
    v[100:160, 0] = 0.0  # above -10 for 60 samples; first max at 100
    v[cycle - 5 :, 1] = 30.0  # stays high into the next cycle: capped at 5
    notes = extract_notes(make_activity(v, dt), method="crest")
    assert notes.pitch.tolist() == [24, 25]
    np.testing.assert_allclose(notes.duration_s, [0.060, 0.005])


def test_crest_seed_rate_on_period_two_oscillation():
    # The seed's unstable Euler: V flips between +80 and -80 every step.  The
    # gate still emits exactly 3 notes per complete cycle: 102 cycles in the
    # 68.6 s mazurka -> 306 notes = 4.46 notes/s (SCIENCE.md section 1).
    dt = 1.0
    n = 68_600
    flip = np.where(np.arange(n) % 2 == 0, 80.0, -80.0).astype(np.float32)
    v = np.repeat(flip[:, None], 96, axis=1)
    notes = extract_notes(make_activity(v, dt), method="crest")
    assert len(notes) == 306
    assert notes.rate_hz(68.6) == pytest.approx(4.46, abs=0.005)
    assert set(np.unique(notes.velocity)) == {int(round(90 / 65 * 50))}
    ungated = extract_notes(make_activity(v, dt), method="crest", gated=False)
    assert len(ungated) == 102 * 96  # every muscle once per cycle
    assert len(np.unique(ungated.onset_s)) == 102  # all at the same instant


def test_crest_uses_drive_frequency_from_params():
    dt = 1.0
    v = np.full((4000, 96), -50.0)
    v[::50] = 0.0  # crests everywhere
    slow = extract_notes(make_activity(v, dt, params={"drive_freq_hz": 0.5}), method="crest")
    fast = extract_notes(make_activity(v, dt, params={"drive_freq_hz": 2.0}), method="crest")
    assert len(slow) == 3 * 2  # 2000-sample cycles
    assert len(fast) == 3 * 8  # 500-sample cycles
    assert fast.pitch[:6].tolist() == [24, 25, 26, 27, 28, 29]


def test_crest_needs_frequency_and_valid_method():
    act = make_activity(np.zeros((100, 96)))
    bare = MuscleActivity(act.t_ms, act.v_mV, act.spike_times_ms, act.spike_muscle, "c302", "c302", params={})
    with pytest.raises(ConfigError, match="drive_freq_hz"):
        extract_notes(bare, method="crest")
    with pytest.raises(ConfigError, match="unknown onset method"):
        extract_notes(act, method="peaks")
    assert len(extract_notes(act, method="crest")) == 0  # shorter than one cycle
    with pytest.raises(ConfigError, match="unknown option.*refractory_ms"):
        extract_notes(act, method="crest", refractory_ms=20)


def test_threshold_on_spike_trains_applies_refractory_per_muscle():
    dt = 1.0
    v = np.full((1000, 96), -50.0)
    # muscle 5: spikes at 100, 120 (inside 50 ms: dropped), 160, 170 (dropped), 300
    # muscle 7: spikes at 120 (another muscle: unaffected by muscle 5's train)
    st = np.array([100.0, 120.0, 120.0, 160.0, 170.0, 300.0])
    sm = np.array([5, 5, 7, 5, 5, 5])
    for t, m, peak in [(100, 5, 30.0), (160, 5, 55.0), (300, 5, -9.0), (120, 7, 3.0)]:
        v[t : t + 20, m] = -5.0
        v[t + 3, m] = peak
    notes = extract_notes(make_activity(v, dt, spikes=(st, sm)), method="threshold")
    assert notes.onset_s.tolist() == [0.100, 0.120, 0.160, 0.300]
    assert notes.pitch.tolist() == [29, 31, 29, 29]
    assert notes.velocity.tolist() == velocity_from_peak([30.0, 3.0, 55.0, -5.0], -10.0).tolist()
    np.testing.assert_allclose(notes.duration_s, 0.020)  # 20 samples above -10 mV
    no_refr = extract_notes(make_activity(v, dt, spikes=(st, sm)), method="threshold", refractory_ms=0)
    assert len(no_refr) == 6


def test_threshold_on_v_traces_finds_crossings():
    dt = 0.5
    t = np.arange(8000) * dt
    v = np.full((8000, 96), -60.0)
    # muscle 0: a 2 Hz sine between -50 and +30 mV crosses -10 upward where sin = 0
    v[:, 0] = -10.0 + 40.0 * np.sin(2 * np.pi * 2.0 * (t - 10.0) / 1000.0)
    notes = extract_notes(make_activity(v, dt), method="threshold", source="v")
    # upward crossings at 10 ms + k * 500 ms, k = 0..7 (the trace starts below -10 mV)
    # (the first sample at or above -10 mV: 10 ms + k * 500 ms lie on the 0.5 ms grid)
    np.testing.assert_allclose(notes.onset_s, 0.010 + 0.5 * np.arange(8), atol=1e-9)
    assert set(notes.pitch.tolist()) == {24}
    # peak within 50 ms of the crossing: -10 + 40 sin(2 pi 2 Hz * 50 ms) = 13.5 mV
    # -> velocity round(23.5 / 65 * 50) = 18
    assert notes.velocity.tolist() == [18] * 8
    # V stays above -10 for half a period (250 ms)
    np.testing.assert_allclose(notes.duration_s, 0.250, atol=0.001)
    capped = extract_notes(make_activity(v, dt), method="threshold", source="v", max_note_ms=100)
    np.testing.assert_allclose(capped.duration_s, 0.100)


def test_threshold_handles_no_spikes_and_bad_source():
    act = make_activity(np.full((100, 96), -50.0), 1.0)
    assert len(extract_notes(act, method="threshold")) == 0
    assert len(extract_notes(act, method="threshold", source="v")) == 0
    with pytest.raises(ConfigError, match="source"):
        extract_notes(act, method="threshold", source="ca")


def test_time_above_strategies_agree(rng):
    # the window gather (few notes) and the sorted-key search (many notes) are exact twins
    from pyannow_hpc.worm.onsets import _first_below_gather, _first_below_search, _time_above

    v = np.where(rng.random((3000, 96)) < 0.02, -50.0, 0.0).astype(np.float32)  # mostly above -10
    v[2500:, 7] = 5.0  # muscle 7 never drops again after sample 2500
    start = rng.integers(0, 3000, 400)
    start[:3] = [2600, 2999, 0]
    muscle = rng.integers(0, 96, 400)
    muscle[:2] = 7
    wide = 3000
    gather = np.minimum(_first_below_gather(v, start, muscle, wide, -10.0), 3000 - start)
    search = _first_below_search(v, start, muscle, -10.0)
    np.testing.assert_array_equal(gather, search)
    assert search[0] == 400 and search[1] == 1  # to the end of the trace
    # the public helper caps at n_max and floors at one sample
    capped = _time_above(v, start, muscle, np.full(400, 5), -10.0)
    np.testing.assert_array_equal(capped, np.clip(search, 1, 5))


def test_missing_muscle_slot_filled_with_nan_stays_silent():
    # C302 has no MVL24: its slot (VL24 = 47) is NaN in the activity
    dt = 1.0
    v = np.full((2 * 667, 96), -50.0)
    v[100:150, :] = 20.0  # every muscle crests at 100 ms, in both cycles' worth of slots
    v[667 + 100 : 667 + 150, :] = 20.0
    v[:, 47] = np.nan
    act = make_activity(v, dt, params={"drive_freq_hz": 1.5})
    ungated = extract_notes(act, method="crest", gated=False)
    assert len(ungated) == 2 * 95 and 24 + 47 not in ungated.pitch
    crossings = extract_notes(act, method="threshold", source="v")
    assert len(crossings) == 2 * 95 and 24 + 47 not in crossings.pitch
    assert np.all(np.isfinite(crossings.duration_s)) and crossings.velocity.min() >= 1
