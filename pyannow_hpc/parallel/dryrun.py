"""``pyannow-hpc sweep --dry-run``: everything a run would trip over, without running it.

Beyond :func:`~pyannow_hpc.parallel.sweep.plan` (config, ledger, target):

- the backend's module imports (jax, the native library);

- every output path: the ledger (a regular file or absent, writable folder,
  not locked) and, when the config asks for a report, its report folder;
- one *short* task (:data:`PROBE_DURATION_S` of simulated time, in a child
  process with a timeout) when the backend needs something that can be
  missing on this node: a container runtime and image, NEURON and
  jNeuroML (``config.CRASH_PRONE_BACKENDS``), or a ``--task`` callable. A
  failure there is the error the whole sweep would have ended with.
"""
from __future__ import annotations

import dataclasses

from ..config import CRASH_PRONE_BACKENDS, SweepConfig
from ..errors import ConfigError, SimulationError
from ..store import ledger as L
from ..store.atomic import check_creatable_dir, check_output_file

#: simulated seconds of the probe task (its parameters are the design's first point)
PROBE_DURATION_S = 0.2
#: a probe must finish within this (or the config's task timeout, if shorter)
PROBE_TIMEOUT_S = 120.0


def check_outputs(cfg: SweepConfig) -> None:
    check_output_file(cfg.output.ledger)
    if cfg.output.report and cfg.shard.count == 1:
        check_creatable_dir(cfg.report_dir)


def probe_task(cfg: SweepConfig, led: L.LedgerData, task_fn=None) -> str:
    """Run the first task, shortened, isolated; SimulationError with its message if it fails."""
    from .isolation import Task, run_isolated
    from .pipeline_task import PipelineTask

    short = dataclasses.replace(cfg.simulation, duration_s=min(cfg.simulation.duration_s, PROBE_DURATION_S))
    fn = task_fn or PipelineTask.from_config(dataclasses.replace(cfg, simulation=short), led.target)
    params = {**cfg.fixed_params, **dict(zip(led.param_names, map(float, led.params[0])))}
    timeout_s = min(PROBE_TIMEOUT_S, cfg.scheduler.task_timeout_s)
    out = run_isolated(fn, Task(int(led.task_ids[0]), params, int(led.seeds[0])), timeout_s=timeout_s)
    if out.status != L.DONE:
        raise SimulationError(f"{cfg.source}: dry run: a short task ({short.duration_s:g} s, backend "
                              f"{cfg.backend}) failed, as every task would: {out.error}")
    return f"probe task ({short.duration_s:g} s, backend {cfg.backend}) ran in {out.wall_s:.2f} s"


def check_backend(cfg: SweepConfig) -> None:
    """The backend's module imports here (jax, the native library): else every task would fail."""
    from ..worm import backend_module

    try:
        backend_module(cfg.backend)
    except ImportError as exc:
        raise ConfigError(f"{cfg.source}: backend {cfg.backend!r} cannot be loaded here: {exc}") from None


def dry_run(cfg: SweepConfig, *, size: int = 1, force: bool = False, task_fn=None) -> str:
    from .sweep import describe_plan, plan

    check_outputs(cfg)
    if task_fn is None:
        check_backend(cfg)
    led = plan(cfg, size=size, force=force)
    text = describe_plan(cfg, led)
    if len(led) and (cfg.backend in CRASH_PRONE_BACKENDS or task_fn is not None):
        text += "\n" + probe_task(cfg, led, task_fn)
    return text
