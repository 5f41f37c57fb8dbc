"""Groups other commands add to a ledger survive its rewrites; merge carries /refine."""
import h5py
import numpy as np
import pytest

from pyannow_hpc.store import groups, ledger as L
from pyannow_hpc.store.merge import merge_ledgers


def _ledger(ids, attrs=None):
    n = len(ids)
    led = L.LedgerData.new(ids, ["a"], np.linspace(0, 1, n)[:, None], np.arange(n),
                           attrs={"config_hash": "h", "n_tasks_total": 4, **(attrs or {})})
    for row in range(n):
        led.record(row, L.DONE, {"f1_mireval": 0.1 * row}, onsets_s=[0.5], pitches=[60])
    return led


def _fill_retest(g):
    g.create_dataset("task", data=np.array([3, 1], dtype=np.int64))
    g.create_dataset("kind", data=np.array(["later", "seed"], dtype=h5py.string_dtype()))
    g.attrs["top_k"] = 2


def test_a_rewrite_carries_foreign_groups_unchanged(tmp_path):
    path = tmp_path / "s.h5"
    L.write_ledger(path, _ledger([0, 1, 2, 3]))
    groups.write_group(path, "retest", _fill_retest)
    led = L.read_ledger(path)
    led.record(0, L.FAILED, error="boom")  # what a resumed sweep does, then flushes
    L.write_ledger(path, led)
    with h5py.File(path) as f:
        assert sorted(f) == ["retest", "tasks"]
        np.testing.assert_array_equal(f["retest/task"][()], [3, 1])
        assert [x.decode() for x in f["retest/kind"][()]] == ["later", "seed"]
        assert f["retest"].attrs["top_k"] == 2 and f["tasks/status"][0] == L.FAILED
    # write_group replaces only its group, keeping the ledger's own data bit for bit
    groups.write_group(path, "retest", lambda g: g.create_dataset("task", data=np.array([7])))
    assert L.diff_results(led, L.read_ledger(path)) == []
    with h5py.File(path) as f:
        assert list(f["retest"]) == ["task"] and f.attrs["config_hash"] == "h"


def test_merge_carries_refine_and_names_what_it_leaves_out(tmp_path):
    a, b = _ledger([0, 1], {"shard": "0/2"}), _ledger([2, 3], {"shard": "1/2"})
    a.refine_attrs, b.refine_attrs = {"dt_ms": 0.05}, {"dt_ms": 0.05}
    a.record_refine(1, L.DONE, {"f1_mireval": 0.4}, onsets_s=[1.0], pitches=[61])
    b.record_refine(3, L.FAILED, {}, error="timeout")
    L.write_ledger(tmp_path / "a.h5", a)
    L.write_ledger(tmp_path / "b.h5", b)
    groups.write_group(tmp_path / "b.h5", "retest", _fill_retest)
    summary = merge_ledgers(tmp_path / "m.h5", [tmp_path / "a.h5", tmp_path / "b.h5"])
    merged = L.read_ledger(tmp_path / "m.h5")
    assert sorted(merged.refine) == [1, 3] and merged.refine_attrs == {"dt_ms": 0.05}
    assert merged.refine[1]["f1_mireval"] == 0.4 and merged.refine[3]["error"] == "timeout"
    np.testing.assert_array_equal(merged.refine[1]["onsets_s"], [1.0])
    assert merged.carried is None and "not carried" in summary and f"/retest of {tmp_path / 'b.h5'}" in summary


def test_merge_refuses_shards_refined_differently(tmp_path):
    a, b = _ledger([0, 1]), _ledger([2, 3])
    a.refine_attrs, b.refine_attrs = {"dt_ms": 0.05}, {"dt_ms": 0.01}
    L.write_ledger(tmp_path / "a.h5", a)
    L.write_ledger(tmp_path / "b.h5", b)
    with pytest.raises(L.LedgerError, match="refined with other settings"):
        merge_ledgers(tmp_path / "m.h5", [tmp_path / "a.h5", tmp_path / "b.h5"])
    assert not (tmp_path / "m.h5").exists()
