import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.learn.decode import calibrate_threshold, decode_onsets, frames_to_s
from pyannow_hpc.learn.splits import in_sample, time_block_split


def test_refractory_keeps_the_stronger_peak():
    s = np.zeros(200)
    s[[10, 20, 50, 120]] = [0.6, 0.9, 0.7, 0.3]
    # 0.28 s at 50 Hz = 14 frames: 10 and 20 collide, 20 wins; 120 is under threshold
    assert decode_onsets(s, 50.0, 0.5).tolist() == [20, 50]
    assert decode_onsets(s, 50.0, 0.5, refractory_s=0.01).tolist() == [10, 20, 50]


def test_calibrated_threshold_separates_signal_from_noise():
    rng = np.random.default_rng(0)
    s = rng.uniform(0.0, 0.3, 1000)
    onsets = np.arange(25, 1000, 40)
    s[onsets] = rng.uniform(0.6, 1.0, len(onsets))
    thr = calibrate_threshold(s, frames_to_s(onsets, 50.0), 50.0)
    assert 0.3 <= thr <= 0.6
    assert decode_onsets(s, 50.0, thr).tolist() == onsets.tolist()


def test_time_block_split_holds_out_the_last_blocks():
    sp = time_block_split(1000, n_blocks=10, heldout_frac=0.3)
    assert sp.split_frame == 700 and sp.train[:700].all() and not sp.train[700:].any()
    assert (sp.train ^ sp.test).all()
    assert in_sample(10).train.all() and in_sample(10).test.all()
    with pytest.raises(ConfigError):
        time_block_split(5, n_blocks=10)
    with pytest.raises(ConfigError):
        time_block_split(100, heldout_frac=1.0)
