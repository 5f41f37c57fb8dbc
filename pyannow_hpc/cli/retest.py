"""Re-score a sweep's best points on time they were not selected on.

The best K points of the ledger (by its ranking score) are re-simulated with
the same pipeline and scored, with the same nulls, on the next windows of the
same piece (the worm keeps playing), on other noise seeds and on any other
target you name.  The rows go into the ledger's /retest group; `pyannow-hpc
report` then shows in-window (in-sample) and unseen columns side by side.

Examples:
  pyannow-hpc retest out/sweep.h5 --top 5
  pyannow-hpc retest out/sweep.h5 --top 3 --windows 5 --seeds 101 102 --target nocturne.mid
"""
from __future__ import annotations

HELP = "re-score a sweep's best points on later windows, other seeds and other targets (stored in the ledger)"


def add_arguments(p) -> None:
    from ..report.tables import RANK_KEYS

    p.add_argument("ledger", metavar="LEDGER", help="a sweep ledger (HDF5); /retest is written into it")
    p.add_argument("--top", metavar="K", type=int, default=5, help="how many best points to retest (default: %(default)s)")
    p.add_argument("--windows", metavar="N", type=int, default=3,
                   help="later windows of the same length to score (fewer if the piece ends; default: %(default)s)")
    p.add_argument("--seeds", metavar="SEED", type=int, nargs="*", default=[1001, 1002],
                   help="other noise seeds, scored on the sweep's window (default: %(default)s)")
    p.add_argument("--target", metavar="PATH", action="append", default=[],
                   help="another score (MIDI, MusicXML, kern) to play the points against (repeatable)")
    p.add_argument("--rank-by", default=None, choices=tuple(RANK_KEYS),
                   help="which points are best (default: the ledger's rank_by, else shift_excess with a minimum note count)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..errors import ConfigError

    if args.top < 1 or args.windows < 0:
        raise ConfigError("--top must be >= 1 and --windows >= 0")
    from ..music.metrics import format_table_markdown
    from ..report.retest import retest, side_by_side

    rows = retest(args.ledger, top_k=args.top, n_windows=args.windows, seeds=args.seeds, targets=args.target,
                  rank_by=args.rank_by, progress=not args.no_progress)
    print(format_table_markdown(side_by_side(rows)))
    print(f"retest: {len(rows)} scores of {len({r['task'] for r in rows})} points written to {args.ledger} (/retest)")
    return 0
