"""Sweep configuration: frozen dataclasses loaded from TOML, validated at the edge.

A sweep file (see ``examples/sweep_small.toml``) looks like::

    backend = "native"          # native | jax | numpy | c302 | container
    model = "boyle2008"         # default; or "pyannow" (the seed's cell)
    target = "default"          # or a MIDI / MusicXML / kern path
    ignore_unmapped = false     # c302/container: run although some varied parameters have no C302 counterpart

    [sampler]
    method = "sobol"            # sobol | lhs | grid | random
    n_samples = 32
    seed = 0

    [params]                    # the parameters that vary
    g_egl19 = { range = [1.0, 20.0], scale = "log" }
    tau_ca_ms = { range = [5.0, 40.0] }       # scale: the parameter's own default

    [fixed]                     # parameters held at a value other than the default
    noise_sd_uA = 0.3

    [simulation]  start_s, duration_s, dt_ms, integrator, onset_method, burn_in_s
    [scheduler]   chunk_size, task_timeout_s, isolate, rank0_works, retry_failed, allow_failures
    [output]      ledger, report, report_dir, top_k, flush_every_s, rank_by, min_notes
    [shard]       index, count     (array jobs; `--shard i/n` overrides)

Every key is checked: an unknown key gets a "did you mean" hint, an unknown
parameter, an empty or inverted range, or a range outside the model's bounds
is a :class:`~pyannow_hpc.errors.ConfigError` naming the file and the key.
Relative paths are relative to the current directory (where the job runs).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError, ParameterError
from .tomlschema import _section, _typed, _unknown, loads_toml, read_config_text
from .worm import DEFAULT_MODEL, INTEGRATORS, default_onset_method


SAMPLERS = ("sobol", "lhs", "grid", "random")
ONSET_METHODS = ("crest", "threshold")
#: report ranking keys (music.alignment.RANK_BY + the smooth loss, labelled for what it rewards)
RANK_BY = ("shift_excess", "f1", "shift_z", "onset_loss")
#: backends that can take the whole process down (NEURON, container runtimes):
#: with ``isolate = "auto"`` their tasks run in a child process with a timeout
CRASH_PRONE_BACKENDS = ("c302", "container")


@dataclass(frozen=True)
class ParamRange:
    """One varying parameter: sampled over [lower, upper], linearly or in log."""

    name: str
    lower: float
    upper: float
    scale: str = "linear"  # "linear" | "log"
    points: int = 0  # grid sampler: points along this axis (0 = from n_samples)


@dataclass(frozen=True)
class SamplerConfig:
    method: str = "sobol"
    n_samples: int = 32
    seed: int = 0


@dataclass(frozen=True)
class SimulationConfig:
    start_s: float = 0.0  # target window start: the worm is scored on [start, start+duration)
    duration_s: float = 10.0
    dt_ms: float = 0.5
    integrator: str = "exponential"
    onset_method: str = "auto"  # auto = the model's natural detector (worm.default_onset_method)
    burn_in_s: float = 2.0  # simulated, then discarded before scoring (pipeline.DEFAULT_BURN_IN_S); 0 = none


@dataclass(frozen=True)
class SchedulerConfig:
    chunk_size: int = 0  # largest chunk handed to a worker; 0 = adaptive (guided <= 16, floor from rank 0 load)
    task_timeout_s: float = 600.0
    isolate: str | bool = "auto"  # run each task in a child process; auto = crash-prone backends
    rank0_works: str | bool = "auto"  # auto = rank 0 also computes when size <= 8
    retry_failed: bool = False  # on resume, also recompute tasks that failed
    allow_failures: int = 0  # failed tasks a run may end with and still exit 0 (else exit 8)


@dataclass(frozen=True)
class OutputConfig:
    ledger: str = "out/sweep.h5"
    report: bool = False
    report_dir: str = ""  # "" = <ledger without .h5>_report
    top_k: int = 5
    flush_every_s: float = 2.0  # ledger flush period (grows to stay under ~10% of the run)
    # report ranking: shift_excess (F1 - own-shift null mean) | f1 | shift_z (all need >= min_notes notes)
    # | onset_loss (silence wins it); music/alignment.py says why shift_excess is the default
    rank_by: str = "shift_excess"
    min_notes: int = 10  # fewer worm notes in the window rank last


@dataclass(frozen=True)
class ShardConfig:
    index: int = 0
    count: int = 1


@dataclass(frozen=True)
class SweepConfig:
    backend: str = "native"
    model: str = DEFAULT_MODEL
    target: str = "default"
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    params: tuple[ParamRange, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    shard: ShardConfig = field(default_factory=ShardConfig)
    ignore_unmapped: bool = False  # c302/container: parameters with no C302 counterpart may vary (ignored)
    source: str = "<string>"  # the file it came from
    text: str = ""  # the TOML text, stored in the ledger as provenance

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def fixed_params(self) -> dict[str, float]:
        return dict(self.fixed)

    @property
    def ignored_unmapped(self) -> tuple[str, ...]:
        """On the C302 backends: the varied or fixed parameters C302 cannot apply (empty elsewhere)."""
        if self.backend not in CRASH_PRONE_BACKENDS:
            return ()
        from .worm.c302_params import unmapped

        names = set(self.param_names) | {k for k, _ in self.fixed}
        return tuple(n for n in unmapped(self.model) if n in names)

    @property
    def isolate_tasks(self) -> bool:
        iso = self.scheduler.isolate
        return self.backend in CRASH_PRONE_BACKENDS if iso == "auto" else bool(iso)

    @property
    def report_dir(self) -> str:
        return report_dir_of(self.output)

    def science_dict(self) -> dict[str, Any]:
        """Everything that decides the tasks and their results (not outputs, not scheduling)."""
        return {
            "backend": self.backend,
            "model": self.model,
            "target": self.target,
            "sampler": dataclasses.asdict(self.sampler),
            "params": [dataclasses.asdict(p) for p in self.params],
            "fixed": dict(self.fixed),
            "simulation": dataclasses.asdict(self.simulation),
            # only when set, so the hashes of existing ledgers stay valid
            **({"ignore_unmapped": True} if self.ignore_unmapped else {}),
        }

    def config_hash(self) -> str:
        """sha256 of :meth:`science_dict`: a resumed or merged ledger must match it."""
        blob = json.dumps(self.science_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_shard(self, index: int, count: int) -> "SweepConfig":
        cfg = dataclasses.replace(self, shard=_check_shard(ShardConfig(index, count), self.source))
        _check_sizes(cfg, self.source)
        return cfg


def report_dir_of(output) -> str:
    """``output.report_dir``, else ``<ledger stem>_report`` beside the ledger (sweep and optimiser alike)."""
    if output.report_dir:
        return output.report_dir
    p = Path(output.ledger)
    return str(p.with_name(p.stem + "_report"))


_SECTIONS = {
    "sampler": SamplerConfig,
    "simulation": SimulationConfig,
    "scheduler": SchedulerConfig,
    "output": OutputConfig,
    "shard": ShardConfig,
}
_TOP_KEYS = ("backend", "model", "target", "ignore_unmapped", "params", "fixed", *_SECTIONS)


def _param_ranges(table: Any, model: str, where: str) -> tuple[ParamRange, ...]:
    from .params import space

    sp = space(model)
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: [params] must name at least one parameter to vary, e.g. g_egl19 = {{ range = [1, 20] }}")
    out = []
    for name, spec in table.items():
        w = f"{where}: params.{name}"
        if name not in sp:
            raise ConfigError(f"{where}: {sp._unknown_message(name)}")
        p = sp[name]
        if isinstance(spec, list):  # shorthand: name = [lo, hi]
            spec = {"range": spec}
        if not isinstance(spec, dict):
            raise ConfigError(f"{w} must be {{ range = [lower, upper], scale = \"linear\"|\"log\" }}, got {spec!r}")
        for key in spec:
            if key not in ("range", "scale", "points"):
                raise _unknown(key, ("range", "scale", "points"), w)
        rng = spec.get("range", [p.lower, p.upper])
        if (
            not isinstance(rng, list)
            or len(rng) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in rng)
        ):
            raise ConfigError(f"{w}.range must be two finite numbers [lower, upper], got {rng!r}")
        lo, hi = float(rng[0]), float(rng[1])
        if not lo < hi:
            raise ConfigError(f"{w}.range [{lo:g}, {hi:g}] is empty or inverted: lower must be < upper")
        if lo < p.lower or hi > p.upper:
            raise ConfigError(
                f"{w}.range [{lo:g}, {hi:g}] leaves the model's bounds [{p.lower:g}, {p.upper:g}] {p.unit}"
            )
        scale = spec.get("scale", p.scale)
        if scale not in ("linear", "log"):
            raise ConfigError(f"{w}.scale must be \"linear\" or \"log\", got {scale!r}")
        if scale == "log" and lo <= 0:
            raise ConfigError(f"{w}: a log range needs lower > 0, got {lo:g}")
        points = spec.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, int) or points < 0 or points == 1:
            raise ConfigError(f"{w}.points must be an integer >= 2 (grid sampler), got {points!r}")
        out.append(ParamRange(name, lo, hi, scale, points))
    return tuple(out)


def _check_shard(shard: ShardConfig, where: str) -> ShardConfig:
    if shard.count < 1 or not 0 <= shard.index < shard.count:
        raise ConfigError(f"{where}: shard {shard.index}/{shard.count} is invalid: need 0 <= index < count")
    return shard


def _check_c302_mapping(cfg: SweepConfig, sp, where: str) -> None:
    """C302 cannot apply every parameter: varying one it cannot map would vary nothing."""
    if cfg.backend not in CRASH_PRONE_BACKENDS:
        return
    from .worm.c302_params import check_mappable

    # a varied parameter counts as set to a non-default value unless its range is the default alone
    probe = {p.name: (p.upper if p.upper != sp[p.name].default else p.lower) for p in cfg.params}
    probe.update(cfg.fixed)
    try:
        check_mappable(cfg.model, probe, ignore_unmapped=cfg.ignore_unmapped, backend=cfg.backend)
    except (ConfigError, ParameterError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def space_and_fixed(data: Mapping[str, Any], model: str, where: str):
    """(the model's parameter space, its checked ``[fixed]`` values): shared by the
    sweep's and the optimiser's parsers."""
    from .params import space

    try:
        sp = space(model)
    except ParameterError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    fixed_table = data.get("fixed", {})
    if not isinstance(fixed_table, dict):
        raise ConfigError(f"{where}: [fixed] must be a table of name = value")
    for k, v in fixed_table.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):  # `true` and "3" are not numbers
            raise ConfigError(f"{where}: fixed.{k} must be a number, got {v!r}")
    try:
        return sp, {k: sp[k].check(v) for k, v in fixed_table.items()}
    except ParameterError as exc:
        raise ConfigError(f"{where}: fixed: {exc}") from None


def checked_tables(data: Mapping[str, Any], cfg, section_classes: Mapping[str, type], parse_params, verb: str,
                   where: str):
    """What every config kind checks after its top-level keys, in this order: a
    known backend; ``[fixed]`` against the model's space; each section's keys and
    types; ``[params]`` (``parse_params(table, model, where)``); and no parameter
    both in ``[params]`` and ``[fixed]``. Returns (space, fixed values, sections, params)."""
    from .worm import BACKENDS

    if cfg.backend not in BACKENDS:
        raise ConfigError(f"{where}: unknown backend {cfg.backend!r}; known: {', '.join(BACKENDS)}")
    sp, fixed = space_and_fixed(data, cfg.model, where)
    sections = {name: _section(cls, data.get(name, {}), f"{where}: {name}") for name, cls in section_classes.items()}
    params = parse_params(data.get("params"), cfg.model, where)
    both = sorted(set(fixed) & {p.name for p in params})
    if both:
        raise ConfigError(f"{where}: {', '.join(both)} is both {verb} in [params] and held in [fixed]; keep one")
    return sp, fixed, sections, params


def parse_config(data: Mapping[str, Any], *, source: str = "<string>", text: str = "") -> SweepConfig:
    """Build and validate a :class:`SweepConfig` from a parsed TOML mapping."""
    where = source
    for key in data:
        if key not in _TOP_KEYS:
            raise _unknown(key, _TOP_KEYS, where)
    top = {}
    for key in ("backend", "model", "target"):
        if key in data:
            top[key] = _typed(data[key], "", f"{where}: {key}")
    if "ignore_unmapped" in data:
        top["ignore_unmapped"] = _typed(data["ignore_unmapped"], False, f"{where}: ignore_unmapped")
    cfg = SweepConfig(**top, source=source, text=text)
    sp, fixed_checked, sections, params = checked_tables(data, cfg, _SECTIONS, _param_ranges, "varied", where)
    cfg = dataclasses.replace(cfg, params=params, fixed=tuple(sorted(fixed_checked.items())), **sections)
    _check_c302_mapping(cfg, sp, where)

    s, sim, sch, out = cfg.sampler, cfg.simulation, cfg.scheduler, cfg.output
    if s.method not in SAMPLERS:
        raise ConfigError(f"{where}: sampler.method {s.method!r} is unknown; choose one of {', '.join(SAMPLERS)}")
    if s.n_samples < 1 and not (s.method == "grid" and all(p.points for p in params)):
        raise ConfigError(f"{where}: sampler.n_samples must be >= 1, got {s.n_samples}")
    if s.seed < 0:
        raise ConfigError(f"{where}: sampler.seed must be >= 0, got {s.seed}")
    if sim.integrator not in INTEGRATORS:
        raise ConfigError(f"{where}: simulation.integrator {sim.integrator!r} is unknown; choose one of {', '.join(INTEGRATORS)}")
    if sim.onset_method == "auto":
        sim = dataclasses.replace(sim, onset_method=default_onset_method(cfg.model))
        cfg = dataclasses.replace(cfg, simulation=sim)
    if sim.onset_method not in ONSET_METHODS:
        raise ConfigError(f"{where}: simulation.onset_method {sim.onset_method!r} is unknown; "
                          f"choose one of auto, {', '.join(ONSET_METHODS)}")
    for name, value in (("duration_s", sim.duration_s), ("dt_ms", sim.dt_ms)):
        if value <= 0:
            raise ConfigError(f"{where}: simulation.{name} must be > 0, got {value:g}")
    if sim.start_s < 0:
        raise ConfigError(f"{where}: simulation.start_s must be >= 0, got {sim.start_s:g}")
    if not (sim.burn_in_s >= 0 and math.isfinite(sim.burn_in_s)):
        raise ConfigError(f"{where}: simulation.burn_in_s must be a finite number >= 0, got {sim.burn_in_s!r}")
    if out.rank_by not in RANK_BY or out.min_notes < 0:
        raise ConfigError(f"{where}: output.rank_by must be one of {', '.join(RANK_BY)} and min_notes >= 0, "
                          f"got {out.rank_by!r}, {out.min_notes!r}")
    if sch.chunk_size < 0 or sch.task_timeout_s <= 0:
        raise ConfigError(f"{where}: scheduler.chunk_size must be >= 0 and task_timeout_s > 0")
    for key in ("isolate", "rank0_works"):
        if getattr(sch, key) not in ("auto", True, False):
            raise ConfigError(f"{where}: scheduler.{key} must be \"auto\", true or false, got {getattr(sch, key)!r}")
    if not out.ledger:
        raise ConfigError(f"{where}: output.ledger must name an .h5 file")
    if out.top_k < 1 or out.flush_every_s < 0:
        raise ConfigError(f"{where}: output.top_k must be >= 1 and flush_every_s >= 0")
    _check_shard(cfg.shard, f"{where}: [shard]")
    _check_sizes(cfg, where)
    return cfg


def _check_sizes(cfg: SweepConfig, where: str) -> None:
    from .limits import check_sweep_sizes  # bounds from what the machine can hold

    check_sweep_sizes(cfg, where)




def loads_config(text: str, *, source: str = "<string>") -> SweepConfig:
    return loads_toml(text, parse_config, source=source)


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep TOML file."""
    return loads_config(read_config_text(path), source=str(Path(path)))
