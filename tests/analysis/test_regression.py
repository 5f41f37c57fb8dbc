"""OLS through the whole reader: known coefficients, collinearity, outliers."""
from __future__ import annotations

import numpy as np

from pyannow_hpc.analysis import design, regression


def test_ols_recovers_the_coefficients_within_their_intervals(linear_ledger):
    path, truth = linear_ledger
    des = design.load_design([path], score="f1_mireval")
    assert des.coord_names == ("a_uA", "log10(b_g)", "c_mV")
    res = regression.fit(des.X, des.y)
    for j, name in enumerate(("intercept", "a_uA", "b_g", "c_mV")):
        lo, hi = res.ci[j]
        assert lo <= truth[name] <= hi, (name, lo, hi)
    # the intervals are informative, not just wide: a and b are clearly non-zero
    assert res.ci[1, 0] > 0.4 and res.ci[2, 1] < -0.2
    assert res.r2 > 0.95


def test_a_collinear_pair_has_a_high_vif_and_the_others_do_not(tmp_path, synthetic):
    rng = np.random.default_rng(5)
    n = 80
    a = rng.uniform(0, 1, n)
    a_twin = a + rng.normal(0, 0.02, n)  # trades off with a almost exactly
    c = rng.uniform(0, 1, n)
    y = a + c + rng.normal(0, 0.05, n)
    path = synthetic(tmp_path / "vif.h5", ("a", "a_twin", "c"), np.column_stack([a, a_twin, c]), {"f1_mireval": y})
    des = design.load_design([path])
    vif = regression.fit(des.X, des.y).vif
    assert vif[0] > 50 and vif[1] > 50
    assert vif[2] < 1.5


def test_an_injected_outlier_tops_cooks_distance(tmp_path, synthetic):
    rng = np.random.default_rng(8)
    n = 60
    x = rng.uniform(0, 1, (n, 2))
    y = 1.0 + x[:, 0] - x[:, 1] + rng.normal(0, 0.05, n)
    bad = 17
    x[bad] = [0.98, 0.02]  # a high-leverage corner ...
    y[bad] = -3.0  # ... with a score far off the plane
    path = synthetic(tmp_path / "cook.h5", ("p", "q"), x, {"f1_mireval": y})
    des = design.load_design([path])
    res = regression.fit(des.X, des.y)
    assert int(np.argmax(res.cooks)) == bad
    assert res.influential[0] == bad
    rows = regression.influence_rows(res, [des.row_label(i) for i in range(des.n)])
    assert rows[0]["evaluation"] == f"task {bad}"
