import math

import numpy as np
import pytest

import fake_tasks
from pyannow_hpc.parallel.isolation import Task, run_isolated, run_task
from pyannow_hpc.store.ledger import DONE, FAILED


def task(i):
    return Task(i, {"g_egl19": 8.0, "tau_ca_ms": 15.0}, seed=1000 + i)


def test_run_task_success_keeps_metrics_and_notes():
    out = run_task(fake_tasks.quick, task(0))
    assert out.status == DONE and out.error == "" and out.task_id == 0
    assert len(out.onsets_s) == len(out.pitches) == 3 and math.isfinite(out.metrics["onset_loss"])
    assert out.wall_s >= 0


@pytest.mark.parametrize(
    "tid, message",
    [
        (1, "ValueError: injected failure in task 1"),
        (2, "SimulationError: membrane potential blew up to NaN"),
        (3, "non-finite metric onset_loss=nan"),
        (4, "TimeoutError: task ran past its 0.3 s limit"),
    ],
)
def test_in_process_failures_become_failed_outcomes(tid, message):
    out = run_task(fake_tasks.faulty, task(tid), timeout_s=0.3)
    assert out.status == FAILED and message in out.error
    assert out.metrics == {} and len(out.onsets_s) == 0


@pytest.mark.parametrize(
    "tid, message",
    [
        (0, None),
        (1, "ValueError: injected failure in task 1"),
        (4, "TimeoutError: task ran past its 1 s limit (child killed)"),
        (5, "task called os._exit(7)"),
        (6, "task process was killed by SIGSEGV"),
    ],
)
def test_isolated_child_survives_crashes_and_hangs(tid, message):
    out = run_isolated(fake_tasks.faulty, task(tid), timeout_s=1.0)
    if message is None:
        ref = run_task(fake_tasks.faulty, task(tid))
        assert out.status == DONE and out.metrics == ref.metrics
        assert out.onsets_s.tolist() == ref.onsets_s.tolist()
    else:
        assert out.status == FAILED and message in out.error, out.error


def test_outcome_pack_roundtrip_is_exact():
    for out in (run_task(fake_tasks.quick, task(3)), run_task(fake_tasks.faulty, task(1))):
        back = type(out).unpack(out.pack())
        assert back.task_id == out.task_id and back.status == out.status and back.error == out.error
        assert back.metrics == out.metrics and back.wall_s == out.wall_s
        assert back.onsets_s.dtype == np.float64 and np.array_equal(back.onsets_s, out.onsets_s)
        assert back.pitches.dtype == np.int16 and np.array_equal(back.pitches, out.pitches)
        # unpack fills __dict__ itself: every dataclass field, the enum status, still frozen
        import dataclasses
        assert set(vars(back)) == {f.name for f in dataclasses.fields(out)}
        assert back.status is out.status and type(back.status) is type(out.status)
        with pytest.raises(dataclasses.FrozenInstanceError):
            back.task_id = 0


def test_timed_out_child_gets_sigterm_first_to_clean_up(tmp_path):
    marker = tmp_path / "cleaned"
    out = run_isolated(fake_tasks.cleans_up_on_sigterm, Task(7, {"marker": str(marker)}, seed=1), timeout_s=1.0)
    assert out.status == FAILED and "TimeoutError" in out.error
    assert marker.read_text() == "cleaned up"  # SIGTERM reached it before any SIGKILL


def test_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path, monkeypatch):
    import time

    from pyannow_hpc.parallel import isolation

    monkeypatch.setattr(isolation, "TERM_GRACE_S", 0.5)
    t0 = time.perf_counter()
    out = run_isolated(fake_tasks.cleans_up_on_sigterm,
                       Task(8, {"marker": str(tmp_path / "m"), "stubborn": 1}, seed=1), timeout_s=1.0)
    assert out.status == FAILED and "TimeoutError" in out.error
    assert not (tmp_path / "m").exists() and time.perf_counter() - t0 < 10.0
