"""The ion-channel parameter space: names with units, defaults and search bounds.

One :class:`ParameterSpace` per cell model, registered by name.  Every value
that enters a simulation passes :meth:`ParameterSpace.validate` first, which
rejects unknown names, NaN, infinities and out-of-bounds values with a message
naming the parameter, its value and its bounds.

Units follow the seed model's convention: conductances in mS/cm^2, currents in
uA/cm^2, capacitance in uF/cm^2, so that ``g * dt_ms / c_m`` is dimensionless.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .errors import ParameterError


@dataclass(frozen=True)
class Param:
    """One parameter: its name carries the unit where it has one."""

    name: str
    unit: str
    default: float
    lower: float
    upper: float
    doc: str = ""
    #: how samplers spread it over [lower, upper]: "linear" or "log"
    scale: str = "linear"

    def __post_init__(self) -> None:
        if not (self.lower <= self.default <= self.upper):
            raise ValueError(f"{self.name}: default {self.default} outside [{self.lower}, {self.upper}]")
        if self.scale == "log" and self.lower <= 0:
            raise ValueError(f"{self.name}: log scale needs a positive lower bound")

    def check(self, value: float) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {self.name} must be a number, got {value!r}") from None
        if math.isnan(v) or math.isinf(v):
            raise ParameterError(
                f"parameter {self.name} = {v} is not finite (allowed range [{self.lower:g}, {self.upper:g}] {self.unit})"
            )
        if not (self.lower <= v <= self.upper):
            raise ParameterError(
                f"parameter {self.name} = {v:g} {self.unit} is outside its bounds [{self.lower:g}, {self.upper:g}]"
            )
        return v


@dataclass(frozen=True)
class ParameterSpace:
    """The named parameters of one cell model (channels + drive)."""

    model: str
    params: tuple[Param, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names in space {self.model}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(self._unknown_message(name))

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown parameter {name!r} for model {self.model!r}{hint}; known: {', '.join(self.names)}"

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def validate(self, values: Mapping[str, float] | None = None) -> dict[str, float]:
        """Defaults overridden by ``values``; every value checked. Returns a new dict."""
        out = self.defaults()
        for name, value in (values or {}).items():
            out[name] = self[name].check(value)
        return out

    def bounds(self, names: Iterable[str] | None = None) -> np.ndarray:
        """``(k, 2)`` array of [lower, upper] for ``names`` (default: all)."""
        sel = self.names if names is None else tuple(names)
        return np.array([[self[n].lower, self[n].upper] for n in sel], dtype=float)

    def describe(self) -> str:
        """A plain-text table for ``--help`` and the docs."""
        rows = [f"{'name':<16} {'unit':<10} {'default':>9} {'lower':>9} {'upper':>9}  description"]
        for p in self.params:
            rows.append(f"{p.name:<16} {p.unit:<10} {p.default:>9g} {p.lower:>9g} {p.upper:>9g}  {p.doc}")
        return "\n".join(rows)


_SPACES: dict[str, ParameterSpace] = {}


def register_space(space: ParameterSpace) -> ParameterSpace:
    _SPACES[space.model] = space
    return space


def space(model: str = "pyannow") -> ParameterSpace:
    """The registered parameter space of ``model``."""
    if model not in _SPACES:
        # cell models register their spaces on import
        from . import worm  # noqa: F401

    try:
        return _SPACES[model]
    except KeyError:
        raise ParameterError(f"unknown cell model {model!r}; known: {', '.join(sorted(_SPACES))}") from None


def models() -> tuple[str, ...]:
    from . import worm  # noqa: F401

    return tuple(sorted(_SPACES))


#: The travelling-wave drive, shared by every surrogate cell model.
DRIVE_PARAMS: tuple[Param, ...] = (
    Param("drive_amp_uA", "uA/cm^2", 12.0, 0.0, 60.0, "amplitude A of the body-wave drive A*max(sin,0)^2"),
    Param("drive_freq_hz", "Hz", 1.5, 0.1, 5.0, "body-wave frequency f (head to tail)"),
    Param("noise_sd_uA", "uA/cm^2", 0.3, 0.0, 5.0, "sd of the Gaussian current drawn every step"),
    Param("coupling_g", "mS/cm^2", 0.0, 0.0, 5.0, "coupling to segments s-1 and s+1 of the same quadrant (0 = seed)"),
)

#: The seed ("pyannow") Morris-Lecar-style cell, SCIENCE.md section 1.
PYANNOW_SPACE = register_space(
    ParameterSpace(
        model="pyannow",
        doc="the seed's Morris-Lecar-style body-wall-muscle cell (PyANNOW v0.9-v1.0)",
        params=(
            Param("g_egl19", "mS/cm^2", 8.0, 0.5, 25.0, "EGL-19 L-type Ca2+ conductance", "log"),
            Param("v_half_ca_mV", "mV", -20.0, -50.0, 0.0, "half-activation voltage of the Ca gate m"),
            Param("tau_ca_ms", "ms", 15.0, 1.0, 80.0, "time constant of the Ca gate m", "log"),
            Param("g_exp2", "mS/cm^2", 5.0, 0.5, 20.0, "EXP-2 K+ repolarising conductance", "log"),
            Param("ca_thresh_mV", "mV", -10.0, -30.0, 10.0, "onset threshold: crest peaks below it are dropped"),
            Param("g_nca", "mS/cm^2", 0.8, 0.0, 5.0, "NCA Na+ leak conductance"),
            Param("g_leak", "mS/cm^2", 0.05, 0.001, 2.0, "passive leak conductance", "log"),
            Param("c_m_uF", "uF/cm^2", 1.0, 0.1, 10.0, "membrane capacitance"),
        )
        + DRIVE_PARAMS,
    )
)

#: Fixed constants of the seed cell (not searched).
PYANNOW_CONSTANTS = {"e_ca_mV": 60.0, "e_k_mV": -80.0, "e_na_mV": 50.0, "e_leak_mV": -65.0}
#: Drive phases per quadrant, order DL, VL, DR, VR (SCIENCE.md section 1).
QUADRANT_PHASES_RAD = (0.0, math.pi, 0.05, math.pi + 0.05)
