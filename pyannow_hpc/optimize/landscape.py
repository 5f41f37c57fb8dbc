"""Loss landscapes through the optimum: one curve per parameter, and a grid
for the most important pairs (largest loss range along their curves), on the
first training window.  Seen, not guessed: a flat or rugged landscape is why a
method stalls (the seed's Nelder-Mead stopped after 9 iterations on a flat loss).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .objective import Problem


def _loss(pb: Problem, u) -> float:
    return pb.evaluate(pb.space.values(np.asarray(u)), pb.windows[0], with_nulls=False)["loss"]


def landscape(pb: Problem, u_best, n_points: int, n_pairs: int, out_dir: str | Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..store.atomic import atomic_path

    out_dir = Path(out_dir)
    u_best = np.asarray(u_best, float)
    grid = np.linspace(0.0, 1.0, n_points)
    d = min(pb.space.dim, 12)  # per-muscle problems: the first 12 entries
    curves = np.array([[_loss(pb, np.where(np.arange(pb.space.dim) == j, g, u_best)) for g in grid] for j in range(d)])
    files = []
    fig, axes = plt.subplots(1, d, figsize=(3 * d, 2.8), squeeze=False)
    for j, ax in enumerate(axes[0]):
        vals = [pb.space.values(np.where(np.arange(pb.space.dim) == j, g, u_best))[j] for g in grid]
        ax.plot(vals, curves[j], "o-")
        ax.axvline(pb.space.values(u_best)[j], color="r", lw=0.8)
        ax.set_xlabel(pb.space.labels[j])
        if pb.space.log[j]:
            ax.set_xscale("log")
    axes[0][0].set_ylabel("loss (1 - soft Dice)")
    fig.tight_layout()
    with atomic_path(out_dir / "landscape_1d.png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    files.append(out_dir / "landscape_1d.png")
    order = np.argsort(-(curves.max(1) - curves.min(1)))
    if n_pairs and d >= 2:
        i, j = sorted(order[:2])
        g2 = np.linspace(0.0, 1.0, max(3, n_points // 2 + 1))
        z = np.zeros((len(g2), len(g2)))
        for a, x in enumerate(g2):
            for b, y in enumerate(g2):
                u = u_best.copy()
                u[i], u[j] = x, y
                z[b, a] = _loss(pb, u)
        fig, ax = plt.subplots(figsize=(4, 3.4))
        im = ax.imshow(z, origin="lower", extent=(0, 1, 0, 1), aspect="auto")
        ax.plot([u_best[i]], [u_best[j]], "r*")
        ax.set_xlabel(f"{pb.space.labels[i]} (unit)")
        ax.set_ylabel(f"{pb.space.labels[j]} (unit)")
        fig.colorbar(im, label="loss")
        fig.tight_layout()
        with atomic_path(out_dir / "landscape_pair.png") as tmp:
            fig.savefig(tmp, dpi=90)
        plt.close(fig)
        files.append(out_dir / "landscape_pair.png")
    return files
