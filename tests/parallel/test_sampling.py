import numpy as np
import pytest

from sweep_config import sweep_toml
from pyannow_hpc.config import loads_config
from pyannow_hpc.parallel.sampling import grid_shape, sample_unit, scale_unit, shard_ids, task_seed, task_table

def config(method, n, seed=3, v_half_ca_mV=(-40, -5)):
    params = {"g_egl19": {"range": [1.0, 20.0], "scale": "log"}, "v_half_ca_mV": v_half_ca_mV}
    return loads_config(sweep_toml("unused.h5", method=method, n_samples=n, seed=seed, params=params))


@pytest.mark.parametrize("method", ["sobol", "lhs", "random", "grid"])
def test_samples_stay_in_range_and_are_reproducible(method):
    cfg = config(method, 64)
    ids, values, seeds, total = task_table(cfg)
    assert values.shape == (total, 2) and len(ids) == len(seeds) == total
    assert np.all(values[:, 0] >= 1.0) and np.all(values[:, 0] <= 20.0)
    assert np.all(values[:, 1] >= -40) and np.all(values[:, 1] <= -5)
    again = task_table(cfg)
    assert np.array_equal(values, again[1]) and np.array_equal(seeds, again[2])
    if method != "grid":
        other = task_table(config(method, 64, seed=4))
        assert not np.array_equal(values, other[1])


def test_lhs_hits_every_stratum_once():
    ranges = config("lhs", 10).params
    u = sample_unit("lhs", 10, ranges, seed=1)
    for j in range(2):
        assert sorted(np.floor(u[:, j] * 10).astype(int)) == list(range(10))


def test_log_axis_is_log_uniform():
    ranges = config("random", 4000).params
    v = scale_unit(sample_unit("random", 4000, ranges, seed=0), ranges)
    # log-uniform on [1, 20]: median = geometric mean sqrt(20) ~ 4.47, not 10.5
    assert abs(np.median(v[:, 0]) - np.sqrt(20.0)) < 0.4
    assert abs(np.median(v[:, 1]) - (-22.5)) < 1.5


def test_grid_shape_and_points():
    cfg = config("grid", 30)
    assert grid_shape(cfg.params, 30) == (5, 5)
    ids, values, _, total = task_table(cfg)
    assert total == 25 and len(np.unique(values[:, 0])) == 5
    assert values[:, 0].min() == 1.0 and values[:, 0].max() == pytest.approx(20.0)
    cfg = config("grid", 1, v_half_ca_mV={"range": [-40, -5], "points": 3})
    assert grid_shape(cfg.params, 1) == (2, 3)


def test_task_seed_depends_on_sweep_seed_and_id_only():
    seeds = [task_seed(7, i) for i in range(1000)]
    assert len(set(seeds)) == 1000 and all(0 <= s < 2**31 for s in seeds)
    assert seeds[5] == task_seed(7, 5) and task_seed(8, 5) != seeds[5]


def test_shards_partition_the_design():
    for contiguous in (False, True):
        parts = [shard_ids(23, i, 4, contiguous) for i in range(4)]
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(23))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    cfg = config("grid", 16)
    full = task_table(cfg)
    s1 = task_table(cfg.with_shard(1, 3))
    assert np.array_equal(s1[0], [1, 4, 7, 10, 13]) and np.array_equal(s1[1], full[1][s1[0]])
    assert np.array_equal(s1[2], full[2][s1[0]]) and s1[3] == 16


def test_sobol_shards_each_cover_the_whole_space():
    """Contiguous Sobol blocks are balanced nets; strided ones are sub-boxes."""
    cfg = config("sobol", 4096)
    for i in (0, 5, 15):
        ids, values, _, _ = task_table(cfg.with_shard(i, 16))
        assert np.array_equal(ids, np.arange(256 * i, 256 * (i + 1)))
        u = np.log(values[:, 0] / 1.0) / np.log(20.0)  # log axis back to [0, 1]
        assert u.min() < 0.05 and u.max() > 0.95  # spans the axis, not a corner
        assert np.histogram(u, bins=4, range=(0, 1))[0].min() >= 48  # 64 per quarter ideally
    strided = np.arange(2, 4096, 16)
    u_full = np.log(task_table(cfg)[1][strided, 0]) / np.log(20.0)
    assert u_full.max() - u_full.min() < 0.5  # why: a stride of 16 lands in a sub-box
