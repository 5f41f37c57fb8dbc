"""The ion-channel parameter spaces: names with units, defaults and search bounds.

Data only: one :class:`ParameterSpace` per cell model in :data:`SPACES`, an
explicit table (no registration on import).  The cell models themselves
(native entry point, JAX step, onset detector, ...) are
:data:`pyannow_hpc.worm.models.MODELS`, which refers to these spaces; the model
constants (rate constants, gate tables) live in the C library's field tables
(native/include/pyannow.h, [fields]), not here.  Every value
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


#: The travelling-wave drive, shared by every surrogate cell model (pw_drive in
#: pyannow.h, pyannow_hpc/worm/drive.py).
DRIVE_PARAMS: tuple[Param, ...] = (
    Param("drive_amp_uA", "uA/cm^2", 12.0, 0.0, 60.0, "amplitude A of the body-wave drive A*max(sin,0)^2"),
    Param("drive_freq_hz", "Hz", 1.5, 0.1, 5.0, "body-wave frequency f (head to tail)"),
    Param("noise_sd_uA", "uA/cm^2", 0.3, 0.0, 5.0, "sd of the Gaussian current drawn every step"),
    Param("coupling_g", "mS/cm^2", 0.0, 0.0, 5.0, "coupling to segments s-1 and s+1 of the same quadrant (0 = seed)"),
)

#: The tempo knob (docs/boyle2008.md): with drive_pulse_ms > 0 each muscle gets
#: one raised-cosine pulse of that width per cycle instead of the seed's half
#: wave, so the excitation per cycle does not change with drive_freq_hz (at
#: 1000/(2 f) ms the pulse IS the seed's half wave); drive_phase_rad shifts the
#: whole wave (every onset moves by -phase/(2 pi f)).  Defaults: the seed's drive.
TEMPO_PARAMS: tuple[Param, ...] = (
    Param("drive_pulse_ms", "ms", 0.0, 0.0, 1000.0,
          "0: the seed's wave max(sin,0)^2; > 0: one pulse of this width per cycle (excitation independent of f)"),
    Param("drive_phase_rad", "rad", 0.0, -math.pi, math.pi, "phase offset of the whole body wave"),
)

_DRIVE = {p.name: p for p in DRIVE_PARAMS}

#: The seed ("pyannow") Morris-Lecar-style cell, SCIENCE.md section 1.
PYANNOW_SPACE = ParameterSpace(
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
    + DRIVE_PARAMS + TEMPO_PARAMS,
)

#: c302's muscle cell parameters of sets C1 and C2, converted to mS/cm^2, mV, ms.
C302_SETS: dict[str, dict[str, float]] = {
    "C1": dict(g_ca_boyle=0.7, g_k_slow=0.6, g_k_fast=0.1, g_leak=5e-4, e_ca_mV=40.0, e_k_mV=-60.0,
               e_leak_mV=-50.0, c_m_uF=1.0, ca_decay_ms=11.5943, ca_rho=0.000238919, v_init_mV=-45.0),
    "C2": dict(g_ca_boyle=0.812775772264702, g_k_slow=0.45833751019872582, g_k_fast=0.042711643917483308,
               g_leak=0.002, e_ca_mV=0.0, e_k_mV=-30.0, e_leak_mV=-20.0, c_m_uF=1.0,
               ca_decay_ms=60.811870945509265, ca_rho=0.002238919, v_init_mV=-28.0),
}


def _c1(name, unit, lower, upper, doc, scale="linear"):
    return Param(name, unit, C302_SETS["C1"][name], lower, upper, doc, scale)


#: Boyle & Cohen 2008's muscle (pyannow_hpc/worm/boyle2008.py). Defaults are
#: c302's C1 muscle; bounds span C1 and C2 with margin.
BOYLE2008_SPACE = ParameterSpace(
    model="boyle2008",
    doc="Boyle & Cohen 2008 body-wall muscle (c302 GenericMuscleCell, sets C/C1/C2), graded-synapse wave drive",
    params=(
        _c1("g_ca_boyle", "mS/cm^2", 0.05, 5.0, "ca_boyle (EGL-19, L-type Ca2+; high confidence) conductance, e^2 f h", "log"),
        _c1("g_k_slow", "mS/cm^2", 0.02, 5.0, "k_slow (SHK-1 Kv1 in OpenWorm ChannelWorm2; medium confidence) conductance, n gate", "log"),
        _c1("g_k_fast", "mS/cm^2", 0.002, 2.0, "k_fast (SHL-1 Kv4 in OpenWorm ChannelWorm2; medium confidence) conductance, p^4 q", "log"),
        _c1("g_leak", "mS/cm^2", 1e-5, 0.1, "passive leak conductance", "log"),
        _c1("e_ca_mV", "mV", -10.0, 60.0, "ca_boyle reversal (C1 40, C2 0)"),
        _c1("e_k_mV", "mV", -80.0, -20.0, "k_slow and k_fast reversal (C1 -60, C2 -30)"),
        _c1("e_leak_mV", "mV", -70.0, -10.0, "leak reversal (C1 -50, C2 -20)"),
        _c1("c_m_uF", "uF/cm^2", 0.2, 5.0, "specific membrane capacitance"),
        _c1("ca_decay_ms", "ms", 2.0, 300.0, "calcium pool decay time (C1 11.6, C2 60.8)", "log"),
        _c1("ca_rho", "mol/(m A s)", 2e-5, 2e-2, "calcium pool factor rho (C1 2.39e-4, C2 2.24e-3)", "log"),
        _c1("v_init_mV", "mV", -80.0, 0.0, "initial membrane potential (C1 -45, C2 -28)"),
        # the onset detector's threshold, shared with the seed cell so that both
        # onset methods (crest needs it) work with either model
        PYANNOW_SPACE["ca_thresh_mV"],
        # default at the edge of the excitable region, where the worm plays at
        # a musical rate (~8 notes/s on the mazurka; docs/boyle2008.md); at 0.1
        # every muscle fires on every cycle (~107 notes/s), at 0.085 almost none
        Param("drive_g_syn", "mS/cm^2", 0.09, 0.0, 5.0,
              "peak conductance g_syn of the graded-synapse wave drive g_syn s (E_syn - V)"),
        Param("syn_e_rev_mV", "mV", 0.0, -20.0, 60.0, "drive synapse reversal (c302 C1 exc_syn_erev 0, C2 37)"),
        Param("syn_k_per_ms", "1/ms", 0.025, 0.005, 5.0,
              "graded-synapse rate k: decay time 1/k (c302 C1 0.025, C2 1.205)", "log"),
        _DRIVE["drive_freq_hz"],
        _DRIVE["noise_sd_uA"],  # the seed's 0.3 uA/cm^2 per step
        _DRIVE["coupling_g"],
    )
    + TEMPO_PARAMS,
)

#: The passive cell, the worked example of docs/cell_models.md (a third model
#: is one space here, one CellModel in worm/models.py and its C and JAX steps).
PASSIVE_SPACE = ParameterSpace(
    model="passive",
    doc="a passive membrane driven by the body wave (the worked example of a third cell model)",
    params=(
        Param("g_leak", "mS/cm^2", 0.05, 0.001, 2.0, "leak conductance", "log"),
        Param("e_leak_mV", "mV", -65.0, -90.0, -30.0, "leak reversal"),
        Param("c_m_uF", "uF/cm^2", 1.0, 0.1, 10.0, "membrane capacitance"),
        Param("drive_g_syn", "mS/cm^2", 0.1, 0.0, 5.0, "peak conductance of the wave drive g_syn w (E_syn - V)"),
        Param("syn_e_rev_mV", "mV", 0.0, -20.0, 60.0, "drive reversal"),
        PYANNOW_SPACE["ca_thresh_mV"],
        _DRIVE["drive_freq_hz"],
        _DRIVE["noise_sd_uA"],
        _DRIVE["coupling_g"],
    )
    + TEMPO_PARAMS,
)

#: every cell model's space, by name: the one table (worm/models.py builds its
#: CellModel table over the same names; tests/worm/test_cell_models.py checks)
SPACES: dict[str, ParameterSpace] = {sp.model: sp for sp in (PYANNOW_SPACE, BOYLE2008_SPACE, PASSIVE_SPACE)}


def space(model: str = "boyle2008") -> ParameterSpace:
    """The parameter space of cell model ``model``."""
    try:
        return SPACES[model]
    except KeyError:
        raise ParameterError(f"unknown cell model {model!r}; known: {', '.join(sorted(SPACES))}") from None


def models() -> tuple[str, ...]:
    return tuple(sorted(SPACES))


#: Drive phases per quadrant at segment 0, order DL, VL, DR, VR (SCIENCE.md section 1).
QUADRANT_PHASES_RAD = (0.0, math.pi, 0.05, math.pi + 0.05)
