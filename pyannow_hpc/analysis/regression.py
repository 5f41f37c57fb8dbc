"""OLS of the score on the parameters (statsmodels): coefficients with
confidence intervals, the variance inflation factor of every parameter (which
channels trade off against each other) and Cook's distance (which evaluations
pull the fit)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Cook's distance above 4/n marks an influential evaluation (the usual rule of thumb)
COOK_RULE = "4/n"


@dataclass
class OLSResult:
    coef: np.ndarray  # (d + 1,) intercept first
    ci: np.ndarray  # (d + 1, 2)
    se: np.ndarray
    pvalues: np.ndarray
    vif: np.ndarray  # (d,)
    cooks: np.ndarray  # (n,)
    cook_threshold: float
    r2: float
    r2_adj: float
    n: int

    @property
    def influential(self) -> np.ndarray:
        """Rows with Cook's distance above the threshold, largest first."""
        rows = np.flatnonzero(self.cooks > self.cook_threshold)
        return rows[np.argsort(-self.cooks[rows], kind="stable")]


def design_matrix(X: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    return sm.add_constant(np.asarray(X, dtype=float), has_constant="add")


def coefficients(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Just the OLS coefficients (intercept first): what the bootstrap refits."""
    import statsmodels.api as sm

    return np.asarray(sm.OLS(y, design_matrix(X)).fit().params)


def fit(X: np.ndarray, y: np.ndarray, alpha: float = 0.05) -> OLSResult:
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    exog = design_matrix(X)
    res = sm.OLS(np.asarray(y, dtype=float), exog).fit()
    # VIF of column j regresses it on the others *with* the intercept (column 0)
    vif = np.array([variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])])
    cooks = np.asarray(res.get_influence().cooks_distance[0])
    n = len(y)
    return OLSResult(np.asarray(res.params), np.asarray(res.conf_int(alpha)), np.asarray(res.bse),
                     np.asarray(res.pvalues), vif, cooks, 4.0 / n, float(res.rsquared), float(res.rsquared_adj), n)


def rows(res: OLSResult, coord_names, boot_ci: np.ndarray | None = None) -> list[dict]:
    names = ("intercept",) + tuple(coord_names)
    out = []
    for j, name in enumerate(names):
        row = {"term": name, "coefficient": float(res.coef[j]), "std err": float(res.se[j]),
               "95% CI low": float(res.ci[j, 0]), "95% CI high": float(res.ci[j, 1]), "p": float(res.pvalues[j])}
        if boot_ci is not None:
            row["bootstrap 95% low"], row["bootstrap 95% high"] = float(boot_ci[j, 0]), float(boot_ci[j, 1])
        row["VIF"] = float(res.vif[j - 1]) if j else ""
        out.append(row)
    return out


def influence_rows(res: OLSResult, labels, limit: int = 20) -> list[dict]:
    """The influential set (Cook's distance > 4/n), largest first."""
    return [{"evaluation": labels[i], "Cook's distance": float(res.cooks[i]), "threshold 4/n": res.cook_threshold}
            for i in res.influential[:limit]]
