"""Null models on cases with a known answer (pyannow_hpc/music/nulls.py, matching.py)."""
import math

import mir_eval
import numpy as np
import pytest

from pyannow_hpc.music import nulls as N
from pyannow_hpc.music.matching import f1_rows, match_counts
from pyannow_hpc.music.metrics import f1_mireval


@pytest.mark.parametrize("seed", range(4))
def test_batched_matching_equals_mir_eval(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n, m = int(rng.integers(0, 50)), int(rng.integers(1, 50))
        # times on a 10 ms grid put many pairs exactly on the +-50 ms edge
        est = np.sort(np.round(rng.uniform(0, 3, n), 2))
        ref = np.sort(np.round(rng.uniform(0, 3, m), 2))
        expect = len(mir_eval.util.match_events(ref, est, 0.05)) if n else 0
        assert match_counts(est[None], ref, 0.05)[0] == expect
        if n:
            assert f1_rows(est[None], ref, 0.05)[0] == pytest.approx(f1_mireval(est, ref, 0.05)[0], abs=1e-12)


def test_batched_matching_rows_of_different_lengths_and_floods():
    ref = np.array([1.0, 2.0, 3.0])
    rows = np.array([[1.01, 2.2, np.inf], [0.96, 1.04, 3.05]])
    assert match_counts(rows, ref, 0.05, np.array([2, 3])).tolist() == [1, 2]
    flood = np.arange(0.0, 4.0, 0.0005)  # 8000 notes, each target has ~200 within tol
    assert match_counts(flood[None], ref, 0.05)[0] == 3


def test_shift_null_of_a_train_aligned_with_a_periodic_target():
    # target: one note every 1 s; worm: the same notes.  A shift realigns only
    # within +-tol of a whole second, which the shifts (tol, L - tol) mostly avoid
    L, tol = 20.0, 0.05
    target = np.arange(0.0, L, 1.0)
    shifts = N.shift_values_s(L, tol, 500)
    assert shifts.min() > tol and shifts.max() < L - tol and len(shifts) == 500
    null = N.shift_null(target, target, start_s=0.0, stop_s=L, tol_s=tol, n_shifts=500)
    frac_aligned = np.mean(np.abs(shifts - np.round(shifts)) <= tol + 1e-12)  # shifts that still match
    # all notes but the one wrapped across the window's edge (the target does not wrap): F1 >= 19/20
    assert np.mean(null.f1 >= 0.95 - 1e-12) == pytest.approx(frac_aligned, abs=0.005)
    assert np.max(null.f1[np.abs(shifts - np.round(shifts)) > tol + 0.01]) == 0.0
    assert 0.05 < frac_aligned < 0.15  # ~2 tol / 1 s of the shifts (those near 0 excluded)


def test_shift_null_keeps_count_and_excludes_zero():
    rng = np.random.default_rng(0)
    w = np.sort(rng.uniform(0, 10, 40))
    t = np.sort(rng.uniform(0, 10, 60))
    null = N.shift_null(w, t, start_s=0.0, stop_s=10.0)
    assert null.f1.shape == (500,)
    # no shift reproduces the observation exactly (that would need |shift| <= tol)
    with pytest.raises(ValueError):
        N.shift_values_s(0.09, 0.05)


def test_uniform_null_mean_and_sd_uncertainty():
    # uniform onsets against uniform targets: the any-single-target hit rate is
    # known; here just the relation of mean/sd/SE and the count scaling
    t = np.arange(0.0, 10.0, 0.5)
    few = N.uniform_null(5, t, start_s=0.0, stop_s=10.0, n_draws=500, seed=1)
    many = N.uniform_null(20, t, start_s=0.0, stop_s=10.0, n_draws=500, seed=1)
    assert many.mean > few.mean
    # 20 random notes, 20 targets 0.5 s apart, window 0.1 s: p(hit) <= 0.2 per note
    assert 0.1 < many.mean < 0.25
    assert many.sd_se == pytest.approx(many.sd / math.sqrt(2 * 499))


def test_refractory_draws_respect_the_gap_and_cover_the_window():
    rng = np.random.default_rng(3)
    d = N.refractory_draws(30, 0.2, 0.0, 10.0, 400, rng)
    assert d.shape == (400, 30)
    assert np.all(np.diff(d, axis=1) >= 0.2 - 1e-12)
    assert d.min() >= 0.0 and d.max() < 10.0
    # a gap that cannot fit is capped at L / n: 20 notes in 10 s keep >= 0.5 s apart
    m = N.refractory_draws(20, 1.0, 0.0, 10.0, 50, rng)
    assert np.all(np.diff(m, axis=1) >= 0.5 - 1e-12) and m.max() < 10.0
    assert np.diff(m, axis=1).min() < 0.6  # and no more than that
    assert N.min_gap_s([0.0, 0.3, 0.35, 1.0]) == pytest.approx(0.05)


def test_metronome_at_count_finds_a_hidden_metronome():
    # the target IS a 25-click metronome (period 0.37 s, phase 0.11 s); the search finds F1 1
    target = 0.11 + 0.37 * np.arange(25)
    met = N.metronome_at_count(25, target, start_s=0.0, stop_s=10.0, n_periods=400, n_phases=400)
    assert met.f1 == pytest.approx(1.0)
    assert met.period_s == pytest.approx(0.37, abs=0.01)
    assert met.n_clicks == 25


def test_beat_ceiling_chords():
    # a target of 3-note chords on every beat: 3 notes per click matches all of it
    beat = 0.5
    target = np.repeat(np.arange(0.0, 10.0, beat), 3)
    out = N.beat_ceiling(beat, target, start_s=0.0, stop_s=10.0)
    assert out[3].f1 == pytest.approx(1.0)
    assert out[1].f1 == pytest.approx(2 * 20 / (20 + 60))  # one of three chord notes
    assert out[1].f1 < out[2].f1 < out[3].f1
    assert out[4].f1 == pytest.approx(2 * 60 / (80 + 60))


def test_best_metronome_on_a_periodic_target():
    target = np.arange(0.2, 10.0, 0.8)
    best = N.best_metronome(target, start_s=0.0, stop_s=10.0, n_periods=300, n_phases=200)
    assert best.f1 > 0.95


def test_expected_max_z():
    assert N.expected_max_z(1) == 0.0
    assert N.expected_max_z(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-6)  # known closed form
    assert N.expected_max_z(448) == pytest.approx(3.0, abs=0.05)  # SCIENCE.md section 5
    rng = np.random.default_rng(0)
    assert N.expected_max_z(100) == pytest.approx(rng.standard_normal((4000, 100)).max(axis=1).mean(), abs=0.02)


def test_empirical_p_and_z():
    null = N.NullDistribution("x", np.array([0.1, 0.2, 0.3, 0.4]))
    assert N.empirical_p(0.35, null.f1) == pytest.approx(2 / 5)
    assert N.empirical_p(1.0, null.f1) == pytest.approx(1 / 5)
    assert N.z_score(0.4, null, 50, 50) == pytest.approx((0.4 - 0.25) / np.std(null.f1, ddof=1))
    flat = N.NullDistribution("flood", np.full(500, 0.013))
    assert N.z_score(0.0131, flat, 20000, 130) == pytest.approx(0.0001 * 20130, rel=1e-6)  # floored sd
