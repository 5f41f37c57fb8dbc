"""The best-K table carries the chance level next to the one-to-one F1."""
from pyannow_hpc.music.chance import ChanceF1
from pyannow_hpc.report.tables import with_chance


def test_chance_column_sits_after_one_to_one_f1():
    row = {"rank": 1, "F1 (mir_eval one-to-one, ±50 ms)": 0.3, "F1 (seed any-match, ±50 ms)": 0.5}
    out = with_chance(row, ChanceF1(40, 0.2873, 0.01, 0.45, 0.02, 20))
    keys = list(out)
    assert keys[2].startswith("chance F1 (mir_eval one-to-one, ±50 ms") and out[keys[2]] == 0.2873
    assert keys[3] == "F1 (seed any-match, ±50 ms)" and len(out) == 4
