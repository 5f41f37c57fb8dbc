"""Ledger validation on read: what libhdf5 would hang or crash on is refused first."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.errors import LedgerError, ResourceLimitError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L
from pyannow_hpc.store.validate import check_heaps


def _ledger(path):
    led = L.LedgerData.new(np.arange(3), ("g_ca_boyle", "g_k_slow"), np.ones((3, 2)), np.arange(3),
                           attrs={"config_hash": "h"}, target=NoteSequence.from_arrays([0.1], [60], name="t"))
    led.record(1, L.FAILED, error="KeyError: x")
    return L.write_ledger(path, led)


def test_zero_size_heap_object_is_refused_before_h5py_loops_on_it(tmp_path):
    """The fuzz suite's find: a zeroed block in the global heap hung libhdf5 in read_ledger."""
    path = _ledger(tmp_path / "a.h5")
    data = bytearray(path.read_bytes())
    gcol = data.find(b"GCOL\x01")
    assert gcol > 0 and check_heaps(path) == ""
    data[gcol + 16:gcol + 16 + 256] = bytes(256)  # the first heap objects' headers and data
    path.write_bytes(bytes(data))
    assert "global heap object at byte" in check_heaps(path)
    with pytest.raises(LedgerError, match="a.h5 is a corrupt ledger: global heap object"):
        L.read_ledger(path)


def test_fifo_ledger_is_refused_not_opened(tmp_path):
    import os

    os.mkfifo(tmp_path / "f.h5")
    with pytest.raises(LedgerError, match="not a regular file"):
        L.read_ledger(tmp_path / "f.h5")


def test_ledger_larger_than_memory_is_refused(tmp_path, monkeypatch):
    path = _ledger(tmp_path / "a.h5")
    monkeypatch.setenv("PYANNOW_MEMORY_BUDGET_BYTES", "100")
    with pytest.raises(ResourceLimitError, match="the limit is 0.0 GiB"):
        L.read_ledger(path)


def test_valid_ledger_still_reads(tmp_path):
    led = L.read_ledger(_ledger(tmp_path / "a.h5"))
    assert led.errors[1] == "KeyError: x" and led.param_names == ("g_ca_boyle", "g_k_slow")
