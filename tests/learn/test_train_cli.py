import json

import numpy as np

from pyannow_hpc.cli import main
from pyannow_hpc.cli.train import best_ledger_task
from pyannow_hpc.store.ledger import LedgerData, read_ledger, write_ledger
from pyannow_hpc.store.tasks import RunSettings

SETTINGS = RunSettings("native", "pyannow", 3.0, 0.5, "exponential", "crest", 0.0)


def _ledger(path, losses, status):
    led = LedgerData.new(np.arange(len(losses)), ("g_egl19", "tau_ca_ms"), [[8.0, 15.0], [12.0, 30.0], [4.0, 5.0]][: len(losses)],
                         np.arange(len(losses)) + 7, attrs={**SETTINGS.attrs(), "fixed_params": '{"g_exp2": 6.0}'})
    led.status[:] = status
    led.metrics["onset_loss"][:] = losses
    write_ledger(path, led)
    return path


def test_best_ledger_task_feeds_training(tmp_path, capsys):
    p = _ledger(tmp_path / "sweep.h5", [0.5, 0.2, 0.1], [1, 1, 2])  # task 2 failed: not eligible
    settings, task, _ = best_ledger_task(str(p))
    assert settings == SETTINGS and task.seed == 8
    assert task.params == {"g_egl19": 12.0, "tau_ca_ms": 30.0, "g_exp2": 6.0}  # the fixed value too
    rc = main(["train", "--ledger", str(p), "--net", "hybrid", "--duration-s", "3", "--adam-steps", "3",
               "--lbfgs-steps", "1", "--json", "-p", "g_egl19=10"])
    assert rc == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["net"] == "hybrid" and info["final_loss"] == info["final_loss"]  # finite, not NaN


def test_train_on_a_ledger_trains_on_the_worm_the_sweep_scored(tmp_path, monkeypatch, capsys):
    """A real sweep with a fixed value, a non-default dt, a window that does not
    start at 0 and per-task seeds: `train --ledger` simulates the best task's
    worm bit for bit, and its notes are the ones the ledger stored."""
    from sweep_config import sweep_toml

    import pyannow_hpc.learn.training as training
    from pyannow_hpc.pipeline import evaluate_params

    toml = tmp_path / "s.toml"
    # boyle2008 plays notes after the burn-in (the seed cell's plateau would leave every task silent)
    toml.write_text(sweep_toml(tmp_path / "s.h5", model="boyle2008", n_samples=4, seed=3, fixed={"noise_sd_uA": 1.0},
                               params={"drive_g_syn": {"range": [0.1, 0.12]}},
                               simulation={"start_s": 1.0, "duration_s": 2.0, "dt_ms": 0.25}))
    assert main(["sweep", str(toml), "--no-progress"]) == 0
    led = read_ledger(tmp_path / "s.h5")
    settings, task, _ = best_ledger_task(str(tmp_path / "s.h5"))  # what train --ledger picks
    best = list(led.task_ids).index(task.task_id)
    assert task.params["noise_sd_uA"] == 1.0 and settings.dt_ms == 0.25 and task.seed != 0

    assert settings.burn_in_s > 0  # the sweep discards a warm-up: training must too
    real, seen = training.activity_features, []  # what the training consumes
    monkeypatch.setattr(training, "activity_features", lambda act, *a, **k: seen.append(act) or real(act, *a, **k))
    assert main(["train", "--ledger", str(tmp_path / "s.h5"), "--net", "hybrid", "--adam-steps", "2",
                 "--lbfgs-steps", "0", "--json"]) == 0
    assert len(seen) == 1
    trained_worm = seen[0]
    ref = evaluate_params(task.params, target=led.target, seed=task.seed, onset_method=settings.onset_method,
                          window_start_s=settings.window_start_s, burn_in_s=settings.burn_in_s, keep_activity=True,
                          **settings.simulate_kwargs())
    assert np.array_equal(trained_worm.v_mV, ref.activity.v_mV) and np.array_equal(trained_worm.t_ms, ref.activity.t_ms)
    # the spike trains too (the seed cell's crest detector reads V, so they may be empty here)
    assert np.array_equal(trained_worm.spike_times_ms, ref.activity.spike_times_ms)
    assert np.array_equal(trained_worm.spike_muscle, ref.activity.spike_muscle)
    # ...and its notes (from its spikes) are the ones the sweep scored and stored
    assert np.array_equal(ref.notes.onset_s, led.onsets_s[best]) and np.array_equal(ref.notes.pitch, led.pitches[best])
    assert len(led.onsets_s[best]) > 0


def test_train_bad_inputs_are_one_line_errors(tmp_path, capsys):
    p = _ledger(tmp_path / "none.h5", [np.nan, np.nan], [0, 2])
    assert main(["train", "--ledger", str(p)]) == 2
    assert "no finished task" in capsys.readouterr().err
    assert main(["train", "--colloc", "0"]) == 2
    assert main(["train", "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["train", "--ledger", str(tmp_path / "missing.h5")]) != 0
    err = capsys.readouterr().err
    assert all(line.startswith("pyannow-hpc: error:") for line in err.strip().splitlines())
