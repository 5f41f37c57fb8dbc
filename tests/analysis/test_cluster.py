"""A planted musical cluster is found, and its centre and covariance are right."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.analysis import cluster, design, scoring

CENTRE = np.array([0.7, 0.3, 0.5])  # search coordinates (log10 for g_log)


def _planted(tmp_path, synthetic, spread=0.04):
    rng = np.random.default_rng(11)
    n_bg, n_blob = 90, 30
    bg = rng.uniform(0, 1, (n_bg, 3))
    blob = CENTRE + rng.normal(0, spread, (n_blob, 3))
    coords = np.vstack([bg, blob])
    score = np.concatenate([rng.normal(-0.5, 0.4, n_bg), rng.normal(3.0, 0.3, n_blob)])
    values = coords.copy()
    values[:, 1] = 10 ** coords[:, 1]  # stored physical; the analysis works in log10
    path = synthetic(tmp_path / "planted.h5", ("g_lin", "g_log", "noise_sd_uA"), values,
                     {"shift_z": score, "f1_mireval": np.full(len(score), 0.3)}, scales={"g_log": "log"})
    return path, np.arange(n_bg, n_bg + n_blob)


@pytest.mark.parametrize("with_score", [True, False])
def test_the_planted_cluster_is_the_musical_one(tmp_path, synthetic, with_score):
    path, blob = _planted(tmp_path, synthetic)
    des = design.load_design([path])
    assert des.score.key == "shift_z"  # the shift-null z wins over F1 when present
    cl = cluster.musical_cluster(des.X, des.score.goodness(des.y), k_max=5, seed=0, with_score=with_score)
    assert cl.k >= 2
    members = set(cl.members.tolist())
    found = len(members & set(blob.tolist()))
    assert found >= 0.9 * len(blob) and len(members) <= 1.2 * len(blob), (found, len(members))
    np.testing.assert_allclose(cl.centre, CENTRE, atol=0.03)
    # the blob's spread is 0.04 per axis (the background's 0.29): the covariance says so,
    # give or take the few background points that fall inside the blob
    sd = np.sqrt(np.diag(cl.cov))
    assert np.all((sd > 0.03) & (sd < 0.08)), sd


def test_a_loss_picks_the_cluster_with_the_lowest_mean(tmp_path, synthetic):
    path, blob = _planted(tmp_path, synthetic)
    des = design.load_design([path], score="shift_z")
    # the same numbers read as a loss: lower is better, so the blob is the worst cluster now
    loss = scoring.Score("some_loss", "a loss", higher_is_better=False)
    cl = cluster.musical_cluster(des.X, loss.goodness(des.y), k_max=5, seed=0)
    assert not set(cl.members.tolist()) & set(blob.tolist())


def test_uniform_parameters_alone_give_one_cluster(tmp_path, synthetic):
    """The stated criterion is honest: no structure, BIC says k = 1."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (64, 3))
    path = synthetic(tmp_path / "u.h5", ("p", "q", "r"), x, {"f1_mireval": rng.uniform(0, 0.3, 64)})
    des = design.load_design([path])
    cl = cluster.musical_cluster(des.X, des.y, k_max=4, seed=0, with_score=False)
    assert cl.k == 1 and len(cl.members) == 64


def test_repeated_points_still_give_a_positive_definite_sigma():
    """Ten points, each evaluated three times: a mixture can put a cluster on a
    few repeated points, whose covariance is singular; such clusters never
    become the prior."""
    rng = np.random.default_rng(0)
    x = np.repeat(rng.uniform(0, 1, (10, 3)), 3, axis=0)
    cl = cluster.musical_cluster(x, np.repeat(rng.uniform(0, 1, 10), 3), k_max=6, seed=0)
    assert np.linalg.eigvalsh(cl.cov).min() > 0
    with pytest.raises(design.AnalysisError, match="fewer than 3 dimensions"):
        cluster.musical_cluster(np.repeat(x[:2], 10, axis=0), np.arange(20.0), k_max=3)
