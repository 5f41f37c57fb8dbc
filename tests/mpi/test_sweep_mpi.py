"""The sweep on every rank of COMM_WORLD (`mpiexec -n 2 pytest -m mpi tests/mpi`).

Expected values are written in terms of ``size``; rank 0 alone checks files and
broadcasts its verdict so a failed check fails every rank instead of hanging one.
"""
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import fake_tasks
from sweep_config import sweep_toml
from pyannow_hpc.config import loads_config
from pyannow_hpc.parallel import sweep as S
from pyannow_hpc.parallel.comm import SerialComm, world
from pyannow_hpc.errors import OutputError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L

pytestmark = pytest.mark.mpi

#: this file's sweep: LHS over two parameters, short timeouts, frequent flushes
SWEEP = dict(method="lhs", seed=11, params={"g_egl19": {"range": [1.0, 20.0], "scale": "log"}, "v_half_ca_mV": [-40, -5]},
             output={"flush_every_s": 0.05})


@pytest.fixture
def shared_dir():
    comm = world()
    path = tempfile.mkdtemp(prefix="pw_sweep_mpi_") if comm.Get_rank() == 0 else None
    path = Path(comm.bcast(path, root=0))
    yield path
    comm.barrier()
    if comm.Get_rank() == 0:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def tiny_target(monkeypatch):
    monkeypatch.setattr(S, "_load_target", lambda cfg: NoteSequence.from_arrays([0.5, 1.5], [60, 67], name="tiny"))


def toml(dirpath, name, n=None, rank0_works="auto"):
    n = n or 12 * world().Get_size() + 5  # more tasks than ranks, not a multiple
    return sweep_toml(dirpath / name, n_samples=n, scheduler={"task_timeout_s": 0.5, "rank0_works": rank0_works}, **SWEEP)


def cfg(dirpath, name, n=None, rank0_works="auto"):
    return loads_config(toml(dirpath, name, n, rank0_works))


def run(c, fn, comm=None):
    return S.run_sweep(c, comm=comm or world(), task_fn=fn, progress=False, log=lambda m: None)


@pytest.mark.parametrize("rank0_works", [True, False])
def test_all_ranks_give_the_serial_results(shared_dir, rank0_works):
    comm = world()
    size = comm.Get_size()
    c = cfg(shared_dir, f"mpi_{rank0_works}.h5", rank0_works=rank0_works)
    summary = run(c, fake_tasks.quick)
    # the allreduce summary is the same on every rank and counts every task once
    assert summary.done == 12 * size + 5 and summary.failed == 0 and summary.size == size
    assert comm.allgather(summary.done) == [summary.done] * size
    ok = None
    if comm.Get_rank() == 0:
        ref_cfg = cfg(shared_dir, f"serial_{rank0_works}.h5", n=12 * size + 5, rank0_works=rank0_works)
        run(ref_cfg, fake_tasks.quick, comm=SerialComm())
        par, ser = L.read_ledger(c.output.ledger), L.read_ledger(ref_cfg.output.ledger)
        ok = L.diff_results(par, ser) == [] and par.attrs["mpi_size"] == size and par.counts()["done"] == 12 * size + 5
    assert comm.bcast(ok, root=0)


def test_failures_on_any_rank_are_recorded(shared_dir):
    comm = world()
    c = cfg(shared_dir, "faulty.h5")
    fn = fake_tasks.FaultyInProcess()
    summary = run(c, fn)
    n = 12 * comm.Get_size() + 5
    expected_failed = [i for i in range(n) if i % 8 in (1, 2, 3, 4)]
    assert summary.failed == len(expected_failed) and summary.done == n - len(expected_failed)
    ok = None
    if comm.Get_rank() == 0:
        led = L.read_ledger(c.output.ledger)
        ok = (np.flatnonzero(led.status == L.FAILED).tolist() == expected_failed
              and "TimeoutError" in led.errors[4] and "injected failure" in led.errors[1])
    assert comm.bcast(ok, root=0)


def test_rank0_errors_reach_every_rank(shared_dir):
    # rank 0 finds the output path unusable: every rank raises the same error, nobody hangs
    (shared_dir / "file.txt").write_text("x") if world().Get_rank() == 0 else None
    world().barrier()
    c = cfg(shared_dir, "file.txt/sub/x.h5")
    with pytest.raises(OutputError, match="cannot (create output folder|write .*file.txt)"):
        run(c, lambda t: pytest.fail("a task ran"))


def test_scheduling_is_dynamic_under_uneven_costs():
    """One slow task (0.6 s) among many fast ones (10 ms): the rank that drew it
    runs fewer tasks, the others take up the rest -- a static split would not."""
    import time

    from pyannow_hpc.parallel.isolation import Task, TaskResult, run_task
    from pyannow_hpc.parallel.scheduler import schedule

    comm = world()
    size = comm.Get_size()
    n = 40 * size

    ran_slow = []

    def cost(task):
        ran_slow.append(task.task_id == 0)
        time.sleep(0.6 if task.task_id == 0 else 0.01)
        return TaskResult({"onset_loss": float(task.task_id)})

    tasks = [Task(i, {}, i) for i in range(n)] if comm.Get_rank() == 0 else []
    seen = []
    stats = schedule(tasks, lambda t: run_task(cost, t), comm=comm, on_outcome=lambda o: seen.append(o.task_id), chunk_max=4)
    done = comm.allgather(stats.done)
    slow_rank = comm.allgather(any(ran_slow)).index(True)
    assert sum(done) == n
    if comm.Get_rank() == 0:
        assert sorted(seen) == list(range(n))
    if size > 1:
        others = [d for r, d in enumerate(done) if r != slow_rank]
        # static equal split would give every rank n / size = 40 tasks
        assert done[slow_rank] < 40 < max(others), done


