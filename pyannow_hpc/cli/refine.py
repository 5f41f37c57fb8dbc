"""The fidelity ladder: re-run a sweep's best surrogate points on the real simulator.

    pyannow-hpc refine out/sweep_small.h5 --top 4 --backend c302
    mpiexec -n 2 pyannow-hpc refine out/sweep_small.h5 --top 4 --backend c302 --duration-s 1

Rank 0 reads the ledger, picks the best K done tasks (``--by``, default the
one-to-one F1), and deals them round-robin to the ranks (task i on rank
i mod size: K long, similar tasks balance best statically).
Each task runs the point twice over the same window: the sweep's surrogate
(its backend, dt, integrator and onset detector) and the real simulator (the
threshold detector on its spikes), and measures the gap:

- onset F1 and note rate of each (mir_eval one-to-one and seed any-match);
- the correlation of muscle activity: per muscle, the Pearson correlation of
  the V envelopes (V smoothed over ``--envelope-ms``) on the common 1 kHz grid,
  averaged over the muscles where both traces vary (C302 has no MVL24).

Results go into the ledger's ``/refine`` group, one subgroup per task id
(attrs: every metric as ``surrogate.<key>``, ``<backend>.<key>``, ``gap.<key>``;
datasets: the real simulator's ``onsets_s``/``pitches``), written atomically
(copy, update, fsync, replace).  Run it after the sweep has finished: a
resumed sweep rewrites the ledger without ``/refine``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

HELP = "re-run the best K surrogate points of a sweep ledger on C302 (or the container) and report the gap"

REAL_BACKENDS = ("c302", "container")
#: --by choices: metric -> True when higher is better
RANK_BY = {"f1_mireval": True, "f1_seed": True, "pitch_f1": True, "onset_loss": False}


def add_arguments(p) -> None:
    p.add_argument("ledger", help="sweep ledger (HDF5) written by `pyannow-hpc sweep`")
    p.add_argument("--top", type=int, default=4, metavar="K", help="how many of the best done tasks (default 4)")
    p.add_argument("--backend", default="c302", choices=REAL_BACKENDS, help="the real simulator (default c302)")
    p.add_argument("--by", default="f1_mireval", choices=tuple(RANK_BY), help="rank tasks by this metric")
    p.add_argument("--duration-s", type=float, default=None,
                   help="simulated window (default: the sweep's duration); C302 costs ~6-20 s per simulated s")
    p.add_argument("--dt-ms", type=float, default=0.05, help="time step of the real simulator (default 0.05 ms)")
    p.add_argument("--envelope-ms", type=float, default=50.0, help="V envelope smoothing window (default 50 ms)")
    p.add_argument("--task-timeout-s", type=float, default=3600.0, help="per task limit (default 3600 s)")


@dataclass(frozen=True)
class RefineTask:
    """One point on both rungs of the ladder (picklable: sent to every rank)."""

    target: object  # NoteSequence
    model: str
    surrogate_backend: str
    surrogate_dt_ms: float
    integrator: str
    surrogate_onsets: str
    real_backend: str
    real_dt_ms: float
    duration_s: float
    window_start_s: float
    envelope_ms: float

    def __call__(self, task):
        import numpy as np

        from ..parallel.isolation import TaskResult
        from ..pipeline import score_notes
        from ..worm import simulate
        from ..worm.onsets import extract_notes

        window = self.target.window(self.window_start_s, self.window_start_s + self.duration_s)
        common = dict(model=self.model, duration_s=self.duration_s, seed=task.seed, sample_rate_hz=1000.0)
        sur = simulate(task.params, backend=self.surrogate_backend, dt_ms=self.surrogate_dt_ms,
                       integrator=self.integrator, **common)
        real = simulate(task.params, backend=self.real_backend, dt_ms=self.real_dt_ms, **common)
        notes_s = extract_notes(sur, method=self.surrogate_onsets)
        notes_r = extract_notes(real, method="threshold")
        # each F1 with its nulls (shift z, uniform chance, metronome, beat ceiling)
        m_s, _ = score_notes(notes_s, window, self.duration_s, null_seed=task.seed)
        m_r, _ = score_notes(notes_r, window, self.duration_s, null_seed=task.seed)
        corr = envelope_correlation(sur.t_ms, sur.v_mV, real.t_ms, real.v_mV, self.envelope_ms)
        metrics = {f"surrogate.{k}": v for k, v in m_s.items()}
        metrics.update({f"{self.real_backend}.{k}": v for k, v in m_r.items()})
        finite = corr[~np.isnan(corr)]
        metrics.update({
            "gap.f1_mireval": m_r["f1_mireval"] - m_s["f1_mireval"],
            "gap.rate_hz": m_r["worm_rate_hz"] - m_s["worm_rate_hz"],
            "gap.corr_v_envelope": float(finite.mean()) if len(finite) else math.nan,
            "gap.n_muscles_correlated": float(len(finite)),
            # the sweep's task runner requires these two to be finite: the real rung's
            "f1_mireval": m_r["f1_mireval"],
            "onset_loss": m_r["onset_loss"],
        })
        return TaskResult(metrics, notes_r.onset_s, notes_r.pitch)


def envelope_correlation(t_a, v_a, t_b, v_b, envelope_ms: float):
    """Per-muscle Pearson correlation of V envelopes on the common time grid.

    Both traces are interpolated onto a 1 ms grid over their common span and
    smoothed with a ``envelope_ms`` moving average (the slow shape of the
    activity, which is what two very different cell models can share).  NaN
    where a muscle is missing (C302's MVL24) or flat in either model.
    """
    import numpy as np
    from scipy.ndimage import uniform_filter1d

    t = np.arange(max(t_a[0], t_b[0]), min(t_a[-1], t_b[-1]) + 1e-9, 1.0)
    out = np.full(v_a.shape[1], np.nan)
    if len(t) < 3:
        return out
    width = max(1, int(round(envelope_ms)))
    for j in range(v_a.shape[1]):
        a = np.interp(t, t_a, np.asarray(v_a[:, j], dtype=float))
        b = np.interp(t, t_b, np.asarray(v_b[:, j], dtype=float))
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        a, b = uniform_filter1d(a, width, mode="nearest"), uniform_filter1d(b, width, mode="nearest")
        sa, sb = a.std(), b.std()
        if sa > 1e-9 and sb > 1e-9:
            out[j] = float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))
    return out


def pick_top(led, k: int, by: str) -> list[int]:
    """Rows of the best ``k`` done tasks by ``by`` (ties: lower task id first)."""
    import numpy as np

    from ..store.ledger import DONE

    vals = led.metrics.get(by)
    rows = np.flatnonzero((led.status == DONE) & np.isfinite(vals)) if vals is not None else np.zeros(0, int)
    key = -vals[rows] if RANK_BY[by] else vals[rows]
    order = np.lexsort((np.asarray(led.task_ids)[rows], key))
    return [int(r) for r in rows[order][:k]]


def write_refine(path, attrs: Mapping[str, object], outcomes) -> None:
    """Merge ``outcomes`` into ``/refine/<task_id>`` of the ledger, atomically."""
    import shutil

    import h5py
    import numpy as np

    from ..store.atomic import atomic_path

    with atomic_path(path, suffix=".h5") as tmp:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "a") as f:
            g = f.require_group("refine")
            for k, v in attrs.items():
                g.attrs[k] = v
            for out in outcomes:
                name = str(out.task_id)
                if name in g:
                    del g[name]
                t = g.create_group(name)
                t.attrs["status"] = int(out.status)
                t.attrs["error"] = out.error
                t.attrs["wall_s"] = float(out.wall_s)
                for k, v in out.metrics.items():
                    t.attrs[k] = float(v)
                t.create_dataset("onsets_s", data=np.asarray(out.onsets_s, dtype=np.float64))
                t.create_dataset("pitches", data=np.asarray(out.pitches, dtype=np.int16))


def read_refine(path) -> dict[int, dict]:
    """``{task_id: {"status", "error", metric keys..., "onsets_s", "pitches"}}`` from ``/refine``."""
    import h5py

    out: dict[int, dict] = {}
    with h5py.File(path, "r") as f:
        if "refine" not in f:
            return out
        for name, grp in f["refine"].items():
            rec = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in grp.attrs.items()}
            rec["onsets_s"], rec["pitches"] = grp["onsets_s"][()], grp["pitches"][()]
            out[int(name)] = rec
    return out


def _table(outcomes, params_of, backend: str) -> str:
    from ..music.metrics import metric_label

    f1 = metric_label("f1_mireval")
    rows = [f"| task | parameters | {f1}: surrogate | {backend} | z vs own shifts: surrogate | {backend} "
            f"| uniform chance F1: surrogate | {backend} | best metronome F1 at count: surrogate | {backend} "
            "| note rate (1/s): surrogate | {backend} | corr(V envelope) |".replace("{backend}", backend),
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for out in sorted(outcomes, key=lambda o: o.task_id):
        params = ", ".join(f"{k}={v:.4g}" for k, v in params_of[out.task_id].items())
        if out.status != 1:
            rows.append(f"| {out.task_id} | {params} | failed: {out.error[:80]} | | | | | | | | | | |")
            continue
        m = out.metrics
        pair = lambda k, fmt: f"{m[f'surrogate.{k}']:{fmt}} | {m[f'{backend}.{k}']:{fmt}}"  # noqa: E731
        rows.append(f"| {out.task_id} | {params} | {pair('f1_mireval', '.3f')} | {pair('shift_z', '+.2f')} "
                    f"| {pair('uniform_mean', '.3f')} | {pair('metronome_f1', '.3f')} "
                    f"| {m['surrogate.worm_rate_hz']:.2f} | {m[f'{backend}.worm_rate_hz']:.2f} "
                    f"| {m['gap.corr_v_envelope']:.3f} |")
    return "\n".join(rows)


def run(args) -> int:
    import sys

    from ..config import loads_config
    from ..parallel.comm import idle_barrier, world
    from ..parallel.isolation import Task, run_task
    from ..errors import ConfigError, PyannowError
    from ..store.ledger import read_ledger
    from ..store.provenance import utc_now

    comm = world()
    rank, size = comm.Get_rank(), comm.Get_size()
    plan = None
    if rank == 0:
        try:
            if args.top < 1:
                raise ConfigError(f"--top must be >= 1, got {args.top}")
            for name in ("dt_ms", "envelope_ms", "task_timeout_s"):
                v = getattr(args, name)
                if not (math.isfinite(v) and v > 0):
                    raise ConfigError(f"--{name.replace('_', '-')} must be a finite number > 0, got {v}")
            led = read_ledger(args.ledger)
            cfg = loads_config(led.attrs.get("config_text", ""), source=f"{args.ledger}:/config_text")
            if led.target is None:
                raise ConfigError(f"{args.ledger} stores no target score (/target): re-run the sweep")
            duration = cfg.simulation.duration_s if args.duration_s is None else args.duration_s
            if not (math.isfinite(duration) and duration > 0):
                raise ConfigError(f"--duration-s must be a finite number > 0, got {duration}")
            rows = pick_top(led, args.top, args.by)
            if not rows:
                raise ConfigError(f"{args.ledger} has no done task with a finite {args.by} to refine")
            fixed = cfg.fixed_params
            tasks = [Task(int(led.task_ids[r]), {**fixed, **dict(zip(led.param_names, map(float, led.params[r])))},
                          int(led.seeds[r])) for r in rows]
            fn = RefineTask(led.target, cfg.model, cfg.backend, cfg.simulation.dt_ms, cfg.simulation.integrator,
                            cfg.simulation.onset_method, args.backend, args.dt_ms, duration, cfg.simulation.start_s,
                            args.envelope_ms)
            plan = ("ok", fn)
            print(f"refine: {len(tasks)} best of {len(led)} tasks by {args.by}, {cfg.backend} -> {args.backend}, "
                  f"{duration:g} s each, {size} rank(s)", file=sys.stderr, flush=True)
        except PyannowError as exc:
            plan = ("error", exc)
        except BaseException as exc:  # a bug here must not leave the other ranks waiting in bcast
            comm.bcast(("error", PyannowError(f"rank 0 failed: {exc!r}")), root=0)
            raise
    verdict, payload = comm.bcast(plan, root=0)
    if verdict == "error":
        if rank == 0:
            raise payload
        return payload.exit_code
    # A static round-robin split, not the sweep's dynamic scheduler: refine
    # runs a few long, similar tasks, and the scheduler's prefetch lets one
    # worker reserve two of them while another rank idles (measured: a 2-task
    # C302 sweep on 2 ranks ran both tasks on rank 1).
    fn = payload
    mine = comm.bcast(tasks if rank == 0 else None, root=0)[rank::size]
    done_here = [run_task(fn, task, timeout_s=args.task_timeout_s) for task in mine]
    idle_barrier(comm)  # ranks that finish early sleep instead of spinning in gather
    gathered = comm.gather(done_here, root=0)
    if rank != 0:
        return 0
    outcomes = [o for part in gathered for o in part]
    attrs = {"backend": args.backend, "surrogate_backend": cfg.backend, "model": cfg.model, "ranked_by": args.by,
             "top_k": args.top, "duration_s": duration, "dt_ms": args.dt_ms, "surrogate_dt_ms": cfg.simulation.dt_ms,
             "surrogate_onset_method": cfg.simulation.onset_method, "onset_method": "threshold",
             "envelope_ms": args.envelope_ms, "mpi_size": size, "updated_utc": utc_now()}
    write_refine(args.ledger, attrs, outcomes)
    print(_table(outcomes, {t.task_id: t.params for t in tasks}, args.backend))
    ok = [o for o in outcomes if o.status == 1]
    print(f"refine: {len(ok)} of {len(outcomes)} ok -> {args.ledger}:/refine", file=sys.stderr)
    return 0 if ok else 3
