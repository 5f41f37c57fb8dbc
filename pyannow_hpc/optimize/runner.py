"""The learning loop: ask -> evaluate over ranks -> tell -> checkpoint, resumable.

Every rank runs :func:`run`.  Gradient mode: every rank holds the same state
and takes the same jitted step (the allreduce is inside it); rank 0 writes.
Population modes (cmaes, nelder-mead, bo): rank 0 holds the optimiser, asks a
batch, broadcasts it, and the batch is evaluated by the sweep's dynamic
scheduler (parallel/scheduler.py) with its task isolation for crash-prone
backends; rank 0 tells the losses and writes.

After each iteration rank 0 flushes the ledger atomically.  Starting the same
command on an existing ledger (same config hash) resumes from its last
iteration's state: population states carry their RNG, so the continuation is
the uninterrupted trajectory bit for bit; gradient states are the float64
parameters and optax state, equal to what the uninterrupted run held.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import CRASH_PRONE_BACKENDS
from ..errors import ConfigError
from ..music.notes import NoteSequence
from ..store.ledger import DONE
from ..store.lock import ledger_lock
from ..parallel.comm import on_root
from ..parallel.isolation import Outcome, Task, TaskResult, run_chunk, run_isolated, run_task
from . import ledger as LG
from .config import OptimizeConfig
from .objective import Problem

_PROBLEMS: dict[str, Problem] = {}


def load_target(spec: str) -> NoteSequence:
    from ..music.target import load_target as lt

    return lt(None if spec in ("", "default") else spec)


def problem_for(cfg: OptimizeConfig, target: NoteSequence) -> Problem:
    """One Problem per config and target in this process (its jitted simulators are reused).
    Keyed by everything but the output paths: [evaluate] changes the scores, not the trajectory."""
    import dataclasses
    import json

    d = dataclasses.asdict(cfg)
    for k in ("output", "source", "text", "scheduler"):
        d.pop(k)
    key = json.dumps(d, sort_keys=True, default=str) + f"|{target.name}|{len(target)}"
    if key not in _PROBLEMS:
        _PROBLEMS[key] = Problem(cfg, target)
    return _PROBLEMS[key]


@dataclass(frozen=True)
class PointTask:
    """One population candidate: the mean training loss and scores of ``task.params``
    (unit-cube coordinates by label). Frozen so it pickles to ranks and children."""

    cfg: OptimizeConfig
    target: NoteSequence

    def __call__(self, task: Task) -> TaskResult:
        pb = problem_for(self.cfg, self.target)
        return TaskResult(pb.evaluate_training(_values(pb, task)))

    def batch(self, tasks) -> list[TaskResult]:
        """A generation's candidates at once (isolation.run_chunk): on the native
        backend all of them in one ``pw_simulate_batch`` call, bitwise ``__call__``'s scores."""
        pb = problem_for(self.cfg, self.target)
        return [TaskResult(m) for m in pb.evaluate_training_many([_values(pb, t) for t in tasks])]


def _values(pb: Problem, task: Task) -> np.ndarray:
    """A candidate's parameter values from its unit-cube coordinates (``task.params``, by label)."""
    return pb.space.values(np.array([task.params[k] for k in pb.space.labels]))


def make_method(pb: Problem, comm, prior):
    m = pb.cfg.method
    if m == "gradient":
        from .gradient import GradientMethod

        return GradientMethod(pb, comm, prior)
    if m == "cmaes":
        from .cmaes import CmaesMethod

        return CmaesMethod(pb)
    if m == "nelder-mead":
        from .nelder_mead import NelderMeadMethod

        return NelderMeadMethod(pb)
    from .bo import BoMethod

    return BoMethod(pb)


def open_ledger(cfg: OptimizeConfig, labels, force: bool) -> LG.OptLedger:
    """The ledger to continue (same config) or a fresh one; a foreign one is refused."""
    from ..store.provenance import provenance

    path = Path(cfg.output.ledger)
    if path.exists() and not force:
        led = LG.read(path)
        if led.attrs.get("config_hash") != cfg.config_hash():
            raise ConfigError(f"{path} was written by a different optimiser config (hash {led.attrs.get('config_hash')}, "
                              f"this one {cfg.config_hash()}); use another output.ledger or --force")
        return led
    attrs = provenance(config_hash=cfg.config_hash(), config_text=cfg.text, config_source=cfg.source,
                       method=cfg.method, backend=cfg.backend, model=cfg.model, target=cfg.target)
    return LG.OptLedger(path, tuple(labels), attrs)


def _prior(cfg: OptimizeConfig, pb: Problem):
    if not cfg.loss.prior or not cfg.loss.prior_weight:
        return None
    from .prior import load_prior

    return load_prior(cfg.loss.prior, pb.space.labels, cfg.loss.prior_weight)


def _eval_row(pb: Problem, u, iteration: int, metrics: dict, **extra) -> dict:
    row = {k: float(metrics.get(k, np.nan)) for k in LG.EVAL_SCALARS}
    row.update(iteration=iteration, u=np.asarray(u, float), values=np.asarray(pb.space.values(np.asarray(u)), float))
    row.update(extra)
    return row


