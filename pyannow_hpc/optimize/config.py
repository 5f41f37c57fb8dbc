"""The optimiser's TOML schema: frozen dataclasses, validated at the edge.

An optimiser file (see ``examples/optimize_quick.toml``)::

    method = "gradient"        # gradient | cmaes | nelder-mead | bo
    backend = "jax"            # gradient needs jax; population methods: any backend
    model = "boyle2008"        # or "pyannow" (the seed's cell)
    target = "default"

    [params]                   # free parameters, as in a sweep, plus per-muscle ones
    g_ca_boyle = { range = [0.3, 1.5], scale = "log" }
    g_k_slow = { range = [0.2, 1.5], scale = "log", per = "quadrant" }  # muscle|segment|quadrant
    drive_freq_hz = { range = [1.2, 1.8] }     # tempo
    time_offset_s = { range = [-0.25, 0.25] }  # phase: a global shift of the worm's notes

    [fixed]  [simulation]  [loss]  [budget]  [gradient]  [cmaes]  [bo]  [evaluate]  [output]  [scheduler]

Key checks (unknown keys with a "did you mean", types, bounds) reuse the
sweep's helpers (:mod:`pyannow_hpc.config`), so both files fail the same way.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..config import ONSET_METHODS, _param_ranges, checked_tables, report_dir_of
from ..errors import ConfigError
from ..tomlschema import _typed, _unknown, loads_toml, read_config_text
from ..worm import DEFAULT_MODEL, INTEGRATORS, default_onset_method

METHODS = ("gradient", "cmaes", "nelder-mead", "bo")
#: the pseudo-parameter "phase": every worm onset is played this much later
OFFSET_NAME = "time_offset_s"
OFFSET_BOUNDS_S = (-0.5, 0.5)
PER_CHOICES = ("", "muscle", "segment", "quadrant")


@dataclass(frozen=True)
class FreeParam:
    name: str
    lower: float
    upper: float
    scale: str = "linear"
    per: str = ""  # "" = one value; muscle (96), segment (24), quadrant (4)


@dataclass(frozen=True)
class SimulationConfig:
    start_s: float = 0.0  # training window start in the target
    duration_s: float = 10.0
    burn_in_s: float = 0.5  # simulated before the window and discarded (gates start unadapted)
    dt_ms: float = 0.5
    integrator: str = "exponential"
    onset_method: str = "auto"  # population modes on non-jax backends
    seed: int = 0  # noise seed of the first training window
    n_windows: int = 1  # training windows: start_s + k * duration_s (data parallel)
    n_seeds: int = 1  # noise seeds per window (data parallel)


@dataclass(frozen=True)
class LossConfig:
    grid_s: float = 0.01  # onset-density bins
    sigma_s: float = 0.03  # Gaussian blur of both densities
    soft_width_mV: float = 8.0  # sigmoid width: at 2 mV the surrogate gradient at the default boyle2008 point has the wrong sign (docs/optimize.md)
    onsets: str = "surrogate"  # surrogate (hard crossings forward, sigmoid gradient) | soft (smooth)
    pitch_aware: bool = False  # Dice per pitch class (muscle -> pitch map) instead of summed
    prior: str = ""  # HDF5 file with /prior (mean, cov, names)
    prior_weight: float = 0.0  # lambda_s


@dataclass(frozen=True)
class BudgetConfig:
    max_iterations: int = 50
    max_evaluations: int = 0  # 0 = no limit
    seed: int = 0  # optimiser seed (starts, CMA-ES sampling, BO sampler)


@dataclass(frozen=True)
class GradientConfig:
    optimizer: str = "adam+lbfgs"  # adam | lbfgs | adam+lbfgs
    learning_rate: float = 0.1
    adam_steps: int = 0  # 0 = 80% of max_iterations, the rest L-BFGS
    normalize_step: bool = False  # Polyak-style: step = lr * g / |g|
    n_starts: int = 1  # multi-start, vmapped, split over ranks
    mode: str = "auto"  # forward (jacfwd) | reverse | auto (forward for <= 16 values)
    reducer: str = "auto"  # auto | mpi4jax | mpi4py | none
    # a start whose loss rises more than this above its best goes back to its best
    # point with half its step and no momentum (Adam phase); 0 = off
    backtrack_tol: float = 0.1


@dataclass(frozen=True)
class CmaesConfig:
    sigma0: float = 0.25  # in the unit cube
    popsize: int = 0  # 0 = pycma's 4 + 3 ln d
    ipop_restarts: int = 2  # restarts with the population doubled


@dataclass(frozen=True)
class BoConfig:
    sampler: str = "tpe"  # tpe | gp
    batch_size: int = 2  # asks evaluated together over ranks
    n_startup: int = 8


@dataclass(frozen=True)
class EvaluateConfig:
    later_windows: int = 2  # windows after the training ones, never trained on
    other_seeds: int = 2  # noise seeds never trained on
    heldout: str = ""  # a second target (also --heldout)
    n_shifts: int = 200
    metrics_every: int = 10  # gradient mode: scores with nulls every N iterations (and the last)
    landscape_points: int = 9  # 0 = no landscape plots
    landscape_pairs: int = 1


@dataclass(frozen=True)
class OutputConfig:
    ledger: str = "out/optimize.h5"
    report_dir: str = ""  # "" = <ledger without .h5>_report


@dataclass(frozen=True)
class SchedulerConfig:
    task_timeout_s: float = 600.0
    isolate: str | bool = "auto"


_SECTIONS = {
    "simulation": SimulationConfig, "loss": LossConfig, "budget": BudgetConfig, "gradient": GradientConfig,
    "cmaes": CmaesConfig, "bo": BoConfig, "evaluate": EvaluateConfig, "output": OutputConfig,
    "scheduler": SchedulerConfig,
}
_TOP_KEYS = ("method", "backend", "model", "target", "params", "fixed", *_SECTIONS)


@dataclass(frozen=True)
class OptimizeConfig:
    method: str = "gradient"
    backend: str = "jax"
    model: str = DEFAULT_MODEL
    target: str = "default"
    params: tuple[FreeParam, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    gradient: GradientConfig = field(default_factory=GradientConfig)
    cmaes: CmaesConfig = field(default_factory=CmaesConfig)
    bo: BoConfig = field(default_factory=BoConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    source: str = "<string>"
    text: str = ""

    @property
    def report_dir(self) -> str:
        return report_dir_of(self.output)

    def science_dict(self) -> dict[str, Any]:
        """What decides the trajectory (a resumed ledger must match it)."""
        d = dataclasses.asdict(self)
        for key in ("output", "scheduler", "source", "text", "evaluate"):
            d.pop(key)
        d["gradient"].pop("reducer")
        return d

    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.science_dict(), sort_keys=True).encode()).hexdigest()[:16]


def _free_params(table: Any, model: str, where: str) -> tuple[FreeParam, ...]:
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: [params] must name at least one free parameter, e.g. g_ca_boyle = {{ range = [0.3, 1.5] }}")
    table = {k: ({"range": v} if isinstance(v, list) else v) for k, v in table.items()}
    out = []
    offset = table.pop(OFFSET_NAME, None)
    pers = {}
    for name, spec in table.items():
        if isinstance(spec, dict) and "per" in spec:
            spec = dict(spec)
            pers[name] = spec.pop("per")
            table[name] = spec
            if pers[name] not in PER_CHOICES[1:]:
                raise ConfigError(f"{where}: params.{name}.per must be one of {', '.join(PER_CHOICES[1:])}, got {pers[name]!r}")
    if table:
        for r in _param_ranges(table, model, where):
            out.append(FreeParam(r.name, r.lower, r.upper, r.scale, pers.get(r.name, "")))
    if offset is not None:
        w = f"{where}: params.{OFFSET_NAME}"
        if not isinstance(offset, dict) or set(offset) - {"range"}:
            raise ConfigError(f"{w} must be {{ range = [lower, upper] }} in seconds")
        rng = offset.get("range", list(OFFSET_BOUNDS_S))
        if (not isinstance(rng, list) or len(rng) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in rng)
                or not rng[0] < rng[1] or rng[0] < OFFSET_BOUNDS_S[0] or rng[1] > OFFSET_BOUNDS_S[1]):
            raise ConfigError(f"{w}.range must be [lower < upper] within {list(OFFSET_BOUNDS_S)} s, got {rng!r}")
        out.append(FreeParam(OFFSET_NAME, float(rng[0]), float(rng[1])))
    return tuple(out)


def parse_config(data: Mapping[str, Any], *, source: str = "<string>", text: str = "") -> OptimizeConfig:
    where = source
    for key in data:
        if key not in _TOP_KEYS:
            raise _unknown(key, _TOP_KEYS, where)
    top = {k: _typed(data[k], "", f"{where}: {k}") for k in ("method", "backend", "model", "target") if k in data}
    cfg = OptimizeConfig(**top, source=source, text=text)
    if cfg.method not in METHODS:
        raise ConfigError(f"{where}: method {cfg.method!r} is unknown; choose one of {', '.join(METHODS)}")
    if cfg.method == "gradient" and cfg.backend != "jax":
        raise ConfigError(f"{where}: method gradient needs backend = \"jax\" (the differentiable simulator), got {cfg.backend!r}")
    _, fixed, sections, params = checked_tables(data, cfg, _SECTIONS, _free_params, "free", where)
    if any(p.per for p in params) and cfg.backend != "jax":
        raise ConfigError(f"{where}: per-muscle parameters need backend = \"jax\" (the native and C302 backends take one value per parameter)")
    cfg = dataclasses.replace(cfg, params=params, fixed=tuple(sorted(fixed.items())), **sections)
    _check_values(cfg, where)
    if cfg.method == "cmaes" and len(params) == 1 and not params[0].per:
        # pycma's CMA-ES has no 1-D case (its covariance needs two dimensions):
        # refuse here rather than as pycma's "not yet initialized (dimension needed)"
        raise ConfigError(f"{where}: method cmaes needs at least 2 free values, [params] has one "
                          f"({params[0].name}); use nelder-mead or bo, or free a second parameter")
    return cfg


def _check_values(cfg: OptimizeConfig, where: str) -> None:
    sim, g, b, c, bo, ev, ls = cfg.simulation, cfg.gradient, cfg.budget, cfg.cmaes, cfg.bo, cfg.evaluate, cfg.loss
    checks = [
        (sim.duration_s > 0, "simulation.duration_s must be > 0"),
        (sim.dt_ms > 0, "simulation.dt_ms must be > 0"),
        (sim.start_s >= 0 and sim.burn_in_s >= 0, "simulation.start_s and burn_in_s must be >= 0"),
        (sim.seed >= 0 and sim.n_windows >= 1 and sim.n_seeds >= 1, "simulation.seed must be >= 0, n_windows and n_seeds >= 1"),
        (sim.integrator in INTEGRATORS, f"simulation.integrator must be one of {', '.join(INTEGRATORS)}"),
        (ls.grid_s > 0 and ls.sigma_s > 0 and ls.soft_width_mV > 0, "loss.grid_s, sigma_s and soft_width_mV must be > 0"),
        (ls.prior_weight >= 0, "loss.prior_weight must be >= 0"),
        (ls.onsets in ("surrogate", "soft"), "loss.onsets must be surrogate or soft"),
        (not ls.prior_weight or ls.prior, "loss.prior_weight needs loss.prior (a path)"),
        (b.max_iterations >= 1 and b.max_evaluations >= 0 and b.seed >= 0, "budget.max_iterations must be >= 1, max_evaluations and seed >= 0"),
        (g.optimizer in ("adam", "lbfgs", "adam+lbfgs"), "gradient.optimizer must be adam, lbfgs or adam+lbfgs"),
        (g.learning_rate > 0 and g.adam_steps >= 0 and g.n_starts >= 1, "gradient.learning_rate must be > 0, adam_steps >= 0, n_starts >= 1"),
        (g.mode in ("auto", "forward", "reverse"), "gradient.mode must be auto, forward or reverse"),
        (g.backtrack_tol >= 0, "gradient.backtrack_tol must be >= 0 (0 = off)"),
        (g.reducer in ("auto", "mpi4jax", "mpi4py", "none"), "gradient.reducer must be auto, mpi4jax, mpi4py or none"),
        (0 < c.sigma0 <= 1 and c.popsize >= 0 and c.ipop_restarts >= 0, "cmaes.sigma0 must be in (0, 1], popsize and ipop_restarts >= 0"),
        (bo.sampler in ("tpe", "gp") and bo.batch_size >= 1 and bo.n_startup >= 1, "bo.sampler must be tpe or gp, batch_size and n_startup >= 1"),
        (ev.later_windows >= 0 and ev.other_seeds >= 0 and ev.n_shifts >= 10, "evaluate.later_windows, other_seeds must be >= 0, n_shifts >= 10"),
        (ev.landscape_points == 0 or ev.landscape_points >= 3, "evaluate.landscape_points must be 0 or >= 3"),
        (bool(cfg.output.ledger), "output.ledger must name an .h5 file"),
        (cfg.scheduler.task_timeout_s > 0 and cfg.scheduler.isolate in ("auto", True, False), "scheduler.task_timeout_s must be > 0, isolate auto/true/false"),
    ]
    for ok, msg in checks:
        if not ok:
            raise ConfigError(f"{where}: {msg}")
    om = sim.onset_method
    if om != "auto" and om not in ONSET_METHODS:
        raise ConfigError(f"{where}: simulation.onset_method must be auto or one of {', '.join(ONSET_METHODS)}")


def onset_method(cfg: OptimizeConfig) -> str:
    om = cfg.simulation.onset_method
    return default_onset_method(cfg.model) if om == "auto" else om


def loads_config(text: str, *, source: str = "<string>") -> OptimizeConfig:
    return loads_toml(text, parse_config, source=source)


def load_config(path: str | Path) -> OptimizeConfig:
    return loads_config(read_config_text(path), source=str(Path(path)))
