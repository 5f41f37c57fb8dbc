"""Onset metrics on cases computed by hand."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from pyannow_hpc.music import metrics as M
from pyannow_hpc.music.notes import NoteSequence


def notes(onsets, pitches=None):
    pitches = [60] * len(onsets) if pitches is None else pitches
    return NoteSequence.from_arrays(onsets, pitches)


def test_dense_output_inflates_any_match_but_not_one_to_one():
    # 95 simultaneous worm onsets on one target onset
    worm = np.full(95, 1.0)
    target = np.array([1.0])
    f, p, r = M.musical_f1(worm, target)
    assert (p, r, f) == (1.0, 1.0, 1.0)
    f, p, r = M.f1_mireval(worm, target)
    assert p == pytest.approx(1 / 95) and r == 1.0
    assert f == pytest.approx(2 * (1 / 95) / (1 + 1 / 95))


def test_exact_matches_and_empty_lists():
    t = [0.5, 1.0, 2.0]
    for fn in (M.f1_mireval, M.musical_f1):
        assert fn(t, t) == (1.0, 1.0, 1.0)
        assert fn([], t) == (0.0, 0.0, 0.0)
        assert fn(t, []) == (0.0, 0.0, 0.0)
        assert fn([], []) == (0.0, 0.0, 0.0)
    assert M.pitch_f1(notes(t), notes(t)) == (1.0, 1.0, 1.0)
    assert M.pitch_f1(notes([]), notes(t)) == (0.0, 0.0, 0.0)


def test_tolerance_edges_are_inclusive():
    # binary-exact times: |dt| = 0.0625 exactly
    target = [1.0]
    assert M.f1_mireval([1.0625], target, tol_s=0.0625)[0] == 1.0
    assert M.musical_f1([1.0625], target, tol_s=0.0625)[0] == 1.0
    assert M.pitch_f1(notes([1.0625]), notes(target), tol_s=0.0625)[0] == 1.0
    assert M.f1_mireval([1.0625], target, tol_s=0.0620)[0] == 0.0
    assert M.musical_f1([1.0625], target, tol_s=0.0620)[0] == 0.0
    assert M.pitch_f1(notes([1.0625]), notes(target), tol_s=0.0620)[0] == 0.0


def test_hand_computed_partial_match():
    # worm: 0.00 (hit), 0.04 (2nd near 0.00: any-match hit, one-to-one miss), 0.50 (miss), 1.02 (hit)
    # target: 0.00, 1.00, 2.00 (never reached)
    worm, target = [0.0, 0.04, 0.5, 1.02], [0.0, 1.0, 2.0]
    f, p, r = M.musical_f1(worm, target)
    assert (p, r) == (3 / 4, 2 / 3)
    assert f == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3))
    f, p, r = M.f1_mireval(worm, target)
    assert (p, r) == (2 / 4, 2 / 3)


def test_pitch_f1_needs_same_pitch_class_and_is_greedy_one_to_one():
    target = notes([1.0, 2.0, 3.0], [60, 62, 64])  # C4 D4 E4
    # C5 at 1.01 (same class as C4: hit), D#4 at 2.0 (wrong class), E2 at 3.03 (hit)
    worm = notes([1.01, 2.0, 3.03], [72, 63, 40])
    f, p, r = M.pitch_f1(worm, target)
    assert (p, r) == (2 / 3, 2 / 3)
    # greedy closest-first: target C4 at 1.00 goes to the worm C at 1.01, not the one at 0.97
    worm2 = notes([0.97, 1.01], [60, 48])
    f, p, r = M.pitch_f1(worm2, notes([1.0], [60]))
    assert (p, r) == (0.5, 1.0)


def test_pitch_f1_is_greedy_not_maximum_matching():
    # w0=0.90 only reaches t0=0.94 (0.04); w1=0.96 is closer to t0 (0.02) than to t1=1.00 (0.04).
    # Greedy takes (w1, t0) first and leaves w0 alone: 1 match.  mir_eval's maximum matching: 2.
    w, t = [0.90, 0.96], [0.94, 1.00]
    assert M.pitch_f1(notes(w), notes(t))[1:] == (0.5, 0.5)
    assert M.f1_mireval(w, t)[1:] == (1.0, 1.0)


def test_onset_loss_zero_for_identical_and_grows_with_distance():
    target = [1.0, 2.0, 3.0]
    assert M.onset_loss(target, target, 5.0) == 0.0
    near = M.onset_loss([1.02, 2.0, 3.0], target, 5.0)
    far = M.onset_loss([1.2, 2.0, 3.0], target, 5.0)
    assert 0 < near < far
    # one onset against none: sum(kernel^2) / n_bins
    k = M.gaussian_kernel(2.5)
    assert M.onset_loss([1.0], [], 5.0) == pytest.approx(np.sum(k**2) / 250)
    assert len(k) == 21 and k.sum() == pytest.approx(1.0)
    # onsets outside [0, duration) do not count
    assert M.onset_loss([1.0, 7.0], [1.0], 5.0) == 0.0


def test_onset_grid_bins_by_floor_of_20_ms():
    g = M.onset_grid([0.0, 0.019, 0.02, 0.99, 1.0, -0.1], 1.0)
    assert len(g) == 50
    assert g[0] == 2 and g[1] == 1 and g[49] == 1 and g.sum() == 4


def test_onset_loss_jax_matches_numpy_and_is_differentiable(rng):
    import jax
    import jax.numpy as jnp

    worm = np.sort(rng.uniform(0, 10, 40))
    target = np.sort(rng.uniform(0, 10, 44))
    ref = M.onset_loss(worm, target, 10.0)
    got = float(M.onset_loss_jax(worm, jnp.ones(40), target, 10.0))
    assert got == pytest.approx(ref, rel=1e-5)
    w0 = jnp.asarray(rng.uniform(0.2, 1.0, 40), dtype=jnp.float32)
    loss = jax.jit(lambda w: M.onset_loss_jax(worm, w, target, 10.0))
    g = np.asarray(jax.grad(loss)(w0))
    assert g.shape == (40,) and np.all(np.isfinite(g)) and np.any(g != 0)
    # central finite differences on three weights
    for i in (0, 17, 39):
        e = jnp.zeros(40).at[i].set(1e-2)
        fd = (float(loss(w0 + e)) - float(loss(w0 - e))) / 2e-2
        assert g[i] == pytest.approx(fd, rel=2e-2, abs=1e-7)
    # a worm note sitting exactly on a target onset with weight < 1 wants more weight
    on = M.onset_loss_jax([1.0], jnp.array([0.5]), [1.0], 2.0)
    assert float(jax.grad(lambda w: M.onset_loss_jax([1.0], w, [1.0], 2.0))(jnp.array([0.5]))[0]) < 0
    assert float(on) > 0


def test_evaluate_has_agreed_keys_and_clips_to_duration():
    target = notes([0.5, 1.0, 1.5, 30.0], [60, 62, 64, 65])
    worm = notes([0.5, 1.0, 2.2], [72, 61, 64])
    m = M.evaluate(worm, target, duration_s=2.0)
    assert tuple(m) == M.KEYS
    assert m["target_rate_hz"] == 1.5  # the note at 30 s is outside the 2 s window
    assert m["worm_rate_hz"] == 1.0  # the worm note at 2.2 s too
    assert (m["precision_mireval"], m["recall_mireval"]) == (1.0, 2 / 3)
    assert m["pitch_f1"] == pytest.approx(0.4)  # only C5 on C4: P 1/2, R 1/3
    assert all(isinstance(v, float) for v in m.values())


def test_f1_table_and_formats_are_labelled():
    worm, target = notes(np.full(95, 1.0)), notes([1.0, 2.0])
    rows = M.f1_table(worm, target)
    assert [r["tolerance (± ms)"] for r in rows] == [25, 50, 100]
    assert rows[1]["F1 (seed any-match)"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert rows[1]["precision (mir_eval one-to-one)"] == pytest.approx(1 / 95)
    md = M.format_table_markdown(rows)
    lines = md.splitlines()
    assert "F1 (mir_eval one-to-one)" in lines[0] and "F1 (seed any-match)" in lines[0]
    assert len(lines) == 2 + 3 and lines[2].startswith("| 25 | 0.021 |")
    parsed = list(csv.DictReader(io.StringIO(M.format_table_csv(rows))))
    assert float(parsed[0]["precision (mir_eval one-to-one)"]) == 1 / 95
    assert parsed[2]["tolerance (± ms)"] == "100"
    cells = M.format_table_markdown([{"F1": 1.0, "loss": 0.000123, "n": 5, "name": "a|b"}]).splitlines()[2]
    assert cells == "| 1.000 | 0.000123 | 5 | a\\|b |"
    assert M.metric_label("f1_mireval") == "F1 (mir_eval one-to-one, ±50 ms)"
    assert M.metric_label("f1_seed", 0.025) == "F1 (seed any-match, ±25 ms)"


def test_write_table_csv_is_atomic_and_reports_unwritable(tmp_path):
    from pyannow_hpc.errors import OutputError

    rows = [{"a": 1.5}]
    p = M.write_table_csv(rows, tmp_path / "t.csv")
    assert p.read_text() == "a\n1.5\n"
    assert [x.name for x in tmp_path.iterdir()] == ["t.csv"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        M.write_table_csv(rows, blocker / "sub" / "t.csv")
