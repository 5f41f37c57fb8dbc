"""Statistics over the parameter space of one or more sweep or optimiser
ledgers (same cell model): PCA and scree plot, Gaussian-mixture clusters with
k by BIC and the "musical cluster", OLS with confidence intervals, VIF and
Cook's distance, logistic-regression and random-forest importance (impurity
and permutation), SALib sensitivity indices, bootstrap CIs, and a Markdown +
HTML report whose every table names the score it analyses.

The musical cluster's centre and covariance in search coordinates (log10 where
the space says log) are the prior (theta_bar, Sigma): written to OUT/prior.h5
and into each ledger's /prior group (atomically), where the optimiser's
`prior = "path"` reads it.

Score: the shift-null z when the ledger has one, else the one-to-one F1
(f1_mireval), else onset_loss; --score picks another metric column.

Example:
  pyannow-hpc analyze out/sweep_boyle.h5            # -> out/sweep_boyle_report/analysis/
  pyannow-hpc analyze a.h5 b.h5 --out out/ab --score f1_mireval
"""
from __future__ import annotations

HELP = "PCA, clusters, OLS/VIF/Cook, importances, sensitivity over ledgers; writes the prior (theta_bar, Sigma)"


def add_arguments(parser) -> None:
    parser.add_argument("ledgers", nargs="+", metavar="LEDGER", help="sweep or optimiser ledgers (HDF5), same cell model")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: the first LEDGER's report folder + /analysis)")
    parser.add_argument("--score", default=None, metavar="KEY",
                        help="metric column to analyse (default: shift-null z if present, else f1_mireval, else onset_loss)")
    parser.add_argument("--k-max", type=int, default=6, metavar="K", help="largest mixture size tried; k by lowest BIC (default 6)")
    parser.add_argument("--musical-quantile", type=float, default=0.75, metavar="Q",
                        help="evaluations above this quantile of the score are 'musical' for the classifiers (default 0.75)")
    parser.add_argument("--n-boot", type=int, default=200, metavar="N", help="bootstrap resamples of the CIs (cluster centre, OLS, sensitivity; importances use at most 50) (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of clustering, forests and bootstrap (default 0)")
    parser.add_argument("--cluster-on", choices=("params+score", "params"), default="params+score",
                        help="what the mixture sees: parameters and score (default; a space-filling sweep) or "
                             "parameters only (an optimiser's crowded path)")
    parser.add_argument("--no-ledger-prior", action="store_true", help="write the prior only to OUT/prior.h5, not into the ledgers")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from threadpoolctl import threadpool_limits

    from ..analysis.run import run as analyse

    # One thread per pool (BLAS, OpenMP): every matrix here is tiny (tens of points x a few parameters),
    # and OpenBLAS's threads cost more than they give -- measured on an optimiser
    # ledger of 48 evaluations, 90 s with its default threads, 8.6 s with one
    # (SALib's delta method alone makes ~15,000 small triangular solves).
    with threadpool_limits(limits=1):  # BLAS and OpenMP pools alike
        res, index = analyse(args.ledgers, args.out, score=args.score, k_max=args.k_max,
                             quantile=args.musical_quantile, n_boot=args.n_boot, seed=args.seed,
                             ledger_prior=not args.no_ledger_prior, cluster_on_score=args.cluster_on == "params+score",
                             progress=not args.no_progress)
    cl, s = res.clustering, res.design.score
    how = "by BIC" if not cl.note else "(no cluster by BIC had a full-rank covariance)"
    print(f"analyzed {res.design.n} evaluations by {s.key} ({s.label}); k = {cl.k} {how}, musical cluster "
          f"{cl.musical} with {len(cl.members)} members; {res.seconds['total']:.1f} s")
    in_ledgers = "" if args.no_ledger_prior else f" and /prior in {', '.join(args.ledgers)}"
    print(f"prior (theta_bar, Sigma) -> {index.parent / 'prior.h5'}{in_ledgers}")
    print(f"report: {index}")
    return 0
