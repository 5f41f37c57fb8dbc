"""Every method runs on one rank, writes its ledger, and resumes after an interruption
to exactly the uninterrupted trajectory."""
import dataclasses

import numpy as np
import pytest

from pyannow_hpc.optimize import ledger as LG
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm


@pytest.mark.parametrize("method", ["cmaes", "nelder-mead", "bo"])
def test_population_resume_is_bitwise(make_cfg, tmp_path, method):
    full = make_cfg(method=method, iters=4, ledger=str(tmp_path / "full.h5"))
    led_full = run(full, comm=SerialComm(), progress=False)
    part = dataclasses.replace(full, output=dataclasses.replace(full.output, ledger=str(tmp_path / "part.h5")))
    run(part, comm=SerialComm(), progress=False, stop_after=2)  # "killed" after two iterations
    assert LG.read(tmp_path / "part.h5").n_iterations == 2
    run(part, comm=SerialComm(), progress=False)  # the same command again resumes
    led_part = LG.read(tmp_path / "part.h5")
    assert led_part.n_iterations == 4
    a, b = np.array([e["u"] for e in led_full.evals]), np.array([e["u"] for e in led_part.evals])
    assert a.shape == b.shape and np.array_equal(a, b)
    assert np.array_equal(led_full.column("loss"), led_part.column("loss"))
    assert len(set(map(tuple, a))) > 1  # it moved


def test_ledger_records_scores_with_nulls(make_cfg):
    led = run(make_cfg(method="cmaes", iters=1), comm=SerialComm(), progress=False)
    back = LG.read(led.path)
    e = back.evals[0]
    for key in ("loss", "f1", "f1_any", "shift_z", "wall_s"):
        assert np.isfinite(e[key]), key
    assert back.iterations[0]["state"] and back.last_state()["es"]


def test_foreign_ledger_is_refused(make_cfg, tmp_path):
    from pyannow_hpc.errors import ConfigError

    path = str(tmp_path / "x.h5")
    run(make_cfg(method="cmaes", iters=1, ledger=path), comm=SerialComm(), progress=False)
    with pytest.raises(ConfigError, match="different optimiser config"):
        run(make_cfg(method="bo", iters=1, ledger=path), comm=SerialComm(), progress=False)


def test_resume_keeps_groups_other_commands_added(make_cfg, tmp_path):
    """A /prior (or /retest) group written into the ledger between two runs survives
    every later rewrite of the resumed run, byte for byte."""
    from pyannow_hpc.store.groups import write_group

    cfg = make_cfg(method="cmaes", iters=3, ledger=str(tmp_path / "g.h5"))
    run(cfg, comm=SerialComm(), progress=False, stop_after=1)
    write_group(tmp_path / "g.h5", "prior", lambda g: g.create_dataset("mean", data=np.arange(3.0)))
    run(cfg, comm=SerialComm(), progress=False)
    import h5py

    with h5py.File(tmp_path / "g.h5", "r") as f:
        assert f["iterations/iteration"].shape == (3,)
        assert np.array_equal(f["prior/mean"][()], np.arange(3.0))


def test_a_second_writer_is_refused_while_a_run_holds_the_ledger(make_cfg, tmp_path):
    from pyannow_hpc.errors import LockError
    from pyannow_hpc.store.lock import ledger_lock

    cfg = make_cfg(method="cmaes", iters=1, ledger=str(tmp_path / "l.h5"))
    with ledger_lock(tmp_path / "l.h5"):  # as another job's run would hold it
        with pytest.raises(LockError, match="being written"):
            run(cfg, comm=SerialComm(), progress=False)
    assert run(cfg, comm=SerialComm(), progress=False).n_iterations == 1


def test_one_rank_generation_in_one_batch_call_is_bitwise_the_per_candidate_path(make_cfg, tmp_path, monkeypatch):
    """The native population path runs a generation through pw_simulate_batch; the
    ledger equals the one-call-per-candidate path's, loss and scores alike."""
    from pyannow_hpc.optimize import runner
    from pyannow_hpc.worm import native_batch

    calls = []
    real = native_batch.simulate_batch
    monkeypatch.setattr(native_batch, "simulate_batch", lambda specs, **kw: calls.append(len(specs)) or real(specs, **kw))
    batched = run(make_cfg(method="cmaes", iters=2, ledger=str(tmp_path / "b.h5")), comm=SerialComm(), progress=False)
    assert calls == [4, 4]  # popsize 4 x 1 training window, one call per generation
    monkeypatch.delattr(runner.PointTask, "batch")  # run_chunk then runs one candidate at a time
    single = run(make_cfg(method="cmaes", iters=2, ledger=str(tmp_path / "s.h5")), comm=SerialComm(), progress=False)
    assert calls == [4, 4]
    for key in ("loss", "f1", "shift_z", "n_notes"):
        assert np.array_equal(batched.column(key), single.column(key), equal_nan=True), key