def run(cfg: OptimizeConfig, *, comm, force: bool = False, progress: bool = True, stop_after: int | None = None):
    """Run (or resume) the optimiser; returns the ledger on rank 0, None elsewhere."""
    # Everything rank 0 does alone goes through on_root: its exception (a bad
    # target, a foreign ledger, a full disk at a flush) reaches every rank with
    # its exit code, instead of leaving the others waiting in the next collective.
    target = on_root(comm, load_target, cfg.target)
    pb = problem_for(cfg, target)
    prior = _prior(cfg, pb)
    method = make_method(pb, comm, prior)

    held = contextlib.ExitStack()  # rank 0: the ledger lock, for the whole run (a second job fails at once)

    def _open():
        held.enter_context(ledger_lock(cfg.output.ledger, "optimiser ledger"))
        led = open_ledger(cfg, pb.space.labels, force)
        state = led.last_state() if led.n_iterations else None
        return led, (method.initial_state() if state is None else state), led.n_iterations

    with held:
        # gradient mode: every rank steps the same state; population modes: rank 0 asks and tells
        led, state, start_it = on_root(comm, _open,
                                       share=lambda r: (None, r[1] if cfg.method == "gradient" else None, r[2]))
        return _iterate(cfg, pb, method, prior, comm, led, state, start_it, progress, stop_after)


def _iterate(cfg, pb, method, prior, comm, led, state, start_it: int, progress: bool, stop_after: int | None):
    """The loop of :func:`run` from iteration ``start_it``: ask/evaluate/tell (or a
    gradient step), then one flush per iteration."""
    rank = comm.Get_rank()
    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=cfg.budget.max_iterations, initial=start_it, desc=f"optimize {cfg.method}", unit="it")
    n_evals = len(led.evals) if rank == 0 else 0
    it = start_it
    runner = _gradient_iteration if cfg.method == "gradient" else _population_iteration

    def _go() -> bool:  # rank 0 decides for all
        go = it < cfg.budget.max_iterations and (stop_after is None or it - start_it < stop_after)
        return bool(go and not (cfg.budget.max_evaluations and n_evals >= cfg.budget.max_evaluations))

    def _record(rows, wall_s: float) -> int:
        led.add_iteration(it, rows, state, wall_s)
        led.flush()
        if bar:
            bar.update(1)
            bar.set_postfix(best=f"{led.iterations[-1]['best_loss']:.4f}")
        return len(led.evals)

    while on_root(comm, _go):  # the others sleep meanwhile (MPICH's bcast would spin a core)
        t0 = time.perf_counter()
        out = runner(cfg, pb, method, state, it, comm, prior)
        if out is None:
            break
        state, rows = out
        n_evals = on_root(comm, _record, rows, time.perf_counter() - t0, share=lambda n: 0)
        it += 1
    if bar:
        bar.close()
    return led


def _gradient_iteration(cfg, pb, method, state, it, comm, prior):
    t0 = time.perf_counter()
    state, evals = method.step(state, it)
    wall = time.perf_counter() - t0
    rows = []
    every = max(1, cfg.evaluate.metrics_every)
    for k, e in enumerate(evals):
        metrics = {"loss": e["loss"]}
        # scores with nulls cost a spiking run + shifts: for the first (or only) start, every few iterations
        if k == 0 and (it % every == 0 or it == cfg.budget.max_iterations - 1):  # the same on every rank
            scored = on_root(comm, pb.evaluate_training, pb.space.values(e["u"]), share=lambda m: {})
            metrics = {**scored, "loss": e["loss"]}
        rows.append(_eval_row(pb, e["u"], it, metrics, start=e["start"], rank=-1, seed=cfg.simulation.seed, wall_s=wall))
    return state, rows


def _population_iteration(cfg, pb, method, state, it, comm, prior):
    from ..parallel.scheduler import schedule

    rank = comm.Get_rank()
    us = on_root(comm, method.ask, state)
    if not us:
        return None
    fn = PointTask(cfg, pb.target)
    isolate = cfg.scheduler.isolate
    isolate = cfg.backend in CRASH_PRONE_BACKENDS if isolate == "auto" else bool(isolate)
    timeout = cfg.scheduler.task_timeout_s

    def with_rank(out: Outcome) -> Outcome:
        return Outcome(out.task_id, out.status, {**out.metrics, "rank": float(rank)}, out.onsets_s, out.pitches,
                       out.error, out.wall_s)

    def execute(task: Task) -> Outcome:
        return with_rank((run_isolated if isolate else run_task)(fn, task, timeout))

    tasks = [Task(i, dict(zip(pb.space.labels, map(float, u))), cfg.simulation.seed)
             for i, u in enumerate(us)]
    outcomes: dict[int, Outcome] = {}
    if comm.Get_size() == 1 and not isolate and cfg.backend == "native":
        # one rank: the whole generation through the task's batch entry (one threaded
        # native call); a failing set reruns the generation candidate by candidate
        outcomes = {o.task_id: with_rank(o) for o in run_chunk(fn, tasks, timeout)}
    else:
        # a worker's chunk through the batch entry as well (one threaded native call; guided
        # chunks: single candidates for a small generation, a few each for a large one)
        chunk = None if isolate or cfg.backend != "native" else \
            (lambda ts: [with_rank(o) for o in run_chunk(fn, ts, timeout)])
        schedule(tasks, execute, comm=comm, on_outcome=lambda o: outcomes.__setitem__(o.task_id, o),
                 execute_chunk=chunk, chunk_max=0 if chunk else 1)

    def _tell():  # rank 0: the generation's losses (plus the prior), then the optimiser's update
        rows, losses = [], []
        for i, u in enumerate(us):
            o = outcomes[i]
            m = dict(o.metrics) if o.status == DONE else {"loss": np.nan}
            if prior is not None and np.isfinite(m.get("loss", np.nan)):
                m["loss"] = m["loss"] + float(prior.penalty(pb.space.search_coords(pb.space.values(u))))
            losses.append(m.get("loss", np.nan))
            rows.append(_eval_row(pb, u, it, m, start=i, rank=int(m.get("rank", -1)), seed=cfg.simulation.seed,
                                  wall_s=o.wall_s))
        return method.tell(state, us, losses), rows

    told = on_root(comm, _tell, share=lambda r: None)
    return told if rank == 0 else (state, [])
