"""How well the worm's notes match the target: onset F1s, pitch F1, onset loss.

Two onset F-measures, always reported side by side and always labelled:

- ``f1_mireval`` -- the field standard, ``mir_eval.onset.f_measure``: a
  one-to-one (maximum bipartite) matching within +-tol.  Label:
  "F1 (mir_eval one-to-one, +-50 ms)".
- ``f1_seed`` -- the seed's ``musical_f1`` (SCIENCE.md section 2): precision
  is the fraction of worm onsets with ANY target onset within +-tol, recall the
  fraction of target onsets with ANY worm onset within +-tol.  Not one-to-one,
  so dense output inflates it (95 worm onsets on one target onset all count as
  hits: precision 1 where one-to-one gives 1/95).  Label:
  "F1 (seed any-match, +-50 ms)".

``pitch_f1``: greedy one-to-one matching (closest pairs first) of onsets within
+-tol that share a pitch class.

``onset_loss`` (smooth, for gradients; NOT a ranking -- a silent worm scores
sum(target^2) / n, less than a worm with misaligned notes, so silence wins
it; rank by :func:`pyannow_hpc.music.alignment.rank_score`): onset counts on a 20 ms grid, each
train blurred with a Gaussian of sigma 50 ms (2.5 bins, unit-sum kernel
truncated at 4 sigma: ``scipy.ndimage.gaussian_filter1d``), then the mean
squared difference over the bins.  :func:`onset_loss_jax` is the same
number as a JAX function of soft onset weights, differentiable.

Tolerance edges are inclusive (``|dt| <= tol``) everywhere, as in mir_eval.
"""
from __future__ import annotations

import csv
import io
import math
import os
import warnings
from typing import Sequence

import numpy as np

from .notes import NoteSequence

TOL_S = 0.05
TOLERANCES_S = (0.025, 0.05, 0.1)
GRID_S = 0.02
SIGMA_S = 0.05
TRUNCATE_SIGMAS = 4.0

#: the keys of :func:`evaluate`, in report order
KEYS = (
    "f1_mireval",
    "precision_mireval",
    "recall_mireval",
    "f1_seed",
    "pitch_f1",
    "onset_loss",
    "worm_rate_hz",
    "target_rate_hz",
)


def metric_label(key: str, tol_s: float = TOL_S) -> str:
    """The human label every report uses, e.g. "F1 (mir_eval one-to-one, ±50 ms)"."""
    tol = f"±{tol_s * 1000:g} ms"
    labels = {
        "f1_mireval": f"F1 (mir_eval one-to-one, {tol})",
        "precision_mireval": f"precision (mir_eval one-to-one, {tol})",
        "recall_mireval": f"recall (mir_eval one-to-one, {tol})",
        "f1_seed": f"F1 (seed any-match, {tol})",
        "precision_seed": f"precision (seed any-match, {tol})",
        "recall_seed": f"recall (seed any-match, {tol})",
        "pitch_f1": f"pitch F1 (greedy one-to-one, same pitch class, {tol})",
        # a silent worm scores sum(target^2)/n, less than one with misaligned notes
        "onset_loss": f"onset loss (MSE, {GRID_S * 1000:g} ms grid, Gaussian σ {SIGMA_S * 1000:g} ms; silence wins it)",
        "worm_rate_hz": "worm notes/s",
        "target_rate_hz": "target notes/s",
    }
    if key in labels:
        return labels[key]
    from .alignment import label  # the nulls' labels (z, chance, metronome ceilings)

    return label(key, tol_s)


def _onsets(x) -> np.ndarray:
    a = x.onset_s if isinstance(x, NoteSequence) else x
    return np.sort(np.asarray(a, dtype=float).ravel())


