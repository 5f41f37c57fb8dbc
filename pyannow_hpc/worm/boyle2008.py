"""The ``boyle2008`` cell model: Boyle & Cohen 2008's body-wall muscle, as c302 ships it.

c302 (OpenWorm's NeuroML network) uses this single-compartment cell for all 95
body-wall muscles of its C, C1 and C2 parameter sets; its files are the
specification followed here (``c302/cell_C.xml``, ``parameters_C.py``,
``parameters_C1.py``, ``parameters_C2.py``)::

    C dV/dt = g_ca e^2 f h (E_ca - V) + g_kf p^4 q (E_k - V) + g_ks n (E_k - V)
              + g_leak (E_leak - V) + g_syn s (E_syn - V) + noise + coupling
    dx/dt = (x_inf(V) - x) / tau_x   for x in e, f, p, q, n  (fixed tau_x)
    h = 1 + (h_inf([Ca]) - 1) alpha  (instantaneous, c302's customHGate)
    d[Ca]/dt = rho' g_ca e^2 f h (E_ca - V) - [Ca] / ca_decay_ms

The calcium pool is NeuroML's ``fixedFactorConcentrationModel``:
d[Ca]/dt = rho * (inward Ca current density) - ([Ca] - 0) / decay, rho in
mol/(m A s); with currents in uA/cm^2 and [Ca] in mM (= mol/m^3),
rho' = rho * 1e-5 per ms.  c302's pools hold ~1e-7 mM: the h gate's ca_half is
6.4e-8 mM, so the numbers are tiny but self-consistent.

The drive is c302's graded neuron-to-muscle synapse (NeuroML ``gradedSynapse``,
C1 set: erev 0 mV, k 0.025/ms) fed by the body wave instead of a motor neuron:
s_inf_j(t) = max(sin(2 pi f t + phi_j), 0)^2 (the seed's wave shape, the same
phases), ds/dt = (s_inf - s) k / (1 - s_inf).

This module is light (it never imports JAX): it registers the parameter space
and puts the model into the native and JAX backends' ``MODELS`` dicts; the
implementations (:mod:`.boyle2008_native`, :mod:`.boyle2008_jax`) are imported
only when a simulation runs.
"""
from __future__ import annotations

import dataclasses
import importlib

from ..params import DRIVE_PARAMS, PYANNOW_SPACE, Param, ParameterSpace, register_space

MODEL = "boyle2008"

_DRIVE = {p.name: p for p in DRIVE_PARAMS}

#: Gate kinetics of c302/cell_C.xml: name -> (tau_ms, midpoint_mV, scale_mV, power).
#: x_inf(V) = 1 / (1 + exp(-(V - midpoint) / scale)).  Same numbers in native/src/boyle2008.c.
GATES: dict[str, tuple[float, float, float, int]] = {
    "e": (0.100027, -3.3568, 6.74821, 2),  # ca_boyle activation
    "f": (150.88, 25.1815, -5.03176, 1),  # ca_boyle voltage inactivation (c302 flips B&C's sign, see cell_C.xml)
    "p": (2.25518, -8.05232, 7.42636, 4),  # k_fast activation
    "q": (149.963, -15.6456, -9.97468, 1),  # k_fast inactivation
    "n": (25.0007, 19.8741, 15.8512, 1),  # k_slow activation
}
#: c302's customHGate (calcium-dependent inactivation of ca_boyle)
H_ALPHA = 0.282473
H_CA_HALF_MM = 6.41889e-8
H_K_MM = -1.00056e-8
#: NeuroML rho, mol/(m A s), to mM/ms per uA/cm^2
RHO_TO_MM_PER_MS_PER_UA = 1e-5

#: c302's muscle cell parameters of sets C1 and C2, converted to mS/cm^2, mV, ms.
C302_SETS: dict[str, dict[str, float]] = {
    "C1": dict(g_ca_boyle=0.7, g_k_slow=0.6, g_k_fast=0.1, g_leak=5e-4, e_ca_mV=40.0, e_k_mV=-60.0,
               e_leak_mV=-50.0, c_m_uF=1.0, ca_decay_ms=11.5943, ca_rho=0.000238919, v_init_mV=-45.0),
    "C2": dict(g_ca_boyle=0.812775772264702, g_k_slow=0.45833751019872582, g_k_fast=0.042711643917483308,
               g_leak=0.002, e_ca_mV=0.0, e_k_mV=-30.0, e_leak_mV=-20.0, c_m_uF=1.0,
               ca_decay_ms=60.811870945509265, ca_rho=0.002238919, v_init_mV=-28.0),
}


