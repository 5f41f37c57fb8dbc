import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.learn.features import (activity_features, beat_phase, fourier_time_features, onset_density,
                                        onset_labels, ode_residual)
from pyannow_hpc.music.notes import NoteSequence

from learn_synthetic import body_wave_activity


def test_frames_are_means_of_the_samples(activity):
    f = activity_features(activity, frame_hz=50.0)
    assert f.n_frames == 300 and f.v_mV.shape == (300, 96)
    # frame 7 covers samples 140..159 (1 kHz, 20 ms frames)
    np.testing.assert_allclose(f.v_mV[7], activity.v_mV[140:160].mean(axis=0), rtol=1e-5)
    assert f.valid.all()
    assert f.drive_freq_hz == 1.5


def test_spike_counts_become_rates(activity):
    f = activity_features(activity, frame_hz=50.0)
    assert f.rate_hz.sum() / 50.0 == pytest.approx(len(activity.spike_times_ms))
    assert f.matrix().shape == (300, 192)  # V and rates when there are spikes


@pytest.mark.parametrize("missing_as", ["nan", "zeros"])
def test_c302_missing_slot_is_flagged_and_never_nan(missing_as):
    # C302 has 95 muscles: slot VL24 (index 47) holds NaN or zeros
    act = body_wave_activity(missing=47, missing_as=missing_as)
    f = activity_features(act)
    assert not f.valid[47] and f.valid.sum() == 95
    X = f.matrix()
    assert np.isfinite(X).all()
    assert np.all(X[:, 47] == 0) and np.all(X[:, 96 + 47] == 0)


def test_coarse_logs_are_interpolated():
    act = body_wave_activity(rate_hz=20.0)  # a sample every 50 ms, frames of 20 ms
    f = activity_features(act, frame_hz=50.0)
    assert np.isfinite(f.v_mV).all()


def test_bad_activity_is_a_config_error(activity):
    with pytest.raises(ConfigError, match="frame_hz"):
        activity_features(activity, frame_hz=0.0)
    bad = body_wave_activity(duration_s=0.001)
    with pytest.raises(ConfigError):
        activity_features(bad)


def test_labels_and_density():
    notes = NoteSequence.from_arrays([0.01, 0.03, 0.5], [60, 61, 62])
    y = onset_labels(notes, 50, 50.0)
    assert y.sum() == 3 and y[0] == 1 and y[1] == 1 and y[25] == 1
    inner = NoteSequence.from_arrays([0.3, 0.5], [60, 61])  # away from the edges, blurring keeps the mass
    d = onset_density(inner, 50, 50.0, sigma_s=0.04)
    assert d.sum() == pytest.approx(2.0, rel=1e-3) and np.argmax(d) in (15, 25)


def test_fourier_and_beat_phase_shapes():
    t = np.arange(100) / 50.0
    F = fourier_time_features(t, 2.0, 12)
    assert F.shape == (100, 25)
    np.testing.assert_allclose(F[:, 1], np.cos(2 * np.pi * t / 2.0))
    b = beat_phase(t, 1.5)
    np.testing.assert_allclose(np.hypot(b[:, 0], b[:, 1]), 1.0)


def test_ode_residual_vanishes_on_a_free_oscillation():
    t = np.arange(2000) / 500.0
    w = 2 * np.pi * 1.5
    z = np.sin(w * t)[:, None]
    r = ode_residual(z, 500.0, 0.0, w)
    assert np.max(np.abs(r[5:-5])) < 1e-3 * w**2
