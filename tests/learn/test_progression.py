import csv

import numpy as np
import pytest
import soundfile as sf
from learn_synthetic import body_wave_activity, rhythm_target

from pyannow_hpc.cli import main
from pyannow_hpc.errors import ConfigError
from pyannow_hpc.learn.progression import F1_M, F1_S, ProgressionConfig, run_progression, table_rows, write_outputs


def test_progression_table_on_c302_shaped_activity(tmp_path):
    # 95 muscles in 96 slots, as C302 delivers them
    act = body_wave_activity(duration_s=12.0, missing=47)
    tgt = rhythm_target(duration_s=10.0)
    cfg = ProgressionConfig(window_s=6.0, quick=True, steps=("0", "1a", "2", "3", "7", "0-full"))
    res = run_progression(tgt, cfg, activity=act, progress=False)
    rows = table_rows(res)
    assert [r["step"] for r in rows] == ["0", "1a", "2", "3", "7", "0-full"]
    for r in rows:
        for col in (f"{F1_M} in-sample", f"{F1_S} in-sample", f"{F1_M} held-out", f"{F1_S} held-out"):
            assert 0.0 <= r[col] <= 1.0
        # any-match never scores below one-to-one on the same notes
        assert r[f"{F1_S} in-sample"] >= r[f"{F1_M} in-sample"] - 1e-12
    assert F1_M == "F1 (mir_eval one-to-one, ±50 ms)" and F1_S == "F1 (seed any-match, ±50 ms)"
    for r in rows:  # every F1 beside its nulls at the row's own note count
        assert "beats step-0 baseline held-out? (mir_eval F1)" not in r
        n = r["worm notes held-out"]
        if n > 0:
            assert np.isfinite(r["z vs own shifts held-out"]) and 0 < r["p (shift null) held-out"] <= 1
            assert 0 <= r["uniform chance F1 held-out (same count)"] <= r["best metronome F1 held-out (same count)"] + 0.2
    # the forest sees the worm's wave phase and a rhythm: it must find onsets in-sample
    assert rows[4][f"{F1_M} in-sample"] > 0.2
    files = write_outputs(res, tgt, tmp_path)
    with open(files["csv"]) as fh:
        assert len(list(csv.DictReader(fh))) == 6
    assert "held-out" in files["md"].read_text()
    assert "worm_wav" not in files  # no step 10, no WAVs


@pytest.mark.slow
def test_step10_writes_full_length_wavs_and_a_pianoroll(tmp_path):
    act = body_wave_activity(duration_s=12.0)
    tgt = rhythm_target(duration_s=10.0)
    res = run_progression(tgt, ProgressionConfig(window_s=6.0, quick=True, steps=("0-full", "10")), activity=act,
                          progress=False)
    files = write_outputs(res, tgt, tmp_path)
    worm, fs_w = sf.read(files["worm_wav"])
    target, fs_t = sf.read(files["target_wav"])
    full = res.duration_full_s
    assert fs_w == fs_t == 22050 and len(worm) >= full * fs_w - 1 and len(target) >= full * fs_t - 1
    assert np.abs(worm).max() > 0 and files["pianoroll"].stat().st_size > 1000


def test_normalisations_are_fitted_on_training_frames_only():
    from pyannow_hpc.learn.features import activity_features
    from pyannow_hpc.learn.svd import latent_speed

    feats = activity_features(body_wave_activity(duration_s=4.0))
    train = np.arange(feats.n_frames) < feats.n_frames * 0.7
    X = feats.fitted_on(train).matrix()
    live = X[train].std(axis=0) > 0
    np.testing.assert_allclose(X[train][:, live].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(X[train][:, live].std(axis=0), 1.0, atol=1e-9)
    # changing the held-out frames changes nothing about the training rows (no leakage)
    v2 = feats.v_mV.copy()
    v2[~train] += 37.0
    import dataclasses

    X2 = dataclasses.replace(feats, v_mV=v2).fitted_on(train).matrix()
    np.testing.assert_array_equal(X2[train], X[train])
    assert not np.allclose(feats.matrix()[train], X[train])  # all-frame normalisation differs
    Z = np.random.default_rng(0).standard_normal((len(train), 3))
    Z[~train] *= 50.0
    assert not np.allclose(latent_speed(Z, train)[train], latent_speed(Z)[train])
    Z2 = Z.copy()
    Z2[~train] *= 3.0
    np.testing.assert_array_equal(latent_speed(Z2, train)[train][1:], latent_speed(Z, train)[train][1:])


def test_bad_progression_config_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown step"):
        ProgressionConfig(steps=("11",))
    with pytest.raises(ConfigError, match="window_s"):
        ProgressionConfig(window_s=float("nan"))
    with pytest.raises(ConfigError, match="heldout_frac"):
        ProgressionConfig(heldout_frac=1.5)


def test_cli_progression_on_the_real_worm_and_embedded_mazurka(tmp_path, capsys):
    rc = main(["progression", "--out", str(tmp_path), "--steps", "0,1a,3", "--window-s", "8", "--quick", "--no-progress"])
    assert rc == 0
    md = (tmp_path / "progression.md").read_text()
    assert "chopin/mazurka06-2" in md and F1_M in md and F1_S in md
    assert "worm (native/" in md  # the baseline really came from the worm backend
    # the default cell's baseline uses that cell's own (spike threshold) detector
    assert "worm (native/boyle2008, threshold)" in md


def test_cli_progression_bad_inputs_give_one_line_errors(tmp_path, capsys):
    assert main(["progression", "--out", str(tmp_path), "--steps", "0,42"]) == 2
    assert "unknown step" in capsys.readouterr().err
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file")
    assert main(["progression", "--out", str(tmp_path), "--target", str(bad), "--steps", "0"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("pyannow-hpc: error:") and len(err.strip().splitlines()) == 1
    assert main(["progression", "--out", str(tmp_path), "-p", "g_egl19=nan"]) == 2


def test_cli_progression_on_any_midi_file(tmp_path):
    from pyannow_hpc.music.target import save_midi

    midi = save_midi(rhythm_target(duration_s=9.0), tmp_path / "rhythm.mid")
    out = tmp_path / "out"
    assert main(["progression", "--target", str(midi), "--out", str(out), "--steps", "0,3,0-full", "--window-s", "5",
                 "--no-progress"]) == 0
    rows = list(csv.DictReader(open(out / "progression.csv")))
    assert [r["step"] for r in rows] == ["0", "3", "0-full"]
    assert rows[2]["data"].startswith("full piece") and rows[0]["data"] == "first 5 s"
