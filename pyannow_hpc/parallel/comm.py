"""The communicator: MPI when launched under mpiexec/srun, one rank otherwise.

:func:`on_root` is the one way a step runs on rank 0 alone ("rank 0 reads the
config / the ledger / the target, the others wait asleep and get its result or
its exception"); :func:`idle_barrier` is how any rank waits without spinning.

:func:`world` returns mpi4py's ``COMM_WORLD`` when mpi4py is importable, and a
:class:`SerialComm` with the same lower-case API (``bcast``, ``gather``,
``allgather``, ``allreduce``, ``barrier``, ``send``/``recv`` are not needed on
one rank) when it is not, so every code path runs on a laptop unchanged.
"""
from __future__ import annotations

import functools
import os
import pickle
from typing import Any, Callable, TypeVar

T = TypeVar("T")


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


def _portable(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives pickling with its type, message and exit
    code; else a :class:`~pyannow_hpc.errors.PyannowError` (same exit code) naming it.

    Checked here, on the root, because a bcast that fails to pickle would leave
    every other rank waiting forever.
    """
    from ..errors import PyannowError

    code = getattr(exc, "exit_code", None)
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc) and getattr(back, "exit_code", None) == code:
            return exc
    except Exception:  # noqa: BLE001  any failure to round-trip: send a stand-in
        pass
    stand_in = PyannowError(f"rank 0 failed: {type(exc).__name__}: {exc}")
    if code is not None:
        stand_in.exit_code = code
    return stand_in


def on_root(comm, fn: Callable[..., T], *args: Any, share: Callable[[T], Any] | None = None, **kwargs: Any) -> T:
    """Rank 0 runs ``fn(*args, **kwargs)``; every rank gets its result or raises its exception.

    Collective: call it on every rank. The other ranks wait in
    :func:`idle_barrier` (asleep, not spinning a core) while rank 0 works, then
    receive one broadcast. An exception raised by ``fn`` is raised on every
    rank with its type, message and ``exit_code`` (a
    :class:`~pyannow_hpc.errors.PyannowError`'s exit status), so every rank
    leaves with the same status and nobody waits on a rank that gave up; rank 0
    re-raises the original with its traceback. An exception that does not
    pickle reaches the others as a ``PyannowError`` naming it, with its exit code.

    ``share`` picks what the other ranks receive (default: the whole result);
    rank 0 always gets the whole result. For example, rank 0 keeps a ledger
    and broadcasts only the task function: ``share=lambda r: (None, r[1])``.

    One rank (:class:`SerialComm`): a plain call.
    """
    if comm.Get_size() == 1:
        return fn(*args, **kwargs)
    if comm.Get_rank() == 0:
        error = None
        try:
            result = fn(*args, **kwargs)
            # pickled here, not inside bcast: a result that fails to pickle is
            # then an error every rank hears about instead of a hang
            blob = pickle.dumps((True, share(result) if share is not None else result), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001  every kind goes to every rank, then up here
            error = exc
            blob = pickle.dumps((False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
        idle_barrier(comm)
        comm.bcast(blob, root=0)
        if error is not None:
            raise error
        return result
    idle_barrier(comm)
    ok, value = pickle.loads(comm.bcast(None, root=0))
    if ok:
        return value
    if hasattr(value, "add_note"):  # Python >= 3.11: say where it came from in a traceback
        value.add_note(f"(raised on rank 0, received on rank {comm.Get_rank()} by parallel.comm.on_root)")
    raise value


def rank_prefix(comm=None) -> str:
    comm = comm or world()
    return f"[rank {comm.Get_rank()}/{comm.Get_size()}] "
