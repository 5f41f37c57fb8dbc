"""Flags and parsing shared by the commands that simulate (demo, simulate, ...)."""
from __future__ import annotations

import argparse


def add_simulation_arguments(p: argparse.ArgumentParser) -> None:
    """Model/backend/integrator flags shared by commands that simulate."""
    from ..worm import DEFAULT_MODEL

    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="cell model: boyle2008 (c302's muscle) or pyannow (the seed's cell) (default: %(default)s)")
    p.add_argument("--backend", default="native", help="worm backend: native, jax, numpy, c302 (default: %(default)s)")
    p.add_argument("--integrator", default="exponential", choices=("exponential", "seed_euler"),
                   help="exponential (stable, default) or the seed's forward Euler (unstable at 0.5 ms)")
    p.add_argument("--dt-ms", type=float, default=0.5, help="integration step, ms (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
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
