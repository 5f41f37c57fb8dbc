"""Does the optimiser's smooth loss rank worms like the honest scores do?

Over the finished points of a sweep ledger, the optimiser's loss (1 - soft
Dice of the blurred onset densities, :func:`loss.loss_from_onsets`, the loss
the population methods minimise on non-JAX backends) is computed from each
point's stored onsets, at offset 0 and at the best global offset in the
optimiser's default range, and ranked against the ledger's one-to-one F1
(mir_eval), its shift-null excess and z, with Spearman's rho
(:func:`scipy.stats.spearmanr`).  The sweep's own MSE-style ``onset_loss`` is
ranked too, for comparison.  No simulation: the onsets are the ones the
ledger scored.

    python -m pyannow_hpc.optimize.spearman out/sweep_boyle.h5
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from .config import LossConfig
from ..music.alignment import MIN_NOTES  # the report's "too few notes to score" cut
from .loss import loss_from_onsets

#: (ledger metric, label, higher is better)
AGAINST = (("f1_mireval", "F1 (mir_eval one-to-one, +-50 ms)", True),
           ("shift_excess", "shift-null excess (F1 - shift-null mean)", True),
           ("shift_z", "shift-null z", True))
N_OFFSETS = 11
#: the offset range of examples/optimize_*.toml (s)
OFFSET_RANGE_S = (-0.25, 0.25)


def smooth_losses(path, loss_cfg: LossConfig = LossConfig(), n_offsets: int = N_OFFSETS):
    """(rows, loss at offset 0, loss at the best offset, ledger) over the finished rows of a sweep ledger."""
    from ..store.ledger import read_ledger
    from ..store.tasks import TaskStatus

    led = read_ledger(path)
    start, dur = float(led.attrs.get("window_start_s", 0.0)), float(led.attrs["duration_s"])
    tgt = led.target.window(start, start + dur)
    rows = np.flatnonzero(led.status == int(TaskStatus.DONE))
    offsets = np.linspace(*OFFSET_RANGE_S, n_offsets) if n_offsets > 1 else np.zeros(1)
    at0, best = [], []
    for r in rows:
        on, pi = np.asarray(led.onsets_s[r], float), np.asarray(led.pitches[r], int)
        ls = [loss_from_onsets(on, pi, tgt.onset_s, tgt.pitch, dur, grid_s=loss_cfg.grid_s, sigma_s=loss_cfg.sigma_s,
                               offset_s=float(o), pitch_aware=loss_cfg.pitch_aware) for o in np.append(0.0, offsets)]
        at0.append(ls[0])
        best.append(min(ls))
    return rows, np.array(at0), np.array(best), led


def spearman_table(path, n_offsets: int = N_OFFSETS) -> list[dict]:
    """One row per (loss, score): Spearman rho of -loss against the score (positive = the loss ranks like the score)."""
    from scipy.stats import spearmanr

    rows, at0, best, led = smooth_losses(path, n_offsets=n_offsets)
    losses = {"optimiser loss (1 - soft Dice), offset 0": at0,
              f"optimiser loss, best offset in {list(OFFSET_RANGE_S)} s": best,
              "sweep onset_loss (blurred-grid MSE)": led.metrics["onset_loss"][rows]}
    n_worm = led.metrics["n_worm"][rows]
    out = []
    for subset, keep in (("all", np.ones(len(rows), bool)), (f">= {MIN_NOTES} notes", n_worm >= MIN_NOTES)):
        for lname, lv in losses.items():
            for key, label, higher in AGAINST:
                y = led.metrics[key][rows] * (1 if higher else -1)
                ok = keep & np.isfinite(lv) & np.isfinite(y)
                res = spearmanr(-lv[ok], y[ok]) if ok.sum() >= 3 else None
                out.append({"points": subset, "loss": lname, "score": label, "n": int(ok.sum()),
                            "rho": float(res.statistic) if res else np.nan, "p": float(res.pvalue) if res else np.nan})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyannow_hpc.optimize.spearman", description=__doc__.split("\n\n")[0])
    ap.add_argument("ledger", help="a finished sweep ledger (pyannow-hpc sweep)")
    ap.add_argument("--n-offsets", type=int, default=N_OFFSETS, help="offsets tried for the best-offset loss (default 11)")
    args = ap.parse_args(argv)
    from ..errors import PyannowError

    try:
        table = spearman_table(args.ledger, args.n_offsets)
    except (PyannowError, OSError, KeyError) as exc:
        print(f"pyannow-hpc: error: {args.ledger}: {exc}", file=sys.stderr)
        return 2
    print(f"Spearman rho of -loss against each score over the finished points of {args.ledger}")
    print("| points | loss | score | n | rho | p |\n|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['points']} | {r['loss']} | {r['score']} | {r['n']} | {r['rho']:+.3f} | {r['p']:.2g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
