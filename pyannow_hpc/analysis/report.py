"""The analysis report: one Markdown file and one HTML page from the same
sections, every table headed by the score it analyses, plus CSVs and PNGs.

Layout of the output folder (all written atomically)::

    analysis.md, index.html   the report (the sweep report's page links index.html)
    prior.h5                  the prior (written by run.py)
    tables/<name>.csv         every table
    plots/*.png               scree, BIC, clusters, Cook's distance, importances
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..music.metrics import format_table_csv, format_table_markdown
from ..store.atomic import write_text
from . import chance, cluster, importance, pca, plots, regression, sensitivity
from .design import from_search
from .scoring import is_shift_z


@dataclass
class Section:
    title: str
    notes: list[str] = field(default_factory=list)
    tables: list[tuple[str, str, list[dict]]] = field(default_factory=list)  # (csv name, caption, rows)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, relative png path)


def _score_caveat(res) -> str:
    s = res.design.score
    if is_shift_z(s.key):
        return ("The score is a shift-null z: the one-to-one F1 against circular shifts of the worm's own onsets "
                "(SCIENCE.md section 5). The max of N null z values grows like sqrt(2 ln N) "
                f"(about {np.sqrt(2 * np.log(max(res.design.n, 2))):.2f} for these {res.design.n} evaluations).")
    if not s.higher_is_better:
        return (f"The analysed score is {s.label}: a loss carries no null, and a low onset loss is not alignment "
                "beyond chance (silence or a steady rhythm can win it; SCIENCE.md section 5).")
    text = (f"No shift-null z in the ledger(s), so the analysed score is {s.label}. An onset F1 alone rises with the "
            "note count and evenness (SCIENCE.md section 5); read 'musical' here as 'scores high on this F1', not as "
            "alignment.")
    if res.chance is not None:
        ch = res.chance
        text += (f" Chance level (uniform random onsets at each evaluation's own note count, {chance.N_DRAWS} draws): "
                 f"mean {np.mean(ch):.3f} over all evaluations against a mean {s.key} of {np.mean(res.design.y):.3f}; "
                 f"{int(np.sum(res.design.y > ch))} of {len(ch)} evaluations beat their chance level.")
    return text


def sections(res) -> list[Section]:
    des, cl, S = res.design, res.clustering, res.design.score
    names, lab = des.coord_names, S.label
    out = []
    src = ", ".join(Path(p).name for p in des.paths)
    overview = Section("Design", [
        f"{des.n} finished evaluations with a finite {S.key} (of {des.n_rows_total} rows) from {src}; cell model "
        f"{des.model}; sampler(s) {', '.join(dict.fromkeys(des.samplers))}."
        + (f" Left out: {des.n_no_evidence} evaluations whose shift null has no spread or that played no note (a "
           "silent or flooding worm: every shifted copy scores the same, so z says nothing about alignment)."
           if des.n_no_evidence else ""),
        f"Analysed score: **{lab}** ({'higher' if S.higher_is_better else 'lower'} is better). {_score_caveat(res)}",
        "Parameters are in search coordinates: " + ", ".join(names) + "."
        + (f" Left out because they never varied: {', '.join(des.dropped)}." if des.dropped else ""),
    ])
    out.append(overview)
    out.append(Section("PCA of the sampled parameters", [
        "PCA of the standardised search coordinates (the score is not used). A design that fills the space "
        "evenly (Sobol) gives a flat scree; an optimiser's path concentrates variance in a few components."],
        [("pca", f"scree and loadings (parameters only; analysed score {lab})", pca.rows(res.pca, names))],
        [("scree plot", "plots/scree.png")]))
    lo, hi = res.centre_ci[:, 0], res.centre_ci[:, 1]
    sd = np.sqrt(np.diag(cl.cov))
    phys = from_search(cl.centre[None, :], des.scales)[0]
    prior_rows = [{"parameter": n, "theta_bar (search)": float(c), "bootstrap 95% low": float(a),
                   "bootstrap 95% high": float(b), "sd (sqrt Sigma_jj)": float(s), "centre (physical)": float(v)}
                  for n, c, a, b, s, v in zip(names, cl.centre, lo, hi, sd, phys)]
    cov_rows = [{"": n, **{m: float(cl.cov[i, j]) for j, m in enumerate(names)}} for i, n in enumerate(names)]
    out.append(Section("Clusters and the musical cluster", [
        f"Gaussian mixture (full covariances) on the standardised search coordinates"
        f"{' and the standardised ' + S.key if cl.with_score else ''} for k = 1..{max(cl.bic)}; "
        + (f"{cl.note}. " if cl.note else f"k = {cl.k} has the lowest BIC. ")
        + f"The musical cluster is cluster {cl.musical} ({len(cl.members)} members): the cluster (of those with "
        f">= d + 2 members and a full-rank covariance) with the best mean {S.key}. It is chosen on the same "
        "scores it is summarised by (in-sample), so its mean score is not a held-out estimate.",
        f"Its centre and covariance are the prior (theta_bar, Sigma), written to prior.h5 and the ledger's /prior; "
        f"bootstrap CIs resample the cluster's members ({res.n_boot} resamples, percentile)."],
        [("cluster_bic", f"BIC per k (mixture on parameters{' + score' if cl.with_score else ''}; clusters ranked by {lab})", cluster.bic_rows(cl)),
         ("clusters", f"clusters: size, {lab}, centre (search coordinates)", cluster.rows(cl, des.X, des.y, names, S.key, res.chance)),
         ("prior_mean", f"musical cluster (best mean {lab}): theta_bar", prior_rows),
         ("prior_cov", f"musical cluster (best mean {lab}): Sigma (search coordinates)", cov_rows)],
        [("BIC per k", "plots/bic.png"), ("clusters in PC space", "plots/clusters.png")]))
    ols = res.ols
    labels = [des.row_label(i) for i in range(des.n)]
    infl = regression.influence_rows(ols, labels)
    out.append(Section(f"OLS of {S.key} on the parameters", [
        f"statsmodels OLS, {ols.n} evaluations, R^2 = {ols.r2:.3f} (adjusted {ols.r2_adj:.3f}). Coefficients are "
        "per unit of search coordinate (per decade for log parameters). 95% CIs from the t distribution and from "
        f"{res.n_boot} bootstrap resamples of the rows. VIF > 5 marks a parameter that trades off with others.",
        f"Cook's distance: {len(ols.influential)} evaluation(s) above 4/n = {ols.cook_threshold:.3g}"
        + (" (largest 20 listed)." if len(ols.influential) > 20 else ".")],
        [("ols", f"OLS coefficients, response = {lab}", regression.rows(ols, names, res.ols_ci)),
         ("cooks", f"influential evaluations (Cook's distance > 4/n), response = {lab}", infl)],
        [("Cook's distance", "plots/cooks.png")]))
    imp = res.importance
    if imp is None:
        out.append(Section("Musical vs non-musical", ["Every evaluation got the same label; nothing to separate."]))
    else:
        out.append(Section("Musical vs non-musical", [
            f"Label: musical = {S.key} {'above' if S.higher_is_better else 'below'} its "
            f"{100 * (res.quantile if S.higher_is_better else 1 - res.quantile):.0f}th percentile "
            f"({int(imp.labels.sum())} of {len(imp.labels)}; cut {S.key} {'>' if S.higher_is_better else '<'} "
            f"{imp.threshold if S.higher_is_better else -imp.threshold:.4g}). Logistic regression coefficients are per "
            f"standard deviation of the parameter; the random forest ({importance.N_TREES} trees) has out-of-bag "
            f"accuracy {imp.oob_accuracy:.3f} (held-out) against {imp.base_rate:.3f} for always answering the majority "
            f"class. Permutation importances are on the training rows (in-sample). Bootstrap: "
            f"{min(res.n_boot, importance.N_BOOT)} resamples stratified by label (each refits the forest)."],
            [("importance", f"importance for musical vs non-musical by {lab}",
              importance.rows(imp, names, res.importance_ci))],
            [("impurity vs permutation importance", "plots/importance.png")]))
    sens = res.sensitivity
    out.append(Section("Global sensitivity", [f"Method: {sens.method}."],
                       [("sensitivity", f"sensitivity indices of {lab}", sensitivity.rows(sens, names))]))
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in res.seconds.items())
    out.append(Section("Run", [f"seed {res.seed}; {timing}."]))
    return out


def _plots(res, out: Path) -> None:
    des, cl = res.design, res.clustering
    plots.scree(out / "plots/scree.png", res.pca.explained_ratio)
    plots.bic(out / "plots/bic.png", cl.bic, cl.k)
    plots.clusters(out / "plots/clusters.png", res.pca.scores, cl.labels, cl.musical, des.y, des.score.label)
    plots.cooks(out / "plots/cooks.png", res.ols.cooks, res.ols.cook_threshold)
    if res.importance is not None:
        imp = res.importance
        plots.importances(out / "plots/importance.png", des.coord_names, imp.impurity, imp.permutation_mean,
                          imp.permutation_sd)


def markdown(secs: list[Section], title: str) -> str:
    parts = [f"# {title}", ""]
    for s in secs:
        parts += [f"## {s.title}", ""] + [n + "\n" for n in s.notes]
        for name, caption, rows in s.tables:
            parts += [f"**{caption}**", "", format_table_markdown(rows, ".4g") if rows else "(none)", ""]
        parts += [f"![{c}]({h})\n" for c, h in s.figures]
    return "\n".join(parts)


def page(secs: list[Section], title: str, back: bool) -> str:
    from ..report.html import _CSS
    from ..report.tables import to_html

    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    if back:
        body.append('<p><a href="../index.html">back to the sweep report</a></p>')
    for s in secs:
        body.append(f"<h2>{e(s.title)}</h2>")
        body += [f"<p>{e(n).replace('**', '')}</p>" for n in s.notes]
        for name, caption, rows in s.tables:
            body.append(f'<h3>{e(caption)}</h3><div class="wide">{to_html(rows) if rows else "(none)"}</div>'
                        f'<p class="note"><a href="tables/{e(name)}.csv">{e(name)}.csv</a></p>')
        body += [f'<figure><img src="{e(h)}" alt="{e(c)}"><figcaption>{e(c)}</figcaption></figure>' for c, h in s.figures]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write(res, out: Path) -> Path:
    secs = sections(res)
    title = f"Parameter-space analysis of {', '.join(Path(p).name for p in res.design.paths)}: {res.design.score.key}"
    _plots(res, out)
    for s in secs:
        for name, _, rows in s.tables:
            write_text(out / "tables" / f"{name}.csv", format_table_csv(rows))
    write_text(out / "analysis.md", markdown(secs, title))
    return write_text(out / "index.html", page(secs, title, back=(out.parent / "index.html").exists()))