def test_workers_chunks_reach_rank0_as_columnar_blocks():
    """A worker's chunk arrives as one OutcomeBlock (on_block), rank 0's own tasks
    one by one (on_outcome); together every task exactly once, with its metrics."""
    from pyannow_hpc.parallel.isolation import Task, TaskResult, run_task
    from pyannow_hpc.parallel.outcome_block import OutcomeBlock
    from pyannow_hpc.parallel.scheduler import schedule

    comm = world()
    n = 30 * comm.Get_size()

    def cost(task):
        return TaskResult({"onset_loss": float(task.task_id) / 2}, onsets_s=[0.1 * task.task_id], pitches=[60])

    tasks = [Task(i, {}, i) for i in range(n)] if comm.Get_rank() == 0 else []
    blocks, singles = [], []
    schedule(tasks, lambda t: run_task(cost, t), comm=comm, on_outcome=singles.append, on_block=blocks.append,
             chunk_max=4)
    if comm.Get_rank() != 0:
        return
    from_blocks = [o for blk in blocks for o in blk.outcomes()]
    ids = sorted(o.task_id for o in from_blocks + singles)
    assert ids == list(range(n))
    assert all(isinstance(blk, OutcomeBlock) for blk in blocks)
    assert all(o.metrics["onset_loss"] == o.task_id / 2 and list(o.onsets_s) == [0.1 * o.task_id]
               for o in from_blocks + singles)
    if comm.Get_size() > 1:
        assert max(map(len, blocks)) > 1  # chunks of up to 4 travel as one message


def test_allreduce_rounds_feed_rank0_with_every_ranks_totals():
    """Non-blocking allreduce rounds while ranks compute at their own pace."""
    import time

    from pyannow_hpc.parallel.isolation import Task, TaskResult, run_task
    from pyannow_hpc.parallel.scheduler import schedule

    comm = world()
    size, n = comm.Get_size(), 30 * comm.Get_size()

    def cost(task):
        time.sleep(0.01)
        if task.task_id % 10 == 9:
            raise ValueError("injected")
        return TaskResult({"onset_loss": 1.0 + task.task_id})

    tasks = [Task(i, {}, i) for i in range(n)] if comm.Get_rank() == 0 else []
    summaries = []
    stats = schedule(tasks, lambda t: run_task(cost, t), comm=comm, on_summary=summaries.append, chunk_max=2, round_s=0.02)
    assert comm.allreduce(stats.done + stats.failed) == n
    if comm.Get_rank() == 0:
        if size == 1:
            assert summaries == []  # one rank needs no reduction
        else:
            rounds = [s.round for s in summaries]
            assert len(rounds) >= 3 and rounds == sorted(set(rounds)), rounds
            dones = [s.done + s.failed for s in summaries]
            assert dones == sorted(dones) and 0 < dones[-1] <= n
            for s in summaries:  # failures are every 10th task; the minimum loss is a real one
                assert s.failed <= n // 10 and s.best_loss >= 1.0 and s.mean_loss >= s.best_loss


def test_only_rank0_reads_the_config(shared_dir):
    """The CLI broadcasts rank 0's config: other ranks never open the file
    (here they are handed a path that does not exist) and run the same sweep."""
    from pyannow_hpc.cli import main

    comm = world()
    cfg_path = shared_dir / "cli.toml"
    if comm.Get_rank() == 0:  # (the target is the tiny_target fixture's)
        cfg_path.write_text(toml(shared_dir, "cli.h5", n=10))
    comm.barrier()
    mine = str(cfg_path) if comm.Get_rank() == 0 else str(shared_dir / "missing-on-this-rank.toml")
    assert main(["sweep", mine, "--task", "fake_tasks:quick", "--no-progress"]) == 0
    ok = None
    if comm.Get_rank() == 0:
        led = L.read_ledger(shared_dir / "cli.h5")
        ok = led.counts()["done"] == 10 and led.attrs["mpi_size"] == comm.Get_size()
    assert comm.bcast(ok, root=0)


def test_as_many_long_tasks_as_ranks_run_one_per_rank():
    """Prefetch must not hand every task to one worker when there are only as
    many tasks as ranks (C302 tasks take minutes each)."""
    import time

    from pyannow_hpc.parallel.isolation import Task, TaskResult, run_task
    from pyannow_hpc.parallel.scheduler import schedule

    comm = world()
    size = comm.Get_size()

    def cost(task):
        time.sleep(0.3)
        return TaskResult({"onset_loss": float(task.task_id)})

    tasks = [Task(i, {}, i) for i in range(size)] if comm.Get_rank() == 0 else []
    t0 = time.perf_counter()
    stats = schedule(tasks, lambda t: run_task(cost, t), comm=comm, chunk_max=4)
    wall = time.perf_counter() - t0
    assert comm.allgather(stats.done) == [1] * size
    if size > 1:
        assert wall < 0.3 * size  # in parallel, not one after the other


def test_a_ledger_error_on_rank0_mid_sweep_ends_every_rank_with_it(shared_dir, monkeypatch):
    """Rank 0's disk fills after the first flushes: every rank raises the same
    OutputError (its exit code), none returns as if the sweep had succeeded."""
    comm = world()
    c = cfg(shared_dir, "full_disk.h5")
    monkeypatch.setenv("FAKE_TASK_SLEEP_S", "0.01")
    monkeypatch.setattr(L, "write_ledger", fake_tasks.disk_full_after(2, L.write_ledger))
    with pytest.raises(OutputError) as info:
        run(c, fake_tasks.slow)
    seen = (type(info.value).__name__, str(info.value).split(" while ")[0], info.value.exit_code)
    assert comm.allgather(seen) == [("OutputError", "no space left on device", OutputError.exit_code)] * comm.Get_size()
