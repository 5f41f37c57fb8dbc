import json

import numpy as np

from pyannow_hpc.cli import main
from pyannow_hpc.cli.train import best_ledger_params
from pyannow_hpc.store.ledger import LedgerData, write_ledger


def _ledger(path, losses, status):
    led = LedgerData.new(np.arange(len(losses)), ("g_egl19", "tau_ca_ms"), [[8.0, 15.0], [12.0, 30.0], [4.0, 5.0]][: len(losses)],
                         np.zeros(len(losses), int), attrs={"model": "pyannow", "backend": "native"})
    led.status[:] = status
    led.metrics["onset_loss"][:] = losses
    write_ledger(path, led)
    return path


def test_best_ledger_task_feeds_training(tmp_path, capsys):
    p = _ledger(tmp_path / "sweep.h5", [0.5, 0.2, 0.1], [1, 1, 2])  # task 2 failed: not eligible
    model, params = best_ledger_params(str(p))
    assert model == "pyannow" and params == {"g_egl19": 12.0, "tau_ca_ms": 30.0}
    rc = main(["train", "--ledger", str(p), "--net", "hybrid", "--duration-s", "3", "--adam-steps", "3",
               "--lbfgs-steps", "1", "--json", "-p", "g_egl19=10"])
    assert rc == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["net"] == "hybrid" and info["final_loss"] == info["final_loss"]  # finite, not NaN


def test_train_bad_inputs_are_one_line_errors(tmp_path, capsys):
    p = _ledger(tmp_path / "none.h5", [np.nan, np.nan], [0, 2])
    assert main(["train", "--ledger", str(p)]) == 2
    assert "no finished task" in capsys.readouterr().err
    assert main(["train", "--colloc", "0"]) == 2
    assert main(["train", "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["train", "--ledger", str(tmp_path / "missing.h5")]) != 0
    err = capsys.readouterr().err
    assert all(line.startswith("pyannow-hpc: error:") for line in err.strip().splitlines())
