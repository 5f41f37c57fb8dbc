"""Reading ledgers into the design: finished rows only, search coordinates,
one model at a time, and the optimiser's evaluation table."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from pyannow_hpc.analysis import design
from pyannow_hpc.store.ledger import LedgerError


def test_failed_pending_and_nan_rows_are_left_out_and_log_axes_are_log10(tmp_path, synthetic):
    x = np.column_stack([np.linspace(0.1, 1.0, 12), np.geomspace(0.1, 10.0, 12)])
    f1 = np.linspace(0, 0.5, 12)
    f1[5] = np.nan
    path = synthetic(tmp_path / "l.h5", ("p", "g"), x, {"f1_mireval": f1}, scales={"g": "log"}, failed=(2,), pending=(9,))
    des = design.load_design([path])
    assert des.n == 9 and des.n_rows_total == 12
    assert sorted(des.task_ids.tolist()) == [0, 1, 3, 4, 6, 7, 8, 10, 11]
    np.testing.assert_allclose(des.X[:, 1], np.log10(x[des.task_ids, 1]))
    np.testing.assert_allclose(des.X[:, 0], x[des.task_ids, 0])
    assert not des.complete


def test_the_scale_falls_back_to_the_models_parameter_space(tmp_path, synthetic):
    # boyle2008's space says g_ca_boyle is log-scaled; the ledger does not record scales
    x = np.column_stack([np.geomspace(0.3, 1.5, 10), np.linspace(0, 1, 10)])
    path = synthetic(tmp_path / "s.h5", ("g_ca_boyle", "noise_sd_uA"), x, {"f1_mireval": np.linspace(0, 1, 10)})
    from pyannow_hpc.params import space

    expect = tuple(space("boyle2008")[n].scale for n in ("g_ca_boyle", "noise_sd_uA"))
    assert design.load_design([path]).scales == expect


def test_two_ledgers_stack_and_label_their_rows(tmp_path, synthetic):
    rng = np.random.default_rng(0)
    a = synthetic(tmp_path / "a.h5", ("p", "q"), rng.uniform(0, 1, (8, 2)), {"f1_mireval": rng.uniform(0, 1, 8)})
    b = synthetic(tmp_path / "b.h5", ("p", "q"), rng.uniform(0, 1, (6, 2)), {"f1_mireval": rng.uniform(0, 1, 6)})
    des = design.load_design([a, b])
    assert des.n == 14 and des.row_label(13) == "b.h5:5"


def test_ledgers_of_different_models_are_refused_naming_both(tmp_path, synthetic):
    x, y = np.random.default_rng(0).uniform(0, 1, (8, 2)), {"f1_mireval": np.linspace(0, 1, 8)}
    a = synthetic(tmp_path / "a.h5", ("p", "q"), x, y, model="boyle2008")
    b = synthetic(tmp_path / "b.h5", ("p", "q"), x, y, model="pyannow")
    with pytest.raises(design.AnalysisError, match="different cell models.*a.h5 is boyle2008.*b.h5 is pyannow"):
        design.load_design([a, b])
    c = synthetic(tmp_path / "c.h5", ("p", "r"), x, y, model="boyle2008")
    with pytest.raises(design.AnalysisError, match="varies p, r"):
        design.load_design([a, c])


def test_too_few_rows_and_foreign_files_are_one_line_errors(tmp_path, synthetic):
    path = synthetic(tmp_path / "few.h5", ("p", "q"), np.ones((4, 2)), {"f1_mireval": np.ones(4)})
    with pytest.raises(design.AnalysisError, match="needs at least 5"):
        design.load_design([path])
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(LedgerError):
        design.load_design([junk])
    empty = tmp_path / "empty.h5"
    h5py.File(empty, "w").close()
    with pytest.raises(LedgerError, match="neither a sweep ledger"):
        design.load_design([empty])


def test_the_documented_evaluation_table_is_read(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "opt.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model"] = "boyle2008"
        f.attrs["param_scales"] = '{"g": "log"}'
        f.attrs["sampler"] = "cma"
        g = f.create_group("evaluations")
        g["params"] = np.column_stack([rng.uniform(0, 1, 10), 10 ** rng.uniform(-1, 1, 10)])
        g["param_names"] = np.array(["p", "g"], dtype=h5py.string_dtype())
        g["status"] = np.array([1] * 9 + [2], dtype=np.int8)
        g.create_group("metrics")["onset_loss"] = rng.uniform(0, 1, 10)
    des = design.load_design([path])
    assert des.n == 9 and des.samplers == ("cma",) and des.score.key == "onset_loss"
    assert not des.score.higher_is_better and des.coord_names == ("p", "log10(g)")


def test_the_optimisers_ledger_layout_is_read(tmp_path):
    """pyannow-optimize-1 (branch opt): values (n, d), root attr labels, one dataset per score."""
    import json

    rng = np.random.default_rng(2)
    n = 12
    path = tmp_path / "opt_ledger.h5"
    loss = rng.uniform(0, 1, n)
    loss[4] = np.nan  # a failed evaluation
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "pyannow-optimize-1"
        f.attrs["labels"] = json.dumps(["drive_g_syn", "g_k_slow[DL]"])
        f.attrs["model"] = "boyle2008"
        f.attrs["method"] = "cmaes"
        g = f.create_group("evaluations")
        for key in ("iteration", "start", "rank", "seed", "wall_s", "n_notes"):
            g[key] = np.arange(n, dtype=float) + 1
        g["n_notes"][7] = 0  # a silent worm: its z says nothing (no shift_sd column here)
        g["loss"] = loss
        g["f1"] = rng.uniform(0, 0.4, n)
        g["shift_z"] = rng.normal(0, 1, n)
        g["uniform_mean"] = rng.uniform(0.2, 0.3, n)
        g["u"] = rng.uniform(0, 1, (n, 2))
        g["values"] = np.column_stack([rng.uniform(0.07, 0.12, n), 10 ** rng.uniform(-0.7, 0.2, n)])
        f.create_group("iterations")["best_loss"] = np.zeros(3)
    des = design.load_design([path])
    assert des.n == n - 2 and des.n_no_evidence == 1 and des.samplers == ("optimiser:cmaes",)
    assert des.score.key == "shift_z" and "shift-null z" in des.score.label
    assert set(des.metrics) == {"loss", "f1", "shift_z", "uniform_mean", "n_notes"}  # bookkeeping is not a score
    # the per-quadrant entry takes g_k_slow's log scale from the model's space
    assert des.coord_names == ("drive_g_syn", "log10(g_k_slow[DL])")
    f1 = design.load_design([path], score="f1")
    assert f1.n == n - 1  # an F1 keeps the silent worm
    assert f1.score.label.startswith("F1 (mir_eval one-to-one")
    from pyannow_hpc.analysis import chance

    np.testing.assert_array_equal(chance.per_row(f1), f1.metrics["uniform_mean"])  # the stored null is used


def test_a_constant_score_is_refused_and_a_constant_parameter_is_dropped(tmp_path, synthetic):
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (20, 3))
    flat = synthetic(tmp_path / "flat.h5", ("p", "q", "r"), x, {"f1_mireval": np.zeros(20)})
    with pytest.raises(design.AnalysisError, match="f1_mireval is 0 for every finished evaluation"):
        design.load_design([flat])
    x[:, 1] = 0.5  # q never varied
    fixed = synthetic(tmp_path / "fixed.h5", ("p", "q", "r"), x, {"f1_mireval": x[:, 0]})
    des = design.load_design([fixed])
    assert des.names == ("p", "r") and des.dropped == ("q",) and des.X.shape == (20, 2)


def test_shift_z_rows_whose_null_has_no_spread_are_left_out(tmp_path, synthetic):
    """A silent or flooding worm: every shifted copy scores the same (shift_sd 0)
    and the nulls set z = 0; such rows say nothing about alignment."""
    rng = np.random.default_rng(4)
    n = 30
    x = rng.uniform(0, 1, (n, 2))
    sd = rng.uniform(0.01, 0.05, n)
    z = rng.normal(0, 1, n)
    silent = np.arange(0, n, 3)
    sd[silent], z[silent] = 0.0, 0.0
    path = synthetic(tmp_path / "z.h5", ("p", "q"), x, {"shift_z": z, "shift_sd": sd, "f1_mireval": rng.uniform(0, 1, n)})
    des = design.load_design([path])
    assert des.n == n - len(silent) and des.n_no_evidence == len(silent)
    assert not set(des.task_ids.tolist()) & set(silent.tolist())
    assert design.load_design([path], score="f1_mireval").n == n  # an F1 keeps them: F1 = 0 is a real score