def _p(name, unit, lower, upper, doc, scale="linear", default=None):
    return Param(name, unit, C302_SETS["C1"][name] if default is None else default, lower, upper, doc, scale)


#: Defaults are c302's C1 muscle; bounds span C1 and C2 with margin.
BOYLE2008_SPACE = register_space(
    ParameterSpace(
        model=MODEL,
        doc="Boyle & Cohen 2008 body-wall muscle (c302 GenericMuscleCell, sets C/C1/C2), graded-synapse wave drive",
        params=(
            _p("g_ca_boyle", "mS/cm^2", 0.05, 5.0, "ca_boyle (EGL-19, L-type Ca2+; high confidence) conductance, e^2 f h", "log"),
            _p("g_k_slow", "mS/cm^2", 0.02, 5.0, "k_slow (SHK-1 Kv1 in OpenWorm ChannelWorm2; medium confidence) conductance, n gate", "log"),
            _p("g_k_fast", "mS/cm^2", 0.002, 2.0, "k_fast (SHL-1 Kv4 in OpenWorm ChannelWorm2; medium confidence) conductance, p^4 q", "log"),
            _p("g_leak", "mS/cm^2", 1e-5, 0.1, "passive leak conductance", "log"),
            _p("e_ca_mV", "mV", -10.0, 60.0, "ca_boyle reversal (C1 40, C2 0)"),
            _p("e_k_mV", "mV", -80.0, -20.0, "k_slow and k_fast reversal (C1 -60, C2 -30)"),
            _p("e_leak_mV", "mV", -70.0, -10.0, "leak reversal (C1 -50, C2 -20)"),
            _p("c_m_uF", "uF/cm^2", 0.2, 5.0, "specific membrane capacitance"),
            _p("ca_decay_ms", "ms", 2.0, 300.0, "calcium pool decay time (C1 11.6, C2 60.8)", "log"),
            _p("ca_rho", "mol/(m A s)", 2e-5, 2e-2, "calcium pool factor rho (C1 2.39e-4, C2 2.24e-3)", "log"),
            _p("v_init_mV", "mV", -80.0, 0.0, "initial membrane potential (C1 -45, C2 -28)"),
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
        ),
    )
)


@dataclasses.dataclass(frozen=True)
class CurrentStep:
    """A current step injected into every cell (an IClamp), for comparisons with NEURON."""

    amp_uA: float = 0.0  # uA/cm^2
    start_ms: float = 0.0
    stop_ms: float = 0.0

    @classmethod
    def from_pA(cls, amp_pA: float, start_ms: float, stop_ms: float, area_um2: float) -> "CurrentStep":
        """Convert an absolute current (pA, as c302's offset current) to a density on ``area_um2``."""
        # pA / um^2 = 1e-12 A / 1e-8 cm^2 = 1e-4 A/cm^2 = 100 uA/cm^2
        return cls(amp_pA / area_um2 * 100.0, start_ms, stop_ms)


NO_STEP = CurrentStep()


def check_boyle_spec(spec) -> None:
    """What the boyle2008 backends cannot do, as one-line errors (rather than silently ignoring it)."""
    from ..errors import ConfigError
    from .spikes import check_spike_settings

    if spec.integrator != "exponential":
        raise ConfigError(f"the boyle2008 cell has only the exponential integrator, got integrator={spec.integrator!r}")
    if spec.record_gates:
        raise ConfigError("the boyle2008 cell records V and [Ca] (traces v_mV, ca_mM), not gates: drop record_gates/--gates")
    check_spike_settings(spec.spike_thresh_mV, spec.refractory_ms)


def _native_simulate(spec):
    return importlib.import_module(f"{__package__}.boyle2008_native").simulate(spec)


def _jax_simulate(spec):
    return importlib.import_module(f"{__package__}.boyle2008_jax").simulate(spec)


def register_backends() -> None:
    """Put the boyle2008 model into the ``MODELS`` dict of the native and JAX backends.

    Both backend modules are light to import (ctypes; JAX itself is imported
    only inside their functions), so registering never loads JAX.
    """
    for backend, fn in (("native", _native_simulate), ("jax_surrogate", _jax_simulate)):
        mod = importlib.import_module(f"{__package__}.{backend}")
        if hasattr(mod, "MODELS"):
            mod.MODELS.setdefault(MODEL, fn)


register_backends()

__all__ = ["BOYLE2008_SPACE", "C302_SETS", "CurrentStep", "NO_STEP", "GATES", "MODEL", "register_backends"]
