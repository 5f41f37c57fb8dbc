import numpy as np

from pyannow_hpc.learn.primitives import MotorPrimitives, transitions
from pyannow_hpc.learn.procrustes import procrustes_align
from pyannow_hpc.learn.ridge import fit_ridge, ridge_lambda
from pyannow_hpc.learn.svd import NeuralScores, rsvd


def test_rsvd_matches_the_exact_svd_of_a_low_rank_matrix(rng):
    A = rng.normal(size=(300, 5)) @ np.diag([50, 20, 10, 5, 1]) @ rng.normal(size=(5, 96))
    _, s, Vt = rsvd(A, k=4)
    s_ref = np.linalg.svd(A, compute_uv=False)[:4]
    np.testing.assert_allclose(s, s_ref, rtol=1e-3)
    ns = NeuralScores(4).fit(A)
    assert ns.transform(A).shape == (300, 4)


def test_procrustes_recovers_a_rotation(rng):
    W = rng.normal(size=(200, 3))
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    C = 2.5 * ((W - W.mean(0)) / W.std(0)) @ Q
    res = procrustes_align(W, C)
    np.testing.assert_allclose(res.R, Q, atol=1e-8)
    assert res.alpha == np.float64(res.alpha) and abs(res.alpha - 2.5) < 1e-8
    assert res.residual < 1e-8


def test_motor_primitives_find_the_switches(rng):
    centres = rng.normal(scale=10, size=(4, 8))
    labels = np.repeat([0, 1, 2, 3, 1], 40)
    X = centres[labels] + rng.normal(scale=0.1, size=(200, 8))
    mp = MotorPrimitives(4, 4).fit(X)
    assert transitions(mp.labels(X)).tolist() == [40, 80, 120, 160]
    assert transitions(np.array([0, 0, 1, 0, 0, 2, 2, 2]), min_dwell_frames=2).tolist() == [3, 5]


def test_ridge_cv_shrinks_noise_and_fits_signal(rng):
    Z = rng.normal(size=(400, 4))
    y = Z @ np.array([1.0, -2.0, 0.0, 0.5]) + rng.normal(scale=0.1, size=400)
    m = fit_ridge(Z, y)
    assert np.corrcoef(m.predict(Z), y)[0, 1] > 0.99
    assert ridge_lambda(m) < 100
    noise = rng.normal(size=400)
    assert ridge_lambda(fit_ridge(Z, noise)) >= ridge_lambda(m)
