"""The report's PNG plots: loss histogram and parameter scatter (the piano
roll is :func:`pyannow_hpc.music.pianoroll.plot_pianoroll`, shared with the demo).

Built on :class:`matplotlib.figure.Figure` with the Agg canvas and never
through ``pyplot``: no global figure state, no display needed on a compute
node, and nothing leaks between calls when rank 0 renders at the end of a
sweep. Every PNG is written atomically.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Sequence

import numpy as np

from ..music.metrics import metric_label
from ..store.atomic import atomic_path

DPI = 100
#: at most this many varying parameters in the scatter grid (pairs grow as n^2)
MAX_SCATTER_PARAMS = 4


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def _histogram(values: np.ndarray):
    """(figure, axes, finite values) with the values' histogram drawn."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    if values.size:
        ax.hist(values, bins=min(40, max(5, int(np.sqrt(values.size)) * 2)), color="#4c72b0", edgecolor="white")
    return fig, ax, values


def loss_histogram(path: Path, loss: np.ndarray, best_loss: Sequence[float] = (), n_failed: int = 0) -> Path:
    """Histogram of onset_loss over done tasks; the best K marked."""
    fig, ax, loss = _histogram(loss)
    for i, b in enumerate(best_loss):
        ax.axvline(b, color="#c44e52", lw=1, ls="--", label="best K" if i == 0 else None)
    ax.set_xlabel(f"onset_loss = {metric_label('onset_loss')}, lower is better")
    ax.set_ylabel("tasks")
    failed = f", {n_failed} failed (not shown)" if n_failed else ""
    ax.set_title(f"onset_loss over {loss.size} done tasks{failed}")
    if len(best_loss):
        ax.legend(loc="upper right")
    return _save(fig, path)


def z_histogram(path: Path, z: np.ndarray, best_z: Sequence[float] = (), expected_max: float | None = None) -> Path:
    """Histogram of every done point's z against its own shifts, the best K
    marked, and the expected max of that many null z draws: a best point near
    that line is what selection alone gives."""
    fig, ax, z = _histogram(z)
    for i, b in enumerate(x for x in best_z if np.isfinite(x)):
        ax.axvline(b, color="#c44e52", lw=1, ls="--", label="best K (by the ranking)" if i == 0 else None)
    if expected_max is not None:
        ax.axvline(expected_max, color="black", lw=1.5, label=f"expected max of {z.size} null draws ({expected_max:.2f})")
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_xlabel(metric_label("shift_z") + " (0 = no alignment beyond its own rhythm)")
    ax.set_ylabel("tasks")
    ax.set_title(f"shift-null z over {z.size} rankable tasks")
    if z.size:
        ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def _log_axis(axis, set_scale) -> None:
    # Swept ranges often span less than a decade; matplotlib's default log
    # formatter then labels every minor tick in overlapping 10^x notation.
    # Ticks at 1-2-5 steps with plain numbers read well at any span.
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    set_scale("log")
    axis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def varying_parameters(params: np.ndarray, names: Sequence[str]) -> list[int]:
    """Columns whose value is not the same in every task (the swept ones)."""
    params = np.asarray(params, dtype=float)
    if params.size == 0:
        return []
    return [j for j in range(params.shape[1]) if np.nanmax(params[:, j]) > np.nanmin(params[:, j])]


def most_informative(params: np.ndarray, loss: np.ndarray, cols: Sequence[int], k: int) -> list[int]:
    """The ``k`` columns whose Spearman rank correlation with the loss is
    strongest (in ``cols`` order). Rank correlation, not Pearson: parameters
    swept on a log scale and a loss that saturates are both monotone, not linear."""
    if len(cols) <= k:
        return list(cols)
    from scipy.stats import spearmanr

    loss = np.asarray(loss, dtype=float)
    ok = np.isfinite(loss)
    rho = []
    for j in cols:
        r = spearmanr(params[ok, j], loss[ok]).statistic if ok.sum() > 2 else np.nan
        rho.append(0.0 if not np.isfinite(r) else abs(float(r)))
    keep = set(np.asarray(cols)[np.argsort(rho, kind="stable")[::-1][:k]].tolist())
    return [j for j in cols if j in keep]


def parameter_scatter(
    path: Path,
    params: np.ndarray,
    names: Sequence[str],
    loss: np.ndarray,
    f1: np.ndarray,
    log_names: Sequence[str] = (),
    best: Sequence[int] = (),
) -> Path:
    """Each swept parameter against onset_loss, and pairs of swept parameters,
    every point coloured by mir_eval's one-to-one F1. Rows are done tasks.
    With more than MAX_SCATTER_PARAMS swept parameters, the ones most
    rank-correlated with the loss are shown (the title says so)."""
    params = np.asarray(params, dtype=float)
    swept = varying_parameters(params, names)
    cols = most_informative(params, loss, swept, MAX_SCATTER_PARAMS)
    if not cols:  # nothing varied: plot the first parameter so the page still has the panel
        cols = [0] if params.shape[1] else []
    pairs = list(itertools.combinations(cols, 2))
    panels: list[tuple[int, int | None]] = [(j, None) for j in cols] + [(a, b) for a, b in pairs]
    n = max(len(panels), 1)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig = _figure(4.0 * ncol, 3.2 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    f1 = np.asarray(f1, dtype=float)
    vmax = max(float(np.nanmax(f1)) if np.isfinite(f1).any() else 1.0, 1e-6)
    sc = None
    best = list(best)
    for ax, (a, b) in zip(axes, panels):
        x = params[:, a]
        y = np.asarray(loss, dtype=float) if b is None else params[:, b]
        sc = ax.scatter(x, y, c=f1, cmap="viridis", vmin=0.0, vmax=vmax, s=14, edgecolors="none")
        if best:
            ax.scatter(x[best], y[best], facecolors="none", edgecolors="#c44e52", s=60, lw=1.2, label="best K")
        ax.set_xlabel(names[a])
        ax.set_ylabel("onset_loss" if b is None else names[b])
        if names[a] in log_names:
            _log_axis(ax.xaxis, ax.set_xscale)
        if b is not None and names[b] in log_names:
            _log_axis(ax.yaxis, ax.set_yscale)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if sc is not None:
        fig.colorbar(sc, ax=axes[: len(panels)].tolist(), label=metric_label("f1_mireval"), shrink=0.9)
    shown = (
        f"the {len(cols)} of {len(swept)} swept parameters most rank-correlated with onset_loss"
        if len(swept) > len(cols) else "swept parameters"
    )
    fig.suptitle(f"{shown}: vs onset_loss and in pairs (colour = F1, red rings = best K)")
    return _save(fig, path)
