"""The optimiser on every rank of COMM_WORLD (`mpiexec -n 2 pytest -m mpi tests/mpi/test_optimize_mpi.py`).

- cmaes over 2 ranks (candidates spread by the scheduler) gives the 1-rank trajectory bit for bit;
- gradient data parallel (2 windows split over ranks, allreduce in the jitted step) matches
  the 1-rank run to 1e-10, and every rank holds the same parameters.
Rank 0 alone computes the 1-rank reference (SerialComm) and broadcasts its verdict.
"""
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.optimize.config import loads_config
from pyannow_hpc.optimize.runner import run
from pyannow_hpc.parallel.comm import SerialComm, world

pytestmark = pytest.mark.mpi

CFG = """
method = "{method}"
backend = "{backend}"
model = "boyle2008"
[params]
g_ca_boyle = {{ range = [0.3, 1.5], scale = "log" }}
time_offset_s = {{ range = [-0.25, 0.25] }}
[simulation]
duration_s = 1.0
burn_in_s = 0.1
n_windows = {n_windows}
[budget]
max_iterations = 3
[gradient]
optimizer = "adam"
learning_rate = 0.03
n_starts = {n_starts}
normalize_step = {normalize}
[cmaes]
popsize = {popsize}
[evaluate]
n_shifts = 20
metrics_every = 100
[output]
ledger = "{ledger}"
"""


def _tmp(comm):
    d = tempfile.mkdtemp() if comm.Get_rank() == 0 else None
    return Path(comm.bcast(d, root=0))


def _both(method, backend, n_windows, n_starts=1, normalize="false", popsize=4):
    comm = world()
    d = _tmp(comm)
    cfg = loads_config(CFG.format(method=method, backend=backend, n_windows=n_windows, ledger=d / "mpi.h5",
                                  n_starts=n_starts, normalize=normalize, popsize=popsize))
    led = run(cfg, comm=comm, progress=False)
    ok = True
    if comm.Get_rank() == 0:
        ref_cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=str(d / "serial.h5")))
        ref = run(ref_cfg, comm=SerialComm(), progress=False)
        ok = (np.array([e["u"] for e in led.evals]), led.column("loss"), np.array([e["u"] for e in ref.evals]), ref.column("loss"))
    return comm.bcast(ok, root=0), led


def test_cmaes_two_ranks_is_the_one_rank_trajectory():
    (u, loss, u_ref, loss_ref), led = _both("cmaes", "native", 1)
    assert np.array_equal(u, u_ref) and np.array_equal(loss, loss_ref)
    if world().Get_rank() == 0 and world().Get_size() > 1:
        assert set(led.column("rank").astype(int)) == set(range(world().Get_size()))  # every rank evaluated


def test_cmaes_large_generation_in_batched_chunks_is_the_one_rank_trajectory():
    # 16 candidates on 2 ranks: guided chunks of 2+ sets, each one threaded native call on a worker
    (u, loss, u_ref, loss_ref), led = _both("cmaes", "native", 1, popsize=16)
    assert np.array_equal(u, u_ref) and np.array_equal(loss, loss_ref)
    if world().Get_rank() == 0 and world().Get_size() > 1:
        assert set(led.column("rank").astype(int)) == set(range(world().Get_size()))  # the work really was spread


def test_gradient_data_parallel_matches_one_rank():
    comm = world()
    (u, loss, u_ref, loss_ref), _ = _both("gradient", "jax", 2)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-10)
    np.testing.assert_allclose(u, u_ref, rtol=1e-10)


def test_gradient_multistart_split_over_ranks_matches_one_rank():
    """Two starts, one per rank (n_windows 1), normalised steps: the same trajectories as one rank."""
    (u, loss, u_ref, loss_ref), _ = _both("gradient", "jax", 1, n_starts=2, normalize="true")
    assert len(loss) == 6  # 3 iterations x 2 starts
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-10)
    np.testing.assert_allclose(u, u_ref, rtol=1e-10)
    assert not np.allclose(u[0], u[1])  # two different starts


def test_a_rank0_failure_mid_run_ends_every_rank_with_its_error(monkeypatch):
    """Rank 0's ledger flush fails at the second iteration (a full disk, say): every
    rank raises the same error with its exit code, none waits in the next collective."""
    from pyannow_hpc.errors import OutputError
    from pyannow_hpc.optimize import ledger as LG

    comm = world()
    d = _tmp(comm)
    cfg = loads_config(CFG.format(method="cmaes", backend="native", n_windows=1, ledger=d / "fail.h5",
                                  n_starts=1, normalize="false", popsize=4))
    real_flush, calls = LG.OptLedger.flush, []

    def flush(self):
        calls.append(1)
        if len(calls) == 2:
            raise OutputError("no space left on device (injected)")
        return real_flush(self)

    monkeypatch.setattr(LG.OptLedger, "flush", flush)
    with pytest.raises(OutputError, match="injected") as exc:
        run(cfg, comm=comm, progress=False)
    assert exc.value.exit_code == OutputError("x").exit_code
