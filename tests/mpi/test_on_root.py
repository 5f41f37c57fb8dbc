"""parallel.comm.on_root under `mpiexec -n 2` (also passes on one rank): rank 0
runs the step, every rank gets its result or raises its exception, with the
same type, message and exit code."""
import time

import pytest

from pyannow_hpc.errors import ConfigError, PyannowError, SimulationError
from pyannow_hpc.parallel.comm import on_root, world

pytestmark = pytest.mark.mpi


def test_every_rank_gets_rank0s_result_and_only_rank0_runs_it():
    comm = world()
    calls = []
    got = on_root(comm, lambda x: calls.append(comm.Get_rank()) or {"rank": comm.Get_rank(), "x": x}, 5)
    assert got == {"rank": 0, "x": 5}
    assert comm.allgather(len(calls)) == [1] + [0] * (comm.Get_size() - 1)


def test_share_sends_part_of_the_result_and_rank0_keeps_all():
    comm = world()
    got = on_root(comm, lambda: ("big ledger", "task fn"), share=lambda r: (None, r[1]))
    assert got == (("big ledger", "task fn") if comm.Get_rank() == 0 or comm.Get_size() == 1 else (None, "task fn"))


class Unpicklable(PyannowError):
    exit_code = 5

    def __init__(self, message, handle):  # two required args: pickling cannot rebuild it
        super().__init__(message)
        self.handle = handle


def _raise(exc):
    raise exc


def _custom_code():
    exc = ConfigError("custom code")
    exc.exit_code = 7
    return exc


@pytest.mark.parametrize("make, kind, message, code", [
    (lambda: ConfigError("sweep.toml: sampler: unknown key 'n_sample'"), ConfigError,
     "sweep.toml: sampler: unknown key 'n_sample'", 2),
    (lambda: SimulationError("blew up to NaN"), SimulationError, "blew up to NaN", 3),
    (_custom_code, ConfigError, "custom code", 7),
    (lambda: ValueError("a bug"), ValueError, "a bug", None),
])
def test_an_error_on_rank0_is_raised_on_every_rank_with_its_type_message_and_code(make, kind, message, code):
    comm = world()
    with pytest.raises(kind) as info:
        on_root(comm, lambda: _raise(make()))
    seen = (type(info.value).__name__, str(info.value), getattr(info.value, "exit_code", None))
    assert seen == (kind.__name__, message, code)
    assert comm.allgather(seen) == [seen] * comm.Get_size()


def test_an_exception_that_does_not_pickle_still_reaches_every_rank():
    comm = world()
    with pytest.raises(PyannowError) as info:
        on_root(comm, lambda: _raise(Unpicklable("no pickle for me", handle=object())))
    assert info.value.exit_code == 5
    if comm.Get_rank() == 0 or comm.Get_size() == 1:
        assert isinstance(info.value, Unpicklable)  # rank 0 re-raises the original
    else:
        assert str(info.value) == "rank 0 failed: Unpicklable: no pickle for me"


def test_a_result_that_does_not_pickle_is_an_error_not_a_hang():
    comm = world()
    if comm.Get_size() == 1:
        assert on_root(comm, lambda: (lambda: 1))() == 1  # one rank: nothing to send
        return
    with pytest.raises(Exception) as info:
        on_root(comm, lambda: (lambda: 1))
    seen = comm.allgather(type(info.value).__name__)
    assert len(set(seen)) == 1  # the same on every rank


def test_waiting_ranks_sleep_instead_of_spinning():
    comm = world()
    t0, cpu0 = time.perf_counter(), time.process_time()
    on_root(comm, time.sleep, 0.6)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if comm.Get_rank() != 0:
        assert wall >= 0.5 and cpu < 0.3 * wall, (wall, cpu)  # a spinning wait burns ~100% of a core


def test_cli_errors_on_rank0_exit_every_rank_with_the_same_code(tmp_path, capsys):
    """`refine`, `train --ledger` and `sweep` on a missing file: every rank returns
    the same status, and the job prints one error line (rank 0's)."""
    from pyannow_hpc.cli import main

    comm = world()
    missing = str(tmp_path / "missing.h5") if comm.Get_rank() == 0 else "/nonexistent/only-rank-0-reads-it.h5"
    for argv, code in ((["refine", missing], 2), (["train", "--ledger", missing], 2), (["sweep", missing + ".toml"], 2)):
        rc = main(argv)
        assert comm.allgather(rc) == [code] * comm.Get_size(), argv
        err = capsys.readouterr().err.strip().splitlines()
        if comm.Get_rank() == 0:
            assert len(err) == 1 and err[0].startswith("pyannow-hpc: error:") and "missing.h5" in err[0], err
        else:
            assert err == [], err
