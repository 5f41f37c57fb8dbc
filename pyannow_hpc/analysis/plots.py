"""The analysis report's PNGs: scree, BIC per k, the clusters in PC space,
Cook's distance, importances. Same Agg-only, atomically written figures as the
sweep report (:mod:`pyannow_hpc.report.plots`, whose helpers are reused)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..report.plots import _figure, _save


def scree(path: Path, explained_ratio: np.ndarray) -> Path:
    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot()
    k = np.arange(1, len(explained_ratio) + 1)
    ax.bar(k, explained_ratio, color="tab:blue", label="per component")
    ax.plot(k, np.cumsum(explained_ratio), "o-", color="tab:orange", label="cumulative")
    ax.set(xlabel="principal component", ylabel="share of variance", xticks=k, ylim=(0, 1.05),
           title="scree: PCA of standardised search coordinates")
    ax.legend(fontsize=8)
    return _save(fig, path)


def bic(path: Path, bic_by_k: dict[int, float], chosen: int) -> Path:
    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot()
    ks = sorted(bic_by_k)
    ax.plot(ks, [bic_by_k[k] for k in ks], "o-")
    ax.axvline(chosen, ls="--", color="grey", label=f"chosen k = {chosen} (lowest BIC)")
    ax.set(xlabel="k (Gaussian mixture components)", ylabel="BIC", xticks=ks, title="cluster count by BIC")
    ax.legend(fontsize=8)
    return _save(fig, path)


def clusters(path: Path, pc_scores: np.ndarray, labels: np.ndarray, musical: int, y: np.ndarray, score_label: str) -> Path:
    fig = _figure(9.5, 4.0)
    a1, a2 = fig.subplots(1, 2)
    x0, x1 = pc_scores[:, 0], pc_scores[:, 1] if pc_scores.shape[1] > 1 else np.zeros(len(pc_scores))
    for c in np.unique(labels):
        m = labels == c
        a1.scatter(x0[m], x1[m], s=18, label=f"cluster {c}" + (" (musical)" if c == musical else ""),
                   edgecolors="k" if c == musical else "none", linewidths=0.8)
    a1.set(xlabel="PC1", ylabel="PC2", title="Gaussian-mixture clusters")
    a1.legend(fontsize=7)
    sc = a2.scatter(x0, x1, c=y, s=18, cmap="viridis")
    fig.colorbar(sc, ax=a2, label=score_label[:40])
    a2.set(xlabel="PC1", ylabel="PC2", title="coloured by the analysed score")
    return _save(fig, path)


def cooks(path: Path, cooks_d: np.ndarray, threshold: float) -> Path:
    fig = _figure(6.0, 3.2)
    ax = fig.add_subplot()
    ax.stem(np.arange(len(cooks_d)), cooks_d, markerfmt=".", basefmt=" ")
    ax.axhline(threshold, ls="--", color="tab:red", label=f"4/n = {threshold:.3g}")
    ax.set(xlabel="evaluation (row)", ylabel="Cook's distance", title="OLS influence")
    ax.legend(fontsize=8)
    return _save(fig, path)


def importances(path: Path, coord_names, impurity: np.ndarray, perm_mean: np.ndarray, perm_sd: np.ndarray) -> Path:
    fig = _figure(6.0, 3.4)
    ax = fig.add_subplot()
    j = np.arange(len(coord_names))
    ax.barh(j - 0.2, impurity, height=0.4, label="impurity (RF)")
    ax.barh(j + 0.2, perm_mean, xerr=perm_sd, height=0.4, label="permutation (RF, in-sample)")
    ax.set(yticks=j, yticklabels=list(coord_names), xlabel="importance", title="musical vs non-musical")
    ax.legend(fontsize=8)
    return _save(fig, path)
