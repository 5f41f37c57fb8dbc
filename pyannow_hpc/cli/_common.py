"""Flags and parsing shared by the commands that simulate (demo, simulate, ...)."""
from __future__ import annotations

import argparse
import math

from ..limits import MAX_SEED


def finite_float(text: str) -> float:
    """argparse type: a finite float (``1e308`` passes here, ``inf``/``nan`` do not)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def seed_int(text: str) -> int:
    """argparse type: a seed in 0 .. 2**63-1 (what HDF5 attributes and the native RNG hold)."""
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= x <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed must be in 0 .. 2**63-1, got {text}")
    return x


def add_simulation_arguments(p: argparse.ArgumentParser) -> None:
    """Model/backend/integrator flags shared by commands that simulate."""
    from ..worm import DEFAULT_MODEL

    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="cell model: boyle2008 (c302's muscle) or pyannow (the seed's cell) (default: %(default)s)")
    p.add_argument("--backend", default="native", help="worm backend: native, jax, numpy, c302 (default: %(default)s)")
    p.add_argument("--integrator", default="exponential", choices=("exponential", "seed_euler"),
                   help="exponential (stable, default) or the seed's forward Euler (unstable at 0.5 ms)")
    p.add_argument("--dt-ms", type=finite_float, default=0.5, help="integration step, ms (default: %(default)s)")
    p.add_argument("--seed", type=seed_int, default=0, help="noise seed, 0 .. 2**63-1 (default: %(default)s)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter, e.g. -p g_egl19=12 (repeatable)")


def parse_param_overrides(items: list[str]) -> dict[str, float]:
    from ..errors import ParameterError

    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param expects NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"parameter {name.strip()} must be a number, got {value!r}") from None
    return out


def add_burn_in_argument(p: argparse.ArgumentParser) -> None:
    """--burn-in-s: simulated, then discarded before anything is scored or stored."""
    from ..pipeline import DEFAULT_BURN_IN_S

    p.add_argument("--burn-in-s", type=float, default=DEFAULT_BURN_IN_S, metavar="S",
                   help="simulate S seconds first and discard them, so the start-up burst of the unadapted gates "
                        "is not scored (default: %(default)s; 0 = the old behaviour)")


def check_burn_in(value: float) -> float:
    import math

    from ..errors import ConfigError

    if not (value >= 0 and math.isfinite(value)):
        raise ConfigError(f"--burn-in-s must be a finite number >= 0, got {value!r}")
    return value
def error_on_rank0_only(comm, run, *args) -> int:
    """``run(*args)``; a PyannowError (raised on every rank by ``parallel.comm.on_root``)
    propagates on rank 0, where the CLI prints its one line, and is only returned
    as its exit code elsewhere: one error line per job, the same status on every rank."""
    from ..errors import PyannowError

    try:
        return run(*args)
    except PyannowError as exc:
        if comm.Get_rank() == 0:
            raise
        return exc.exit_code
