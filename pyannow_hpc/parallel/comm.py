"""The communicator: MPI when launched under mpiexec/srun, one rank otherwise.

:func:`world` returns mpi4py's ``COMM_WORLD`` when mpi4py is importable, and a
:class:`SerialComm` with the same lower-case API (``bcast``, ``gather``,
``allgather``, ``allreduce``, ``barrier``, ``send``/``recv`` are not needed on
one rank) when it is not, so every code path runs on a laptop unchanged.
"""
from __future__ import annotations

import functools
import os


class SerialComm:
    """A one-rank stand-in for an mpi4py communicator."""

    rank = 0
    size = 1

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def bcast(self, obj, root: int = 0):
        return obj

    def gather(self, obj, root: int = 0):
        return [obj]

    def allgather(self, obj):
        return [obj]

    def allreduce(self, obj, op=None):
        return obj

    def barrier(self) -> None:
        return None

    def Abort(self, errorcode: int = 1) -> None:  # noqa: N802 (mpi4py spelling)
        os._exit(errorcode)


def mpi_launched() -> bool:
    """True when a launcher (mpiexec, srun with PMI) started this process."""
    keys = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")
    return any(k in os.environ for k in keys)


def launcher_size() -> int:
    """How many processes the launcher says it started (1 when it says nothing).

    Compared with ``world().Get_size()`` it catches N copies of a one-rank
    program (mpi4py missing, ``PYANNOW_NO_MPI=1``, an mpi4py built for another
    MPI than the launcher's), which would otherwise all act as rank 0.
    """
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    # Slurm's own SLURM_STEP_NUM_TASKS is not used: its meaning in a batch
    # script versus an srun step is too easy to get wrong, and a false alarm
    # would stop legitimate one-rank runs
    return 1


@functools.lru_cache(maxsize=None)
def world():
    """COMM_WORLD under MPI, else a :class:`SerialComm`.

    ``PYANNOW_NO_MPI=1`` forces the serial communicator (useful on login
    nodes where initialising MPI is not allowed).
    """
    if os.environ.get("PYANNOW_NO_MPI") == "1":
        return SerialComm()
    try:
        from mpi4py import MPI
    except ImportError:
        return SerialComm()
    return MPI.COMM_WORLD


def reduce_op(comm, name: str):
    """``MPI.SUM`` / ``MPI.MIN`` / ``MPI.MAX`` for an mpi4py communicator, None for
    :class:`SerialComm` (whose ``allreduce`` ignores the op)."""
    if isinstance(comm, SerialComm):
        return None
    from mpi4py import MPI

    return getattr(MPI, name.upper())


def idle_barrier(comm, max_sleep_s: float = 0.005) -> None:
    """A barrier that sleeps while it waits (Ibarrier + Test).

    MPICH's blocking collectives spin a core at 100%; ranks that wait for rank 0
    (while it loads a target or writes the ledger) should leave that core to
    whoever is computing. Call it right before a collective that would wait.
    """
    if isinstance(comm, SerialComm) or comm.Get_size() == 1:
        return
    import time

    req = comm.Ibarrier()
    sleep_s = 20e-6
    while not req.Test():
        time.sleep(sleep_s)
        sleep_s = min(2 * sleep_s, max_sleep_s)


def rank_prefix(comm=None) -> str:
    comm = comm or world()
    return f"[rank {comm.Get_rank()}/{comm.Get_size()}] "
