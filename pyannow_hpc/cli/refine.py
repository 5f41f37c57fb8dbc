"""The fidelity ladder: re-run a sweep's best surrogate points on the real simulator.

    pyannow-hpc refine out/sweep_small.h5 --top 4 --backend c302
    mpiexec -n 2 pyannow-hpc refine out/sweep_small.h5 --top 4 --backend c302 --duration-s 1

Rank 0 reads the ledger and picks the best K done tasks (--by, default the
one-to-one F1), each rebuilt as the sweep ran it (parameters, seed, backend,
dt, integrator, onset detector, window); the ranks share them round-robin.
Each task runs on the sweep's surrogate and on the real simulator, and the
gap is measured: onset F1 (beside its chance level) and note rate of each,
and the per-muscle correlation of V envelopes (V smoothed over
--envelope-ms). Results go into the ledger's /refine group, which a resumed
sweep keeps and the report shows. The logic lives in pyannow_hpc.parallel.refine.
"""
from __future__ import annotations

HELP = "re-run the best K surrogate points of a sweep ledger on C302 (or the container) and report the gap"


def add_arguments(p) -> None:
    from ..parallel.refine import RANK_BY, REAL_BACKENDS

    p.add_argument("ledger", help="sweep ledger (HDF5) written by `pyannow-hpc sweep`")
    p.add_argument("--top", type=int, default=4, metavar="K", help="how many of the best done tasks (default 4)")
    p.add_argument("--backend", default="c302", choices=REAL_BACKENDS, help="the real simulator (default c302)")
    p.add_argument("--by", default="f1_mireval", choices=tuple(RANK_BY), help="rank tasks by this metric")
    p.add_argument("--duration-s", type=float, default=None,
                   help="simulated window (default: the sweep's duration); C302 costs ~6-20 s per simulated s")
    p.add_argument("--dt-ms", type=float, default=0.05, help="time step of the real simulator (default 0.05 ms)")
    p.add_argument("--envelope-ms", type=float, default=50.0, help="V envelope smoothing window (default 50 ms)")
    p.add_argument("--task-timeout-s", type=float, default=3600.0, help="per task limit (default 3600 s)")


def _refine(args) -> int:
    import sys

    from ..parallel.comm import world
    from ..music.metrics import format_table_markdown
    from ..parallel.refine import RefineOptions, refine_rows, run_refine

    opts = RefineOptions(args.ledger, args.top, args.by, args.backend, args.duration_s, args.dt_ms,
                         args.envelope_ms, args.task_timeout_s)
    outcomes = run_refine(opts, comm=world(), log=lambda msg: print(msg, file=sys.stderr, flush=True))
    if outcomes is None:  # not rank 0
        return 0
    from ..store.ledger import read_ledger
    from ..store.tasks import TaskStatus

    led = read_ledger(args.ledger)  # what was written, as the report will read it
    print(format_table_markdown(refine_rows(led, [o.task_id for o in outcomes])))
    ok = [o for o in outcomes if o.status == TaskStatus.DONE]
    print(f"refine: {len(ok)} of {len(outcomes)} ok -> {args.ledger}:/refine", file=sys.stderr)
    return 0 if ok else 3


def run(args) -> int:
    from ..parallel.comm import world
    from ._common import error_on_rank0_only

    return error_on_rank0_only(world(), _refine, args)
