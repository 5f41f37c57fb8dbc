"""Our parameter spaces -> c302 ``param_overrides`` (parameter set C1 muscles).

c302's C1 body-wall muscle (``GenericMuscleCell``, after Boyle & Cohen 2008)
has four channel densities and a calcium pool; the values below are C1's
defaults (``c302/parameters_C.py``, read from c302 1.x):

=============================  ===================  ===========================
c302 bioparameter              C1 default           needs a recompile?
=============================  ===================  ===========================
muscle_ca_boyle_cond_density   0.0007 S_per_cm2     no (generated hoc only)
muscle_k_slow_cond_density     0.0006 S_per_cm2     no
muscle_k_fast_cond_density     0.0001 S_per_cm2     no
muscle_leak_cond_density       5e-7 S_per_cm2       no
ca_conc_decay_time             11.5943 ms           yes (CaPool.mod changes)
=============================  ===================  ===========================

Two mappings:

- ``boyle2008`` (the Boyle & Cohen cell of ``pyannow_hpc/worm/boyle2008.py``)
  names the same channels, so its values map one-to-one after a unit
  conversion read from the parameter's declared unit (mS/cm^2 -> S_per_cm2).
  Confidence: high (same cell model, same roles).  Reversal potentials and
  the calcium pool are bioparameters C1 shares between muscles and neurons,
  so overriding them changes the neurons too (said in the table).  No
  counterpart: c_m_uF and v_init_mV (global to all cells in C1, left alone),
  the wave drive (drive_g_syn, syn_*, drive_freq_hz, noise, coupling): in
  c302 the motor neurons drive the muscles.
- ``pyannow`` (the seed's Morris-Lecar-style cell) only shares roles, not
  scales: its g_egl19 = 8 mS/cm^2 sits next to c302's 0.7 mS/cm^2.  So each
  mapped parameter scales the c302 default by the parameter's ratio to its
  own default: ``density = c302_default * value / default``.  The search then
  explores "x times more EGL-19 than the default" in both models.
  g_egl19 -> ca_boyle (EGL-19 is the L-type Ca channel; confident),
  g_exp2 -> k_slow (EXP-2 repolarises; c302's dominant repolarising K is
  k_slow, 6x k_fast -- a role match, not an identity: medium confidence),
  g_leak -> leak (confident).  No counterpart: v_half_ca_mV, tau_ca_ms (a
  gating time constant; c302's gates have fixed kinetics in cell_C.xml),
  g_nca (c302 has no NCA channel), c_m_uF (c302 shares it with neurons), and
  the drive/coupling parameters (in c302 the motor neurons drive the muscles).
  ca_thresh_mV becomes the threshold of the spike detector on the C302 traces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..errors import ConfigError, ParameterError
from ..params import space

#: C1 muscle defaults in c302's own units (value, unit string)
C1_DEFAULTS: dict[str, tuple[float, str]] = {
    "muscle_ca_boyle_cond_density": (0.0007, "S_per_cm2"),
    "muscle_k_slow_cond_density": (0.0006, "S_per_cm2"),
    "muscle_k_fast_cond_density": (0.0001, "S_per_cm2"),
    "muscle_leak_cond_density": (5e-7, "S_per_cm2"),
    "ca_conc_decay_time": (11.5943, "ms"),
    "ca_conc_rho": (0.000238919, "mol_per_m_per_A_per_s"),
    "ca_boyle_erev": (40.0, "mV"),
    "k_slow_erev": (-60.0, "mV"),
    "k_fast_erev": (-60.0, "mV"),
    "leak_erev": (-50.0, "mV"),
}

#: bioparameters whose change rewrites a .mod file (so the mechanisms recompile)
RECOMPILE_KEYS = frozenset({"ca_conc_decay_time", "ca_conc_rho"})

#: (our declared unit, c302 unit) -> factor
_CONVERT = {
    ("S/cm^2", "S_per_cm2"): 1.0,
    ("mS/cm^2", "S_per_cm2"): 1e-3,
    ("uS/cm^2", "S_per_cm2"): 1e-6,
    ("ms", "ms"): 1.0,
    ("mV", "mV"): 1.0,
    ("mol/(m A s)", "mol_per_m_per_A_per_s"): 1.0,
}
_SHARED = "shared with C1's neurons: applied to them too"


@dataclass(frozen=True)
class ParamMap:
    ours: str
    c302: str
    how: str  # "ratio" (scale the C1 default) or "unit" (convert the value)
    confidence: str
    note: str = ""


MAPPINGS: dict[str, tuple[ParamMap, ...]] = {
    "pyannow": (
        ParamMap("g_egl19", "muscle_ca_boyle_cond_density", "ratio", "high", "EGL-19 is the L-type Ca channel ca_boyle models"),
        ParamMap("g_exp2", "muscle_k_slow_cond_density", "ratio", "medium", "role match: the dominant repolarising K"),
        ParamMap("g_leak", "muscle_leak_cond_density", "ratio", "high"),
    ),
    "boyle2008": (
        ParamMap("g_ca_boyle", "muscle_ca_boyle_cond_density", "unit", "high"),
        ParamMap("g_k_slow", "muscle_k_slow_cond_density", "unit", "high"),
        ParamMap("g_k_fast", "muscle_k_fast_cond_density", "unit", "high"),
        ParamMap("g_leak", "muscle_leak_cond_density", "unit", "high"),
        ParamMap("ca_decay_ms", "ca_conc_decay_time", "unit", "high", "changes CaPool.mod: recompiles; " + _SHARED),
        ParamMap("ca_rho", "ca_conc_rho", "unit", "high", "changes CaPool.mod: recompiles; " + _SHARED),
        ParamMap("e_ca_mV", "ca_boyle_erev", "unit", "high", _SHARED),
        ParamMap("e_k_mV", "k_slow_erev", "unit", "high", _SHARED),
        ParamMap("e_k_mV", "k_fast_erev", "unit", "high", _SHARED),
        ParamMap("e_leak_mV", "leak_erev", "unit", "high", _SHARED),
    ),
}

#: the parameter (in any model that has it) the C302 backend uses outside
#: param_overrides: the threshold of its spike detector
DETECTOR_THRESHOLD = "ca_thresh_mV"


def detector_threshold(model: str) -> str | None:
    return DETECTOR_THRESHOLD if DETECTOR_THRESHOLD in space(model) else None


def unmapped(model: str) -> tuple[str, ...]:
    """Parameters of ``model`` with no C302 counterpart (ignored by the backend)."""
    used = {m.ours for m in MAPPINGS.get(model, ())} | {detector_threshold(model)}
    return tuple(n for n in space(model).names if n not in used)


def mapped(model: str) -> tuple[str, ...]:
    """Parameters of ``model`` the C302 backends use (channel overrides + the detector threshold)."""
    return tuple(n for n in space(model).names if n not in unmapped(model))


def unmapped_changed(model: str, params: Mapping[str, float]) -> tuple[str, ...]:
    """The parameters in ``params`` that have no C302 counterpart and differ from their default."""
    sp = space(model)
    skip = set(mapped(model))
    return tuple(n for n in sp.names if n not in skip and n in params and float(params[n]) != sp[n].default)


def check_mappable(model: str, params: Mapping[str, float], *, ignore_unmapped: bool = False,
                   backend: str = "c302") -> tuple[str, ...]:
    """Refuse (``ConfigError``, one line) parameters C302 cannot apply.

    A parameter with no C302 counterpart set to a non-default value would be
    varied by a sweep without changing anything.  With ``ignore_unmapped``
    the names are returned instead (the caller records them as ignored)."""
    if model not in MAPPINGS:
        raise ParameterError(f"the c302 backend has no parameter mapping for model {model!r}; known: {', '.join(MAPPINGS)}")
    bad = unmapped_changed(model, params)
    if bad and not ignore_unmapped:
        raise ConfigError(
            f"backend {backend!r} cannot apply {', '.join(bad)} (no C302 counterpart in model {model!r}); "
            f"it maps only {', '.join(mapped(model))}; set ignore_unmapped = true to run with them ignored"
        )
    return bad


def _fmt(value: float, unit: str) -> str:
    return f"{value:.9g} {unit}"


def c302_overrides(model: str, params: Mapping[str, float]) -> dict[str, str]:
    """``param_overrides`` for ``c302.c302_Muscles.setup`` from validated params.

    Only parameters that differ from C1 are returned, so the default point
    generates exactly C1.
    """
    if model not in MAPPINGS:
        raise ParameterError(f"the c302 backend has no parameter mapping for model {model!r}; known: {', '.join(MAPPINGS)}")
    sp = space(model)
    out: dict[str, str] = {}
    for m in MAPPINGS[model]:
        if m.ours not in sp:
            continue  # the model's space does not (yet) define it
        value = float(params.get(m.ours, sp[m.ours].default))
        c302_default, c302_unit = C1_DEFAULTS[m.c302]
        if m.how == "ratio":
            target = c302_default * value / sp[m.ours].default
        else:
            factor = _CONVERT.get((sp[m.ours].unit, c302_unit))
            if factor is None:
                raise ParameterError(f"cannot convert {m.ours} in {sp[m.ours].unit!r} to c302's {c302_unit}")
            target = value * factor
        if abs(target - c302_default) > 1e-9 * abs(c302_default):
            out[m.c302] = _fmt(target, c302_unit)
    return out


def mapping_table(model: str) -> str:
    """Markdown table of the mapping (used in docs/openworm.md and --help)."""
    rows = ["| our parameter | c302 bioparameter | how | confidence | note |", "|---|---|---|---|---|"]
    for m in MAPPINGS.get(model, ()):
        how = "x C1 default / our default" if m.how == "ratio" else "unit conversion"
        rows.append(f"| {m.ours} | {m.c302} | {how} | {m.confidence} | {m.note} |")
    if detector_threshold(model):
        rows.append(f"| {DETECTOR_THRESHOLD} | (spike detector) | threshold of the upward-crossing detector on C302 V | - | not a channel |")
    for name in unmapped(model):
        rows.append(f"| {name} | (none) | ignored | - | no C1 muscle counterpart (or global to every cell) |")
    return "\n".join(rows)
