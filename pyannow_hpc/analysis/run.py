"""``pyannow-hpc analyze``'s pipeline: load the design, run every analysis,
write the report, the prior file and the prior into the ledgers.

Order matters for crash safety: everything is computed before anything is
written, every file is written atomically, and the ledgers come last, so a
failure leaves either no prior or a complete one.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from . import bootstrap, chance, cluster, design, importance, pca, prior, regression, sensitivity
from .pca import standardise


@dataclass
class Analysis:
    design: design.Design
    pca: pca.PCAResult
    clustering: cluster.Clustering
    centre_ci: np.ndarray  # (d, 2)
    ols: regression.OLSResult
    ols_ci: np.ndarray  # (d + 1, 2) bootstrap
    importance: importance.Importance | None
    importance_ci: np.ndarray | None  # (2d, 2): logistic coefficients, then impurity
    sensitivity: sensitivity.Sensitivity
    prior: prior.Prior
    chance: np.ndarray | None  # (n,) chance F1 at each row's note count (F1 scores only)
    quantile: float
    n_boot: int
    seed: int
    seconds: dict[str, float] = field(default_factory=dict)


def analyse(des: design.Design, *, k_max: int = 6, quantile: float = 0.75, n_boot: int = 200, seed: int = 0,
            cluster_on_score: bool = True, progress: bool = True) -> Analysis:
    from tqdm import tqdm

    from ..store.provenance import utc_now

    steps = ("PCA", "clusters", "chance", "OLS", "importance", "sensitivity", "bootstrap")
    bar = tqdm(steps, desc="analyze", unit="step", disable=not progress, file=sys.stderr, leave=False)
    seconds: dict[str, float] = {}
    t = time.perf_counter()

    def done(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        seconds[name] = now - t
        t = now
        bar.set_postfix_str(name)
        bar.update(1)

    X, y, good = des.X, des.y, des.score.goodness(des.y)
    pc = pca.fit(X, seed)
    done("PCA")
    cl = cluster.musical_cluster(X, good, k_max=k_max, seed=seed, with_score=cluster_on_score)
    done("clusters")
    chance_rows = chance.per_row(des)
    done("chance")
    ols = regression.fit(X, y)
    done("OLS")
    imp = importance.fit(X, good, quantile, seed)
    done("importance")
    saltelli = len(des.samplers) == 1 and des.samplers[0] == "saltelli" and des.complete
    sens = sensitivity.analyse(X, y, des.coord_names, saltelli=saltelli, seed=seed, n_resamples=n_boot)
    done("sensitivity")
    members = X[cl.members]
    centre_ci = bootstrap.ci(len(members), lambda i: members[i].mean(axis=0), n_boot, seed)
    ols_ci = bootstrap.ci(des.n, lambda i: regression.coefficients(X[i], y[i]), n_boot, seed)
    imp_ci = None
    if imp is not None:
        Z = standardise(X)
        # forests are the slow part (about 0.1 s a fit): fewer resamples, said in the report
        imp_ci = bootstrap.stratified_ci(imp.labels, lambda i: importance.vector(Z[i], imp.labels[i], seed),
                                         min(n_boot, importance.N_BOOT), seed)
    done("bootstrap")
    bar.close()
    pr = prior.Prior(
        names=des.names, scales=des.scales, mean=cl.centre, cov=cl.cov, score=des.score.key,
        score_label=des.score.label, n_members=len(cl.members),
        criterion=f"Gaussian mixture on standardised search coordinates{' and score' if cluster_on_score else ''}, "
                  + (cl.note if cl.note else f"k = {cl.k} by lowest BIC (k <= {k_max})")
                  + f"; musical = the cluster with the {'highest' if des.score.higher_is_better else 'lowest'} "
                  f"mean {des.score.key}",
        sources=tuple(os.path.abspath(path) for path in des.paths), created_utc=utc_now(),
    )
    return Analysis(des, pc, cl, centre_ci, ols, ols_ci, imp, imp_ci, sens, pr, chance_rows, quantile, n_boot, seed,
                    seconds)


def default_out_dir(ledger: str | os.PathLike) -> Path:
    """Beside the sweep report (``<ledger>_report/analysis``) so that page links it."""
    from ..report.render import default_out_dir as report_dir

    return report_dir(ledger) / "analysis"


def run(paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike | None = None, *, score: str | None = None,
        k_max: int = 6, quantile: float = 0.75, n_boot: int = 200, seed: int = 0, ledger_prior: bool = True,
        cluster_on_score: bool = True, progress: bool = True) -> tuple[Analysis, Path]:
    """Analyse ``paths`` into ``out_dir``; return the analysis and the report's index.html."""
    from ..errors import ConfigError
    from ..store.atomic import prepare_dir
    from . import report

    if not 0.0 < quantile < 1.0:
        raise ConfigError(f"--musical-quantile must be in (0, 1), got {quantile}")
    if int(k_max) < 1 or int(n_boot) < 10:
        raise ConfigError(f"--k-max must be >= 1 and --n-boot >= 10 (got {k_max}, {n_boot})")
    t0 = time.perf_counter()
    des = design.load_design(paths, score)
    res = analyse(des, k_max=int(k_max), quantile=quantile, n_boot=int(n_boot), seed=seed,
                  cluster_on_score=cluster_on_score, progress=progress)
    out = prepare_dir(out_dir if out_dir is not None else default_out_dir(paths[0]))
    prior.write_file(out / "prior.h5", res.prior)
    index = report.write(res, out)
    if ledger_prior:
        for p in dict.fromkeys(des.paths):
            prior.add_to_ledger(p, res.prior)
    res.seconds["total"] = time.perf_counter() - t0
    return res, index
