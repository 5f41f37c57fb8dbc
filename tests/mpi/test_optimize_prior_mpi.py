"""An optimiser run with the Bayesian prior on 2 ranks
(`mpiexec -n 2 pytest -m mpi tests/mpi/test_optimize_prior_mpi.py`).

cmaes with the prior penalty (candidates spread over ranks) gives the 1-rank
trajectory bit for bit, and gradient data parallel with the prior (the penalty's
gradient inside the jitted step, windows split over ranks) matches it to 1e-10.
The ledger's losses carry the penalty: each is at least lambda_s times the
point's squared Mahalanobis distance.  Rank 0 computes the 1-rank reference.
"""
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.optimize.config import loads_config
from pyannow_hpc.optimize.objective import Problem
from pyannow_hpc.optimize.prior import load_prior, write_prior
from pyannow_hpc.optimize.runner import load_target, run
from pyannow_hpc.parallel.comm import SerialComm, world
from test_optimize_mpi import CFG as MPI_CFG  # tests/mpi is on sys.path (no __init__.py)

pytestmark = pytest.mark.mpi

#: the 2-rank optimiser test's config with the prior added
CFG = MPI_CFG.replace("[budget]", '[loss]\nprior = "{prior}"\nprior_weight = 5.0\n[budget]')


def _run_both(method, backend, n_windows):
    comm = world()
    d = Path(comm.bcast(tempfile.mkdtemp() if comm.Get_rank() == 0 else None, root=0))
    if comm.Get_rank() == 0:
        write_prior(d / "prior.h5", ["g_ca_boyle", "time_offset_s"], [0.05, 0.1], [[0.01, 0.002], [0.002, 0.004]])
    comm.Barrier()
    cfg = loads_config(CFG.format(method=method, backend=backend, n_windows=n_windows, ledger=d / "mpi.h5",
                                  n_starts=1, normalize="false", popsize=4, prior=d / "prior.h5"))
    led = run(cfg, comm=comm, progress=False)
    out = None
    if comm.Get_rank() == 0:
        ref = run(dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=str(d / "serial.h5"))),
                  comm=SerialComm(), progress=False)
        pb = Problem(cfg, load_target(cfg.target))
        pr = load_prior(cfg.loss.prior, pb.space.labels, cfg.loss.prior_weight)
        pen = np.array([pr.weight * pr.mahalanobis2(pb.space.search_coords(e["values"])) for e in led.evals])
        out = (np.array([e["u"] for e in led.evals]), led.column("loss"),
               np.array([e["u"] for e in ref.evals]), ref.column("loss"), pen)
    return comm.bcast(out, root=0)


def test_cmaes_with_prior_two_ranks_is_the_one_rank_trajectory():
    u, loss, u_ref, loss_ref, pen = _run_both("cmaes", "native", 1)
    assert np.array_equal(u, u_ref) and np.array_equal(loss, loss_ref)
    assert np.all(loss >= pen) and np.any(pen > 0.5)  # the penalty is in the recorded loss, and not negligible


def test_gradient_with_prior_data_parallel_matches_one_rank():
    u, loss, u_ref, loss_ref, pen = _run_both("gradient", "jax", 2)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-10)
    np.testing.assert_allclose(u, u_ref, rtol=1e-10)
    assert np.all(loss >= pen - 1e-12)
