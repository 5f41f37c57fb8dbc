"""Burn-in (pipeline.evaluate_params): the start-up burst is not scored; 0 is the old pipeline."""
import numpy as np
import pytest

from pyannow_hpc.music import metrics as M
from pyannow_hpc.music.target import load_target
from pyannow_hpc.pipeline import DEFAULT_BURN_IN_S, discard_burn_in, evaluate_params
from pyannow_hpc.worm import DEFAULT_MODEL, default_onset_method, simulate
from pyannow_hpc.worm.onsets import extract_notes

DURATION_S = 6.0
DRIVE_HZ = 1.5  # boyle2008's default body-wave frequency


@pytest.fixture(scope="module")
def target():
    return load_target()


def test_burst_gone_after_default_burn_in(target):
    cold = evaluate_params(None, target=target, duration_s=DURATION_S, burn_in_s=0.0, nulls=False)
    warm = evaluate_params(None, target=target, duration_s=DURATION_S, nulls=False)
    first = lambda notes: int(np.sum(notes.onset_s < 0.1))  # noqa: E731
    # one ordinary cycle's notes: the warm run's mean notes per body-wave cycle
    per_cycle = len(warm.notes) / (DURATION_S * DRIVE_HZ)
    assert first(cold.notes) > 3 * per_cycle  # the burst is real (~22 notes in 0.1 s) ...
    assert first(warm.notes) <= per_cycle  # ... and gone after burn-in
    assert warm.notes.onset_s.min() >= 0 and warm.notes.onset_s.max() < DURATION_S


def test_zero_burn_in_is_the_old_pipeline(target):
    res = evaluate_params(None, target=target, duration_s=DURATION_S, burn_in_s=0.0, seed=3)
    act = simulate(None, model=DEFAULT_MODEL, duration_s=DURATION_S, seed=3)
    notes = extract_notes(act, method=default_onset_method(DEFAULT_MODEL))
    old = M.evaluate(notes, target.window(0.0, DURATION_S), DURATION_S)
    np.testing.assert_array_equal(res.notes.onset_s, notes.onset_s)
    for key, value in old.items():
        assert res.metrics[key] == value, key
    assert np.isfinite(res.metrics["shift_z"]) and res.score.n_worm == len(notes)


def test_burn_in_is_a_later_stretch_of_the_same_run(target):
    b = DEFAULT_BURN_IN_S
    res = evaluate_params(None, target=target, duration_s=DURATION_S, burn_in_s=b, keep_activity=True, nulls=False)
    act = simulate(None, model=DEFAULT_MODEL, duration_s=DURATION_S + b)
    notes = extract_notes(act, method=default_onset_method(DEFAULT_MODEL))
    later = notes.onset_s[(notes.onset_s >= b) & (notes.onset_s < b + DURATION_S)] - b
    np.testing.assert_allclose(res.notes.onset_s, later)
    assert res.activity.t_ms[0] == pytest.approx(0.0) and res.activity.t_ms[-1] <= DURATION_S * 1000 + 1
    assert np.all(res.activity.spike_times_ms >= 0)
    same = discard_burn_in(act, 0.0)
    assert same is act


@pytest.mark.parametrize("section, bad", [("simulation", "burn_in_s = -1.0"), ("output", 'rank_by = "loudness"'),
                                          ("output", "min_notes = -2")])
def test_config_checks_burn_in_and_ranking(section, bad):
    from pyannow_hpc.config import loads_config
    from pyannow_hpc.errors import ConfigError

    params = 'model = "boyle2008"\n[params]\ndrive_g_syn = { range = [0.09, 0.11] }\n'
    with pytest.raises(ConfigError, match=bad.split(" ")[0]):
        loads_config(f"{params}[{section}]\n{bad}\n")
    cfg = loads_config(f"{params}[simulation]\nburn_in_s = 0.0\n")
    assert cfg.simulation.burn_in_s == 0.0 and cfg.output.rank_by == "shift_excess"
