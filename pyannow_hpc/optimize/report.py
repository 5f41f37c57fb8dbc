"""The end of a run: the result table (Markdown, CSV, ledger), loss curve,
landscape plots, the prior's verdict; returns the text printed to stdout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..store.atomic import prepare_dir, write_text
from . import result as R
from .config import OptimizeConfig
from .runner import load_target, problem_for


def _loss_curve(led, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..store.atomic import atomic_path

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(led.column("loss"), ".", ms=3, label="evaluations")
    ax.plot([r["iteration"] for r in led.iterations], [r["best_loss"] for r in led.iterations], "-", label="best so far")
    ax.set_xlabel("evaluation / iteration")
    ax.set_ylabel("loss (1 - soft Dice)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out / "loss_curve.png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return out / "loss_curve.png"


def finish(cfg: OptimizeConfig, led, table: bool = True) -> str:
    best = led.best()
    if best is None:
        return "no finite evaluation: nothing to report"
    pb = problem_for(cfg, load_target(cfg.target))
    lines = [f"{cfg.method}: {len(led.evals)} evaluations over {led.n_iterations} iterations; best loss {best['loss']:.4f}",
             "best point: " + ", ".join(f"{k} = {v:.4g}" for k, v in zip(pb.space.labels, best["values"]))]
    rep, prior_names = None, ()
    if cfg.loss.prior and cfg.loss.prior_weight:
        from .prior import load_prior

        prior = load_prior(cfg.loss.prior, pb.space.labels, cfg.loss.prior_weight)
        rep, prior_names = prior.report(pb.space.search_coords(best["values"])), prior.names
        led.result["prior"] = json.dumps(rep)
        lines.append(f"prior: optimum at Mahalanobis distance {rep['prior_mahalanobis']:.2f} from theta_bar; "
                     f"{'inside' if rep['prior_inside_95'] else 'outside'} the 95% region")
    if table:
        out = prepare_dir(cfg.report_dir)
        heldout = load_target(cfg.evaluate.heldout) if cfg.evaluate.heldout else None
        rows = R.result_table(pb, best["u"], heldout)
        md = R.markdown(rows) + "\n" + R.verdict(rows) + "\n"
        write_text(out / "result.md", md)
        write_text(out / "result.csv", R.csv_text(rows))
        led.result.update(table_markdown=md, table_json=json.dumps(rows, default=float))
        _loss_curve(led, out)
        if cfg.evaluate.landscape_points:
            from .landscape import landscape

            landscape(pb, best["u"], cfg.evaluate.landscape_points, cfg.evaluate.landscape_pairs, out)
        from .page import render_page

        page = render_page(cfg, pb, led, best, rows, R.verdict(rows), rep, prior_names, out)
        lines += ["", md, f"table, plots: {out}/", f"report: {page}"]
    led.flush()
    return "\n".join(lines)
