"""Up-front bounds from what the machine can hold: a run that cannot fit fails
before it starts, with one line naming the limit, instead of a MemoryError
(or an OverflowError) minutes in.

The budget is half the memory available now (``MemAvailable`` on Linux,
``PYANNOW_MEMORY_BUDGET_BYTES`` overrides it: tests, or a batch job whose
cgroup allows less than the node has). Estimates are upper bounds of the
big arrays only; what they miss is small against a factor of two.
"""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time

from .errors import ConfigError, ResourceLimitError

N_MUSCLES = 96
#: per task in the sweep's memory: ledger row + Task + Outcome + notes (measured ~1 KiB, doubled)
BYTES_PER_TASK = 2048
#: simulation: the integrator keeps 3 float64 state arrays of 96 per step in flight;
#: recorded traces are (samples, 96) of float32/float64, gates twice more
MAX_SEED = 2**63 - 1


def available_bytes() -> int:
    """Memory available to this process now (bytes)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 8 * 2**30


def memory_budget_bytes() -> int:
    env = os.environ.get("PYANNOW_MEMORY_BUDGET_BYTES")
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError:
            raise ConfigError(f"PYANNOW_MEMORY_BUDGET_BYTES must be a number of bytes, got {env!r}") from None
    return available_bytes() // 2


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**28 else f"{n / 2**20:.3g} MiB"


def finite(name: str, value: float, *, lo: float | None = None, hi: float | None = None, unit: str = "") -> float:
    """``value`` as a float, finite and within [lo, hi], else ConfigError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    u = f" {unit}" if unit else ""
    if not math.isfinite(x):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if lo is not None and x < lo:
        raise ConfigError(f"{name} must be >= {lo:g}{u}, got {x:g}")
    if hi is not None and x > hi:
        raise ConfigError(f"{name} must be <= {hi:g}{u}, got {x:g}")
    return x


def check_seed(name: str, seed: int) -> int:
    if not 0 <= int(seed) <= MAX_SEED:
        raise ConfigError(f"{name} must be an integer in 0 .. 2**63-1, got {seed}")
    return int(seed)


def simulation_bytes(duration_s: float, dt_ms: float, sample_rate_hz: float, *, gates: bool = False,
                     float32: bool = True, n_muscles: int = N_MUSCLES) -> float:
    """Upper bound of a simulation's big arrays (recorded traces, twice: backend + file buffer)."""
    samples = duration_s * sample_rate_hz + 2
    per = (4 if float32 else 8) * n_muscles * (3 if gates else 1)
    return 2.0 * samples * per + 64.0 * n_muscles * 8


def check_simulation(duration_s: float, dt_ms: float, sample_rate_hz: float | None = None, *, gates: bool = False,
                     float32: bool = True, what: str = "simulation") -> None:
    """Refuse a simulation whose traces do not fit in memory (or whose step count overflows)."""
    for name, value in (("duration_s", duration_s), ("dt_ms", dt_ms)):
        if not finite(name, value) > 0:
            raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    if dt_ms > duration_s * 1000.0:
        raise ConfigError(f"dt_ms {dt_ms:g} is longer than the whole simulation ({duration_s:g} s)")
    steps = duration_s * 1000.0 / dt_ms
    if not steps <= 2**53:
        raise ResourceLimitError(f"{what}: duration_s {duration_s:g} at dt_ms {dt_ms:g} is more integration "
                                 "steps than the limit 2**53")
    rate = 1000.0 if sample_rate_hz is None else finite("sample_rate_hz", sample_rate_hz, unit="Hz")
    need, budget = simulation_bytes(duration_s, dt_ms, rate, gates=gates, float32=float32), memory_budget_bytes()
    if need > budget:
        raise ResourceLimitError(
            f"{what}: {duration_s:g} s at {rate:g} Hz needs ~{_gib(need)} for its traces; the limit is "
            f"{_gib(budget)} (half of this machine's available memory): shorten the duration or lower the sample rate")


def check_task_count(n_tasks: float, n_params: int = 1, n_total: float | None = None, what: str = "sweep") -> None:
    """Refuse a task table that does not fit in memory on rank 0: this shard's
    ``n_tasks`` rows, and the whole design of ``n_total`` points (drawn in full
    before the shard's rows are taken)."""
    budget = memory_budget_bytes()
    n_total = n_tasks if n_total is None else n_total
    design_bytes = n_total * (3 * 8 * n_params + 16)  # unit cube + scaled values + ids, float64
    if design_bytes > budget:
        raise ResourceLimitError(
            f"{what}: the design of {n_total:.4g} points x {n_params} parameters needs ~{_gib(design_bytes)}; "
            f"the limit is {_gib(budget)} (half of this machine's available memory): sample fewer points")
    most = budget // BYTES_PER_TASK
    if n_tasks > most:
        raise ResourceLimitError(
            f"{what}: {n_tasks:.4g} tasks need ~{_gib(n_tasks * BYTES_PER_TASK)} on rank 0; the limit is {most:,} "
            f"tasks ({_gib(budget)}, half of this machine's available memory, at {BYTES_PER_TASK} B per task): "
            "split it into shards run one after another, or sample fewer points")


@contextlib.contextmanager
def time_limit(seconds: float, error: type[BaseException]):
    """Raise ``error()`` in this block after ``seconds`` (SIGALRM, main thread only).

    Interrupts Python code (a parser looping over a time signature of 10^9
    beats), not a long call inside C. Nested limits keep the outer one: on
    exit the outer timer resumes with what it had left.
    """
    if not math.isfinite(seconds) or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise error()

    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    t0 = time.monotonic()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left > 0 else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer_left > 0:  # the outer limit goes on (or fires at once if it is due)
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - t0), 1e-6))


#: smallest task timeout accepted: below it no task can even start (1e-308 was accepted)
MIN_TASK_TIMEOUT_S = 0.01


def check_sweep_sizes(cfg, where: str) -> None:
    """Bounds that keep a sweep inside what the machine can hold and what a task
    can do, checked before anything runs (so also under --dry-run)."""
    sim, sch = cfg.simulation, cfg.scheduler
    try:
        check_simulation(sim.duration_s, sim.dt_ms, what=f"{where}: [simulation]")
    except ConfigError as exc:
        raise type(exc)(str(exc) if str(exc).startswith(where) else f"{where}: simulation: {exc}") from None
    if sch.task_timeout_s < MIN_TASK_TIMEOUT_S:
        raise ConfigError(f"{where}: scheduler.task_timeout_s must be >= {MIN_TASK_TIMEOUT_S:g} s, got {sch.task_timeout_s:g}")
    if sch.allow_failures < 0:
        raise ConfigError(f"{where}: scheduler.allow_failures must be >= 0, got {sch.allow_failures}")
    check_seed(f"{where}: sampler.seed", cfg.sampler.seed)
    n_total = n_design_points(cfg)
    if cfg.shard.count > max(n_total, 1):
        raise ConfigError(f"{where}: shard count {cfg.shard.count} exceeds the sweep's {n_total} tasks")
    check_task_count(math.ceil(n_total / cfg.shard.count), len(cfg.params), n_total, what=where)


def n_design_points(cfg) -> int:
    """Tasks in the whole design (all shards) without drawing it: the grid's
    product of points per axis, else n_samples."""
    from .parallel.sampling import grid_shape  # it imports config, which imports this module

    s = cfg.sampler
    return math.prod(grid_shape(cfg.params, s.n_samples)) if s.method == "grid" else s.n_samples
