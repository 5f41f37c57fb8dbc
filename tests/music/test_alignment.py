"""score_with_nulls and the ranking score (pyannow_hpc/music/alignment.py)."""
import math

import numpy as np
import pytest

from pyannow_hpc.music.alignment import MIN_NOTES, rank_score, score_with_nulls, z_distribution_summary
from pyannow_hpc.music.target import load_target

WINDOW_S = 10.0


@pytest.fixture(scope="module")
def mazurka():
    return load_target()


def test_target_beat_is_the_mazurkas_quarter(mazurka):
    assert mazurka.beat_s == pytest.approx(60.0 / 189.0)  # quarter = 189, 3/4
    w = mazurka.window(10.0, 20.0)
    assert w.beat_s == mazurka.beat_s and w.beat_origin_s == pytest.approx((-10.0) % mazurka.beat_s)


def _score(onsets, target, **kw):
    kw.setdefault("n_uniform", 100)
    return score_with_nulls(onsets, target.onset_s, start_s=0.0, stop_s=WINDOW_S, beat_s=target.beat_s, **kw)


def test_score_fields_and_labels(mazurka):
    rng = np.random.default_rng(0)
    s = _score(np.sort(rng.uniform(0, WINDOW_S, 80)), mazurka)
    assert s.n_worm == 80 and s.n_target == int(np.sum(mazurka.onset_s < WINDOW_S))
    assert abs(s.shift_z) < 3 and 0 < s.shift_p <= 1
    assert s.uniform_mean == pytest.approx(s.f1, abs=4 * s.uniform_sd)  # a uniform train is chance
    assert s.metronome_f1 > s.uniform_mean  # evenly spaced beats random at the same count
    assert s.beat_ceiling_f1 > s.metronome_f1
    d = s.as_dict()
    for key in ("f1", "f1_any", "shift_z", "shift_p", "uniform_mean", "uniform_sd_se", "refractory_mean",
                "metronome_f1", "beat_ceiling_f1", "beat_ceiling_f1_4_per_click", "rank_score"):
        assert isinstance(d[key], (int, float)), key
    assert "shift" in s.summary() and "uniform chance" in s.summary() and "beat ceiling" in s.summary()
    no_beat = score_with_nulls(np.arange(1.0, 9.0, 0.5), mazurka.onset_s, start_s=0.0, stop_s=WINDOW_S)
    assert no_beat.beat_ceiling_f1 is None and math.isnan(no_beat.as_dict()["beat_ceiling_f1"])


def test_worm_aligned_with_the_score_beats_its_shifts(mazurka):
    # a worm that plays exactly the target's onsets of the window beats every
    # shift (p at its floor 1/501); its z is only ~3 because the mazurka sits
    # on a beat grid, so shifts by whole beats realign much of it
    target = mazurka.window(0.0, WINDOW_S)
    s = _score(target.onset_s, mazurka)
    assert s.f1 == 1.0 and s.shift_p == pytest.approx(1 / 501) and s.shift_z > 2.5


def test_silence_flood_and_uniform_rank_below_a_beat_metronome(mazurka):
    beat = mazurka.beat_s
    metronome = np.repeat(np.arange(0.0, WINDOW_S, beat), 2)  # 2 notes on every beat of the score's grid
    flood = np.arange(0.0, WINDOW_S, 0.0005)  # a note on every 0.5 ms step
    rng = np.random.default_rng(7)
    met = _score(metronome, mazurka)
    ranks = {
        "silence": _score(np.array([]), mazurka),
        "flood": _score(flood, mazurka),
        **{f"uniform{i}": _score(np.sort(rng.uniform(0, WINDOW_S, len(metronome))), mazurka) for i in range(6)},
    }
    assert ranks["silence"].rank_score == -math.inf
    for name, s in ranks.items():
        assert s.rank_score < met.rank_score, name
    # and with the z ranking the flood and silence still lose (z ~ 0 / below the minimum)
    assert rank_score(ranks["flood"], rank_by="shift_z") < rank_score(met, rank_by="shift_z")
    assert rank_score(ranks["silence"], MIN_NOTES, "shift_z") == -math.inf


def test_z_distribution_summary():
    z = np.random.default_rng(0).standard_normal(448)
    out = z_distribution_summary(np.append(z, -np.inf))
    assert out["n"] == 448 and out["expected_max_null"] == pytest.approx(3.0, abs=0.05)
    assert out["min"] <= out["median"] <= out["max"]