def _f(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2.0 * p * r / (p + r)


# ------------------------------------------------------------------ onset F1s
def f1_mireval(worm, target, tol_s: float = TOL_S) -> tuple[float, float, float]:
    """(F, precision, recall) of mir_eval's one-to-one onset matching.

    ``worm`` and ``target`` are NoteSequences or arrays of onset times (s).
    """
    import mir_eval  # 0.7 s import: only when a score is computed

    est, ref = _onsets(worm), _onsets(target)
    if len(est) == 0 or len(ref) == 0:
        return 0.0, 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, p, r = mir_eval.onset.f_measure(ref, est, window=tol_s)
    return float(f), float(p), float(r)


def _any_within(x: np.ndarray, ref_sorted: np.ndarray, tol_s: float) -> np.ndarray:
    """For each x, whether some ref lies within +-tol (ref sorted, non-empty)."""
    i = np.searchsorted(ref_sorted, x)
    left = np.abs(x - ref_sorted[np.maximum(i - 1, 0)])
    right = np.abs(ref_sorted[np.minimum(i, len(ref_sorted) - 1)] - x)
    return np.minimum(left, right) <= tol_s


def musical_f1(worm, target, tol_s: float = TOL_S) -> tuple[float, float, float]:
    """(F, precision, recall) of the seed's any-match metric (not one-to-one)."""
    w, t = _onsets(worm), _onsets(target)
    if len(w) == 0 or len(t) == 0:
        return 0.0, 0.0, 0.0
    p = float(np.mean(_any_within(w, t, tol_s)))
    r = float(np.mean(_any_within(t, w, tol_s)))
    return _f(p, r), p, r


def pitch_f1(worm: NoteSequence, target: NoteSequence, tol_s: float = TOL_S) -> tuple[float, float, float]:
    """(F, precision, recall): greedy one-to-one matching within +-tol, same pitch class.

    Candidate pairs are built vectorised (searchsorted windows); the greedy
    pass runs over candidate pairs, closest first, ties by worm then target
    index -- SCIENCE.md asks for greedy, not maximum, matching.
    """
    nw, nt = len(worm), len(target)
    if nw == 0 or nt == 0:
        return 0.0, 0.0, 0.0
    w, t = np.asarray(worm.onset_s, float), np.asarray(target.onset_s, float)
    t_order = np.argsort(t, kind="stable")
    ts = t[t_order]
    lo = np.searchsorted(ts, w - tol_s, side="left")
    hi = np.searchsorted(ts, w + tol_s, side="right")
    counts = hi - lo
    wi = np.repeat(np.arange(nw), counts)
    tj = t_order[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)]
    d = np.abs(w[wi] - t[tj])
    ok = (d <= tol_s) & (np.asarray(worm.pitch)[wi] % 12 == np.asarray(target.pitch)[tj] % 12)
    wi, tj, d = wi[ok], tj[ok], d[ok]
    order = np.lexsort((tj, wi, d))
    used_w = np.zeros(nw, dtype=bool)
    used_t = np.zeros(nt, dtype=bool)
    matched = 0
    for a, b in zip(wi[order], tj[order]):
        if not used_w[a] and not used_t[b]:
            used_w[a] = used_t[b] = True
            matched += 1
    p, r = matched / nw, matched / nt
    return _f(p, r), p, r


# ----------------------------------------------------------------- onset loss
def _n_bins(duration_s: float, grid_s: float) -> int:
    return max(1, int(math.ceil(duration_s / grid_s - 1e-9)))


def onset_grid(onsets_s, duration_s: float, grid_s: float = GRID_S, weights=None) -> np.ndarray:
    """Onset counts (or summed ``weights``) in bins [k*grid, (k+1)*grid); onsets
    outside [0, duration) are dropped."""
    t = np.asarray(onsets_s, dtype=float).ravel()
    wts = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float).ravel()
    n = _n_bins(duration_s, grid_s)
    idx = np.floor(t / grid_s).astype(np.int64)
    keep = (t >= 0) & (idx < n)
    return np.bincount(idx[keep], weights=wts[keep], minlength=n)


def gaussian_kernel(sigma_bins: float, truncate: float = TRUNCATE_SIGMAS) -> np.ndarray:
    """The unit-sum kernel ``scipy.ndimage.gaussian_filter1d`` uses (radius int(truncate*sigma+0.5))."""
    radius = int(truncate * sigma_bins + 0.5)
    x = np.arange(-radius, radius + 1, dtype=float)
    k = np.exp(-0.5 * (x / sigma_bins) ** 2)
    return k / k.sum()


def onset_loss(worm, target, duration_s: float, grid_s: float = GRID_S, sigma_s: float = SIGMA_S) -> float:
    """MSE between the Gaussian-blurred onset grids of worm and target (numpy)."""
    from scipy.ndimage import gaussian_filter1d

    sigma = sigma_s / grid_s
    blur = lambda g: gaussian_filter1d(g, sigma, mode="constant", truncate=TRUNCATE_SIGMAS)  # noqa: E731
    gw = blur(onset_grid(_onsets(worm), duration_s, grid_s))
    gt = blur(onset_grid(_onsets(target), duration_s, grid_s))
    return float(np.mean((gw - gt) ** 2))


def onset_loss_grid_jax(worm_grid, target_grid, sigma_bins: float = SIGMA_S / GRID_S):
    """MSE of the blurred grids, in JAX: differentiable in either grid (e.g. onset
    probabilities on the 20 ms grid from a learned model)."""
    import jax.numpy as jnp

    k = jnp.asarray(gaussian_kernel(sigma_bins))
    diff = jnp.convolve(jnp.asarray(worm_grid) - jnp.asarray(target_grid), k, mode="same")
    return jnp.mean(diff**2)


