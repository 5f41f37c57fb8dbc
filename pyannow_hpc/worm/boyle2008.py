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

This module is light (it never imports JAX nor loads the library at import):
the parameter space is data (:data:`pyannow_hpc.params.BOYLE2008_SPACE`), the
model's spec is :data:`.models.MODELS` ``["boyle2008"]``, and the gate table
is the C field table's (read on first use of :data:`GATES`); the
implementations are :mod:`.boyle2008_native` and :mod:`.boyle2008_jax`.
"""
from __future__ import annotations

import dataclasses

from ..params import BOYLE2008_SPACE, C302_SETS

MODEL = "boyle2008"

#: gate -> power in the conductance (e^2 f h, p^4 q, n): the code's structure,
#: the kinetics themselves are constants of the C field table
GATE_POWERS = {"e": 2, "f": 1, "p": 4, "q": 1, "n": 1}


def _constants() -> dict[str, float]:
    from .models import MODELS

    return MODELS[MODEL].constants()


def gate_table() -> dict[str, tuple[float, float, float, int]]:
    """Gate kinetics of c302/cell_C.xml: name -> (tau_ms, midpoint_mV, scale_mV, power),
    x_inf(V) = 1 / (1 + exp(-(V - midpoint) / scale)); read from the C field table."""
    c = _constants()
    return {g: (c[f"{g}_tau_ms"], c[f"{g}_mid_mV"], c[f"{g}_scale_mV"], k) for g, k in GATE_POWERS.items()}


#: the names below are read from the C field table on first use (module __getattr__)
_LAZY = {
    "GATES": gate_table,
    "H_ALPHA": lambda: _constants()["h_alpha"],  # c302's customHGate (Ca-dependent inactivation of ca_boyle)
    "H_CA_HALF_MM": lambda: _constants()["h_ca_half_mM"],
    "H_K_MM": lambda: _constants()["h_k_mM"],
    "RHO_TO_MM_PER_MS_PER_UA": lambda: _constants()["rho_unit"],  # NeuroML rho, mol/(m A s), to mM/ms per uA/cm^2
}


def __getattr__(name: str):
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    def extras(self) -> dict[str, float]:
        """The C inputs of pw_boyle2008_params this step sets (the model's ``extras``)."""
        return {"i_step_uA": self.amp_uA, "step_start_ms": self.start_ms, "step_stop_ms": self.stop_ms}


NO_STEP = CurrentStep()


def check_boyle_spec(spec) -> None:
    """What the boyle2008 backends cannot do, as one-line errors (rather than silently ignoring it)."""
    from .models import MODELS

    MODELS[MODEL].check_spec(spec)


__all__ = ["BOYLE2008_SPACE", "C302_SETS", "CurrentStep", "NO_STEP", "GATES", "GATE_POWERS", "MODEL", "gate_table"]
