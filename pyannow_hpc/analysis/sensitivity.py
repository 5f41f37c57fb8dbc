"""Global sensitivity indices with SALib.

Sobol first- and total-order indices need a Saltelli design (N (2d + 2) or
N (d + 2) rows in SALib's order); a ledger whose sampler is "saltelli" and
whose rows all finished gets them. Every other design (Sobol points, LHS,
random, an optimiser's path) gets Plischke's moment-independent delta and a
first-order index estimated from the same arbitrary samples
(``SALib.analyze.delta``), and the report says which method ran.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Sensitivity:
    method: str  # what ran, in words
    columns: dict[str, np.ndarray]  # index name -> (d,) values (and "<name> 95% conf")


def _problem(X, coord_names):
    lo, hi = X.min(axis=0), X.max(axis=0)
    return {"num_vars": X.shape[1], "names": list(coord_names), "bounds": np.column_stack([lo, hi]).tolist()}


def _saltelli_second_order(n_rows: int, d: int) -> bool | None:
    """Whether a Saltelli design of ``n_rows`` has the second-order block (None:
    not a Saltelli size). Both N (2d + 2) and N (d + 2) may divide n_rows; SALib
    draws N as a power of 2, which decides between them."""
    fits = {second: n_rows // per for second, per in ((True, 2 * d + 2), (False, d + 2)) if n_rows % per == 0}
    pow2 = [second for second, n in fits.items() if n > 0 and n & (n - 1) == 0]
    if len(pow2) == 1:
        return pow2[0]
    return next(iter(fits), None)


def analyse(X: np.ndarray, y: np.ndarray, coord_names, *, saltelli: bool, seed: int = 0,
            n_resamples: int = 100) -> Sensitivity:
    problem = _problem(X, coord_names)
    d = X.shape[1]
    second = _saltelli_second_order(len(y), d) if saltelli else None
    if saltelli and second is not None:
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=second, num_resamples=n_resamples, seed=seed)
        return Sensitivity("Sobol first and total order (SALib.analyze.sobol on the ledger's Saltelli design)",
                           {"S1": res["S1"], "S1 95% conf": res["S1_conf"], "ST": res["ST"], "ST 95% conf": res["ST_conf"]})
    import contextlib
    import io
    import warnings

    from SALib.analyze import delta

    # delta_raw: Plischke's delta on the samples as drawn (right for a space-filling or
    # optimiser design). SALib prints binning notices (stdout and warnings) and resets the global warning
    # filter, both kept inside here; it seeds numpy's global RNG only for a truthy seed,
    # hence seed + 1 (seed 0 would not be reproducible).
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(record=True):
            res = delta.analyze(problem, X, y, num_resamples=n_resamples, seed=seed + 1, method="all")
    except (ValueError, np.linalg.LinAlgError) as exc:  # degenerate samples (ties, too few rows)
        return Sensitivity(f"not computed: SALib.analyze.delta failed on these samples ({str(exc)[:120]})", {})
    if not np.isfinite(res["delta_raw"]).any():
        return Sensitivity(f"not computed: SALib.analyze.delta returned no indices for {len(y)} samples (it bins each "
                           "parameter into classes of at least 10 samples)", {})
    why = "the design is not a Saltelli design" if not saltelli else "the Saltelli design is incomplete"
    return Sensitivity(f"moment-independent delta (raw) and first-order S1 from arbitrary samples "
                       f"(SALib.analyze.delta; Sobol total order needs a Saltelli design and {why})",
                       {"delta": res["delta_raw"], "delta 95% conf": res["delta_raw_conf"], "S1": res["S1"],
                        "S1 95% conf": res["S1_conf"]})


def rows(sens: Sensitivity, coord_names) -> list[dict]:
    if not sens.columns:
        return []
    return [{"parameter": n, **{k: float(v[j]) for k, v in sens.columns.items()}} for j, n in enumerate(coord_names)]
