"""Render a sweep ledger into a report folder: WAVs of the best K parameter sets
and of the target, an F1 table (Markdown + CSV, both F1 metrics labelled),
plots (loss histogram, parameter scatter, piano roll) and one HTML page.

Nothing is re-simulated: the worm's notes come from the onsets and pitches the
ledger stores for every task.

Example:
  pyannow-hpc report out/sweep.h5 --out out/sweep_report --top 5
"""
from __future__ import annotations

HELP = "render a sweep ledger (HDF5) into WAVs, F1 tables, plots and an HTML page"


def add_arguments(parser) -> None:
    parser.add_argument("ledger", metavar="LEDGER", help="the sweep's HDF5 ledger")
    parser.add_argument("--out", metavar="DIR", default=None, help="report folder (default: LEDGER's name + _report, next to it)")
    parser.add_argument("--top", metavar="K", type=int, default=5, help="how many best parameter sets to render (default 5)")
    parser.add_argument(
        "--rank-by", default=None, choices=("shift_excess", "f1", "shift_z", "onset_loss", "f1_mireval", "f1_seed", "pitch_f1"),
        help="score that picks the best K (default: the ledger's rank_by, else shift_excess = one-to-one F1 minus "
             "the mean F1 of the worm's own shifted onsets, fewer than min_notes notes last; f1 and shift_z the same "
             "with the plain F1 or the z; onset_loss ranks lowest first and a silent worm wins it)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..optimize.page import is_optimize_ledger, report_ledger
    from ..report.render import default_out_dir, render
    from ..store.atomic import check_output_dir

    # the report folder is ours to fill: not a symlink, a file or a device
    check_output_dir(args.out if args.out is not None else default_out_dir(args.ledger))
    if is_optimize_ledger(args.ledger):  # an optimiser ledger: its table and page (optimize/page.py)
        print(report_ledger(args.ledger, args.out))
        return 0
    index = render(args.ledger, args.out, top_k=args.top, progress=not args.no_progress, rank_by=args.rank_by)
    print(f"report: {index}")
    return 0
