"""Importances and sensitivity indices rank the parameter that matters first."""
from __future__ import annotations

import numpy as np

from pyannow_hpc.analysis import design, importance, sensitivity


def test_the_parameter_that_decides_musicality_has_the_top_importances(tmp_path, synthetic):
    rng = np.random.default_rng(4)
    n = 100
    x = rng.uniform(0, 1, (n, 3))
    z = 4 * (x[:, 1] - 0.5) + rng.normal(0, 0.3, n)  # only the middle parameter matters
    path = synthetic(tmp_path / "imp.h5", ("p", "key_param", "r"), x, {"shift_z": z})
    des = design.load_design([path])
    imp = importance.fit(des.X, des.y, quantile=0.75, seed=0)
    assert imp.labels.sum() == 25
    assert np.argmax(imp.impurity) == 1 and np.argmax(imp.permutation_mean) == 1
    assert np.argmax(np.abs(imp.logistic_coef)) == 1 and imp.logistic_coef[1] > 0
    assert imp.oob_accuracy > imp.base_rate  # held-out, better than the majority answer


def test_one_class_only_gives_no_importance():
    assert importance.fit(np.random.default_rng(0).uniform(0, 1, (20, 2)), np.ones(20)) is None


def test_a_saltelli_ledger_gets_sobol_indices(tmp_path, synthetic):
    from SALib.sample import sobol as saltelli

    problem = {"num_vars": 3, "names": ["p", "q", "r"], "bounds": [[0, 1]] * 3}
    x = saltelli.sample(problem, 256, calc_second_order=False, seed=1)
    y = 5 * x[:, 0] + 0.5 * x[:, 1]  # r does nothing
    path = synthetic(tmp_path / "sal.h5", ("p", "q", "r"), x, {"f1_mireval": y}, sampler="saltelli")
    des = design.load_design([path])
    assert des.complete
    sens = sensitivity.analyse(des.X, des.y, des.coord_names, saltelli=True, seed=0)
    assert sens.method.startswith("Sobol")
    st = sens.columns["ST"]
    assert st[0] > 0.9 and st[1] < 0.1 and abs(st[2]) < 0.02


def test_other_designs_get_the_delta_method_and_say_so(tmp_path, synthetic):
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (200, 2))
    y = np.sin(6 * x[:, 0]) + rng.normal(0, 0.05, 200)
    sens = sensitivity.analyse(x, y, ("p", "q"), saltelli=False, seed=0)
    assert "delta" in sens.method and "not a Saltelli design" in sens.method
    assert sens.columns["delta"][0] > 3 * sens.columns["delta"][1]
    again = sensitivity.analyse(x, y, ("p", "q"), saltelli=False, seed=0)
    np.testing.assert_array_equal(sens.columns["delta 95% conf"], again.columns["delta 95% conf"])  # seeded


def test_ties_at_the_cut_are_not_all_musical():
    good = np.array([0.0] * 13 + [0.9, 1.2, 2.0])  # the 75th percentile is 0 itself
    labels, cut = importance.musical_labels(good, 0.75)
    assert cut == 0.0 and labels.tolist() == [0] * 13 + [1] * 3


def test_too_few_samples_for_delta_say_so_instead_of_a_nan_table():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (12, 2))
    sens = sensitivity.analyse(x, x[:, 0] + 0.1 * rng.normal(size=12), ("p", "q"), saltelli=False)
    assert sens.method.startswith("not computed") and sensitivity.rows(sens, ("p", "q")) == []
