"""Chunks of sweep tasks through one native batch call (isolation.run_chunk,
PipelineTask.batch): the same ledger as one call per task, and a bad task in a
chunk fails alone."""
import numpy as np
import pytest

from sweep_config import sweep_toml
from pyannow_hpc.config import loads_config
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.parallel import sweep as S
from pyannow_hpc.parallel.comm import SerialComm
from pyannow_hpc.parallel.isolation import Task, TaskResult, run_chunk
from pyannow_hpc.store import ledger as L
from pyannow_hpc.store.tasks import TaskStatus


@pytest.fixture(autouse=True)
def tiny_target(monkeypatch):
    target = NoteSequence.from_arrays(np.arange(0.1, 3.0, 0.25), np.full(12, 60), name="tiny")
    monkeypatch.setattr(S, "_load_target", lambda cfg: target)


def _sweep(tmp_path, name):
    text = sweep_toml(tmp_path / name, model="boyle2008", n_samples=12, seed=3,
                      params={"g_ca_boyle": [0.6, 1.4], "g_k_slow": [0.5, 1.5]},
                      simulation={"duration_s": 1.0, "burn_in_s": 0.2}, output={"flush_every_s": 0.0})
    cfg = loads_config(text, source="t.toml")
    S.run_sweep(cfg, comm=SerialComm(), progress=False, log=lambda m: None)
    return L.read_ledger(cfg.output.ledger)


def test_batched_sweep_is_bitwise_the_per_task_sweep(tmp_path, monkeypatch):
    from pyannow_hpc.worm import native_batch

    sizes = []
    real = native_batch.simulate_batch
    monkeypatch.setattr(native_batch, "simulate_batch", lambda specs, **kw: sizes.append(len(specs)) or real(specs, **kw))
    batched = _sweep(tmp_path, "b.h5")
    assert sum(sizes) == 12 and max(sizes) > 1  # the simulations went through batch calls
    monkeypatch.delattr(S.PipelineTask, "batch")
    single = _sweep(tmp_path, "s.h5")
    assert sum(sizes) == 12
    assert batched.counts() == single.counts() == {"pending": 0, "done": 12, "failed": 0}
    assert L.diff_results(batched, single) == []


class _Fn:
    """A task function with a batch entry: task 2 fails, and so does any batch holding it."""

    def __call__(self, task):
        if task.task_id == 2:
            raise ValueError("bad parameters in task 2")
        return TaskResult({"onset_loss": float(task.task_id)})

    def batch(self, tasks):
        self.batches = getattr(self, "batches", 0) + 1
        return [self(t) for t in tasks]


def test_a_bad_task_fails_alone_and_the_rest_of_its_chunk_is_done():
    fn = _Fn()
    outs = run_chunk(fn, [Task(i, {}, 0) for i in range(5)])
    assert fn.batches == 1  # tried as one batch, then task by task
    assert [o.status for o in outs] == [TaskStatus.DONE] * 2 + [TaskStatus.FAILED] + [TaskStatus.DONE] * 2
    assert "bad parameters in task 2" in outs[2].error
    assert [o.metrics.get("onset_loss") for o in outs] == [0.0, 1.0, None, 3.0, 4.0]
    good = run_chunk(fn, [Task(i, {}, 0) for i in (0, 1, 3)])
    assert fn.batches == 2 and all(o.status == TaskStatus.DONE for o in good)