def onset_loss_jax(worm_onsets_s, worm_weights, target_onsets_s, duration_s: float,
                   grid_s: float = GRID_S, sigma_s: float = SIGMA_S):
    """:func:`onset_loss` with soft worm onset weights (1 = a note), differentiable
    in ``worm_weights`` with ``jax.grad``.  Onset times are bin positions, not
    differentiated; with all weights 1 this equals :func:`onset_loss`."""
    import jax.numpy as jnp

    n = _n_bins(duration_s, grid_s)
    t = jnp.asarray(worm_onsets_s, dtype=jnp.result_type(float))
    idx = jnp.floor(t / grid_s).astype(jnp.int32)
    idx = jnp.where((t < 0) | (idx >= n), n, idx)  # out of range: dropped by the scatter
    gw = jnp.zeros(n, dtype=t.dtype).at[idx].add(jnp.asarray(worm_weights, dtype=t.dtype), mode="drop")
    gt = jnp.asarray(onset_grid(target_onsets_s, duration_s, grid_s), dtype=t.dtype)
    # blurring is linear: blur(gw) - blur(gt) = blur(gw - gt)
    return onset_loss_grid_jax(gw, gt, sigma_s / grid_s)


# ---------------------------------------------------------------- summaries
def evaluate(worm: NoteSequence, target: NoteSequence, duration_s: float, tol_s: float = TOL_S) -> dict[str, float]:
    """All metrics of one run (the :data:`KEYS`), on notes with onsets in [0, duration_s)."""
    worm, target = worm.window(0.0, duration_s), target.window(0.0, duration_s)
    f, p, r = f1_mireval(worm, target, tol_s)
    return {
        "f1_mireval": f,
        "precision_mireval": p,
        "recall_mireval": r,
        "f1_seed": musical_f1(worm, target, tol_s)[0],
        "pitch_f1": pitch_f1(worm, target, tol_s)[0],
        "onset_loss": onset_loss(worm, target, duration_s),
        "worm_rate_hz": len(worm) / duration_s,
        "target_rate_hz": len(target) / duration_s,
    }


def f1_table(worm: NoteSequence, target: NoteSequence, tolerances_s: Sequence[float] = TOLERANCES_S) -> list[dict]:
    """One row per tolerance, both onset F1 metrics (and P, R) and the pitch F1,
    with labelled column names."""
    rows = []
    for tol in tolerances_s:
        fm, pm, rm = f1_mireval(worm, target, tol)
        fs, ps, rs = musical_f1(worm, target, tol)
        rows.append({
            "tolerance (± ms)": _ms(tol),
            "F1 (mir_eval one-to-one)": fm,
            "precision (mir_eval one-to-one)": pm,
            "recall (mir_eval one-to-one)": rm,
            "F1 (seed any-match)": fs,
            "precision (seed any-match)": ps,
            "recall (seed any-match)": rs,
            "pitch F1 (greedy one-to-one, same pitch class)": pitch_f1(worm, target, tol)[0],
            "worm notes": len(worm),
            "target notes": len(target),
        })
    return rows


def _ms(tol_s: float):
    ms = round(tol_s * 1000.0, 6)
    return int(ms) if float(ms).is_integer() else ms


def _cell(v, floatfmt: str) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if x != x or x == 0.0 or 1e-3 <= abs(x) < 1e6:
            return format(x, floatfmt)  # F1s, precisions, rates: fixed decimals line up
        return f"{x:.3g}"  # tiny losses or huge counts keep their significant digits
    return str(v).replace("|", "\\|")


def format_table_markdown(rows: Sequence[dict], floatfmt: str = ".3f") -> str:
    """A GitHub Markdown table; columns are the union of the rows' keys, in order."""
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---:" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(c, ""), floatfmt) for c in cols) + " |" for row in rows]
    return "\n".join(lines)


def format_table_csv(rows: Sequence[dict]) -> str:
    """CSV text with a header row of labelled column names; floats at full precision."""
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for c, v in row.items()})
    return buf.getvalue()


def write_table_csv(rows: Sequence[dict], path: str | os.PathLike):
    """Write :func:`format_table_csv` atomically (temp file + os.replace)."""
    from ..store.atomic import write_text

    return write_text(path, format_table_csv(rows))


__all__ = [
    "KEYS", "TOL_S", "TOLERANCES_S", "metric_label", "f1_mireval", "musical_f1", "pitch_f1", "onset_grid",
    "gaussian_kernel", "onset_loss", "onset_loss_jax", "onset_loss_grid_jax", "evaluate", "f1_table",
    "format_table_markdown", "format_table_csv", "write_table_csv",
]
