"""A worker's chunk as one columnar OutcomeBlock: exact round trip, and rank 0's
block recording equal, bit for bit, to recording its outcomes one by one."""
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from pyannow_hpc.parallel.isolation import Outcome
from pyannow_hpc.parallel.outcome_block import OutcomeBlock
from pyannow_hpc.store import ledger as L
from pyannow_hpc.store.recorder import Recorder
from pyannow_hpc.store.tasks import TaskStatus


def _outcomes(ids, seed=0):
    rng = np.random.default_rng(seed)
    outs = []
    for j, i in enumerate(ids):
        if j % 5 == 3:  # a failed task: no metrics, no notes, an error
            outs.append(Outcome(i, TaskStatus.FAILED, error=f"SimulationError: task {i} blew up", wall_s=0.5))
            continue
        metrics = {"onset_loss": float(rng.random()), "f1_mireval": float(rng.random())}
        if j % 2:  # keys only some tasks report, one of them a legitimate NaN
            metrics["shift_z"] = math.nan if j % 4 == 1 else float(rng.normal())
        n = int(rng.integers(0, 8))
        outs.append(Outcome(i, TaskStatus.DONE, metrics, np.sort(rng.uniform(0, 10, n)),
                            rng.integers(24, 120, n).astype(np.int16), "", float(rng.random())))
    return outs


def _same(a: Outcome, b: Outcome) -> bool:
    return (a.task_id == b.task_id and a.status == b.status and type(b.status) is TaskStatus
            and a.metrics.keys() == b.metrics.keys()
            and all(np.array_equal(a.metrics[k], b.metrics[k], equal_nan=True) for k in a.metrics)
            and np.array_equal(a.onsets_s, b.onsets_s) and a.onsets_s.dtype == b.onsets_s.dtype
            and np.array_equal(a.pitches, b.pitches) and b.pitches.dtype == np.int16
            and a.error == b.error and a.wall_s == b.wall_s)


def test_block_round_trips_every_outcome_exactly_through_pickle():
    outs = _outcomes(range(100, 112))
    back = OutcomeBlock.unpack(pickle.loads(pickle.dumps(OutcomeBlock.from_outcomes(outs).pack()))).outcomes()
    assert len(back) == len(outs)
    assert all(_same(a, b) for a, b in zip(outs, back))
    # a key a task did not report stays absent (not NaN), a reported NaN stays NaN
    assert "shift_z" not in back[0].metrics and math.isnan(back[1].metrics["shift_z"])


def test_block_where_every_outcome_reports_every_key_sends_no_mask():
    outs = [o for o in _outcomes(range(12)) if o.status == TaskStatus.DONE and "shift_z" not in o.metrics]
    blk = OutcomeBlock.from_outcomes(outs)
    assert blk.has_metric is None
    assert all(_same(a, b) for a, b in zip(outs, OutcomeBlock.unpack(blk.pack()).outcomes()))


def _ledger(n):
    led = L.LedgerData.new(np.arange(n) + 100, ["a"], np.zeros((n, 1)), np.arange(n))
    led.metrics["stale"] = np.ones(n)  # a column no outcome reports: recording must blank it
    return led


def _assert_ledgers_equal(a, b):
    assert L.diff_results(a, b) == []
    assert a.metrics.keys() == b.metrics.keys()


@pytest.mark.parametrize("ids", [range(100, 116), [103, 100, 115, 108, 101, 109]], ids=["consecutive", "scattered"])
def test_record_block_equals_recording_one_by_one(ids):
    outs = _outcomes(ids, seed=3)
    one, blk_led = _ledger(16), _ledger(16)
    for o in outs:
        one.record(o.task_id - 100, o.status, o.metrics, o.error, o.onsets_s, o.pitches)
    blk = OutcomeBlock.unpack(OutcomeBlock.from_outcomes(outs).pack())
    blk_led.record_block([t - 100 for t in blk.task_ids.tolist()], blk.status, blk.metric_columns(), blk.errors,
                         blk.notes(blk.onsets_s), blk.notes(blk.pitches))
    _assert_ledgers_equal(one, blk_led)
    untouched = sorted(set(range(16)) - {t - 100 for t in ids})
    assert (blk_led.status[untouched] == L.PENDING).all() and (blk_led.metrics["stale"][untouched] == 1).all()


def test_recorder_block_keeps_the_same_ledger_best_and_failures():
    outs = _outcomes(range(100, 116), seed=5)
    by_one = Recorder(_ledger(16), Path(os.devnull), math.inf, 16, progress=False)
    by_block = Recorder(_ledger(16), Path(os.devnull), math.inf, 16, progress=False)
    for o in outs:
        by_one(o)
    by_block.block(OutcomeBlock.unpack(OutcomeBlock.from_outcomes(outs[:7]).pack()))
    by_block.block(OutcomeBlock.unpack(OutcomeBlock.from_outcomes(outs[7:]).pack()))
    _assert_ledgers_equal(by_one.led, by_block.led)
    assert (by_block.best, by_block.failed, by_block.dirty) == (by_one.best, by_one.failed, by_one.dirty)
    assert by_block.failed == 3 and math.isfinite(by_block.best)
