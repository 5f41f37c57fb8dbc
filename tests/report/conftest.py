"""A small sweep ledger written with the sweep's own writer (store.ledger)."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store.ledger import DONE, FAILED, LedgerData, write_ledger

PARAM_NAMES = ("g_egl19", "tau_ca_ms", "drive_freq_hz")
N_TASKS = 24
DURATION_S = 4.0
WINDOW_START_S = 2.0  # the ledger keeps the whole target; tasks score [2, 6) s
FAILED_ROWS = (3, 17)
PENDING_ROWS = (20,)


def make_ledger(seed: int = 7, task_id_offset: int = 0) -> LedgerData:
    rng = np.random.default_rng(seed)
    params = np.column_stack([
        np.exp(rng.uniform(np.log(1.0), np.log(20.0), N_TASKS)),
        rng.uniform(5.0, 40.0, N_TASKS),
        rng.uniform(0.5, 3.0, N_TASKS),
    ])
    # 20 notes over 8 s, 10 of them in the scored window
    target = NoteSequence.from_arrays(np.arange(0.1, 8.0, 0.4), 60 + (np.arange(20) % 12), name="test target")
    led = LedgerData.new(
        np.arange(N_TASKS) + task_id_offset, PARAM_NAMES, params, np.arange(N_TASKS) * 1000 + 1,
        attrs={"package_version": "0.1.0", "git_hash": "abc123def456", "host": "testhost", "mpi_size": 2,
               "start_utc": "2026-11-29T13:00:00+00:00", "end_utc": "2026-11-29T13:01:00+00:00",
               "backend": "native", "model": "pyannow", "target_name": "test target", "duration_s": DURATION_S,
               "window_start_s": WINDOW_START_S, "param_scales": '{"g_egl19": "log", "tau_ca_ms": "linear"}',
               "config_text": 'backend = "native"\n[sampler]\nn_samples = 24\n'},
        target=target,
    )
    for row in range(N_TASKS):
        if row in PENDING_ROWS:
            continue
        if row in FAILED_ROWS:
            led.record(row, FAILED, error="SimulationError: blew up to NaN at t=1.2 s")
            continue
        n = int(rng.integers(3, 15))
        onsets = np.sort(rng.uniform(0.0, DURATION_S, n))
        pitches = rng.integers(24, 120, n)
        f1 = float(rng.uniform(0, 0.4))
        led.record(row, DONE, metrics={
            "f1_mireval": f1, "precision_mireval": f1, "recall_mireval": f1, "f1_seed": min(1.0, 3 * f1),
            "pitch_f1": f1 / 2, "onset_loss": float(rng.uniform(0.1, 0.5)), "worm_rate_hz": n / DURATION_S,
            "target_rate_hz": 10 / DURATION_S,
        }, onsets_s=onsets, pitches=pitches)
    return led


@pytest.fixture
def ledger(tmp_path):
    led = make_ledger()
    path = write_ledger(tmp_path / "sweep.h5", led)
    return path, led
