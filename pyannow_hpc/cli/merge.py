"""Join the shard ledgers of an array job into one ledger.

    pyannow-hpc merge out/sweep.h5 out/sweep.shard0.h5 out/sweep.shard1.h5 ...

The shards must come from the same sweep config (same config hash) and must
not overlap; tasks are sorted by task id. Shards still missing are allowed and
reported (the merged ledger then covers only the tasks present).
"""
from __future__ import annotations

HELP = "merge the shard ledgers of an array job into one ledger"


def add_arguments(p) -> None:
    p.add_argument("out", help="merged ledger to write (.h5)")
    p.add_argument("inputs", nargs="+", help="shard ledgers")


def run(args) -> int:
    from ..store.merge import merge_ledgers

    summary = merge_ledgers(args.out, args.inputs)
    print(summary)
    return 0
