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


@pytest.mark.parametrize("model,param,scale", [("pyannow", "g_egl19", 3.0), ("boyle2008", "g_ca_boyle", 0.4),
                                                ("passive", "g_leak", 0.05)])
def test_sets_sharing_a_seed_read_one_noise_buffer_bitwise(model, param, scale):
    # seed 7 for four sets of unequal length (the shared buffer covers the longest),
    # seed 8 once (draws its own); noise strong enough that a wrong row would show
    specs = [make_spec({param: scale * (1 + i), "noise_sd_uA": 2.0}, model=model, duration_s=(0.2, 0.4, 0.3, 0.4, 0.4)[i],
                       seed=(7, 7, 7, 8, 7)[i], float32=False) for i in range(5)]
    one = [native.simulate(s) for s in specs]
    for n_threads in (1, 2):
        batch = simulate_batch(specs, n_threads=n_threads)
        assert all(_same(a, b) for a, b in zip(one, batch))
    # the seed-8 set differs from its seed-7 twin in noise only where the params agree
    twin = native.simulate(make_spec({param: scale * 4, "noise_sd_uA": 2.0}, model=model, duration_s=0.4, seed=7,
                                     float32=False))
    assert not np.array_equal(twin.v_mV, one[3].v_mV)


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
