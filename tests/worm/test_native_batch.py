"""pw_simulate_batch: many sets per call, bitwise equal to one-at-a-time calls, threads as asked."""
import os

import numpy as np
import pytest

from pyannow_hpc.errors import ConfigError
from pyannow_hpc.worm import make_spec, native
from pyannow_hpc.worm.native_batch import default_threads, simulate_batch


def _same(a, b):
    return (np.array_equal(a.v_mV, b.v_mV) and np.array_equal(a.spike_times_ms, b.spike_times_ms)
            and np.array_equal(a.spike_muscle, b.spike_muscle)
            and all(np.array_equal(a.traces[k], b.traces[k]) for k in a.traces))


@pytest.mark.parametrize("n_threads", [1, 2, 3, None])
def test_seed_cell_batch_is_bitwise_one_at_a_time(n_threads):
    # unequal sets (channels, seeds, a coupled one) so a mix-up between sets would show
    specs = [make_spec({"g_egl19": 2.0 + 3 * i, "coupling_g": 0.5 * (i == 2)}, model="pyannow", duration_s=0.5,
                       seed=i % 2, record_gates=True, float32=False) for i in range(5)]
    one = [native.simulate(s) for s in specs]
    batch = simulate_batch(specs, n_threads=n_threads)
    assert all(_same(a, b) for a, b in zip(one, batch))
    assert not np.array_equal(one[0].v_mV, one[1].v_mV)


def test_boyle2008_batch_keeps_its_calcium_trace_when_asked():
    specs = [make_spec({"g_ca_boyle": 1.0 + 0.3 * i}, model="boyle2008", duration_s=0.3, seed=i, record_traces=i < 2)
             for i in range(3)]
    one = [native.simulate(s) for s in specs]
    batch = simulate_batch(specs, n_threads=2)
    assert all(_same(a, b) for a, b in zip(one, batch))
    assert ["ca_mM" in b.traces for b in batch] == [True, True, False]
    # not recording [Ca] leaves V unchanged (the pool is still integrated)
    plain = native.simulate(make_spec({"g_ca_boyle": 1.0}, model="boyle2008", duration_s=0.3, seed=0))
    np.testing.assert_array_equal(plain.v_mV, one[0].v_mV)


def test_default_threads_follow_omp_num_threads_then_affinity(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    saved = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(saved)})  # this thread: the library reads the caller's mask
        assert default_threads() == 1
    finally:
        os.sched_setaffinity(0, saved)
    assert default_threads() == len(saved)


def test_bad_batches_fail_loudly():
    with pytest.raises(ConfigError, match="one cell model"):
        simulate_batch([make_spec(model="pyannow", duration_s=0.1), make_spec(model="boyle2008", duration_s=0.1)])
    with pytest.raises(ConfigError, match="n_threads"):
        simulate_batch([make_spec(model="pyannow", duration_s=0.1)], n_threads=0)
    assert simulate_batch([]) == []
    # the C entry point itself refuses an unknown model and NULL arrays (PW_E_INVALID = -1)
    from pyannow_hpc.worm.native_batch import _batch_fn

    fn, _ = _batch_fn()
    assert fn(b"no_such_model", 0, None, None, None, None, None, None, 1) == -1
    assert fn(b"pyannow", 1, None, None, None, None, None, None, 1) == -1
    assert fn(b"pyannow", 0, None, None, None, None, None, None, 1) == 0
