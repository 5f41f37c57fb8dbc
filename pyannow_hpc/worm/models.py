"""The cell models: one :class:`CellModel` spec per model, in one explicit table.

A cell model is everything the backends, the jobs and the C302 path need to
know about it, in one place:

- its parameter space (:data:`pyannow_hpc.params.SPACES`: names, units, defaults, bounds);
- its native entry point: the C function and its parameter struct, whose
  field table (native/include/pyannow.h, [fields]) also holds the model's
  constants (rate constants, gate tables) -- :meth:`CellModel.constants`;
- its JAX step (a module with ``simulate``, ``make_simulator``, ``THETA_NAMES``,
  ``theta_from``), and a NumPy step where one exists;
- its reference solve for the LSODA accuracy checks;
- its default onset detector;
- whether :mod:`.c302_params` maps it onto c302's muscle.

The table is explicit and cheap: entries are names of modules and symbols,
imported on first use (so ``--help`` pays for neither JAX nor the library).
Adding a cell model is one :class:`ParameterSpace` in params.py, one entry
here, its C kernel (with its field table) and its JAX step: docs/cell_models.md
walks through the ``passive`` example.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..errors import ConfigError
from ..params import SPACES, ParameterSpace
from .activity import MuscleActivity, SimulationSpec

Simulator = Callable[[SimulationSpec], MuscleActivity]


def _resolve(path: str):
    """``"package.module:attr"`` -> the attribute; ``"package.module"`` -> the module."""
    mod, _, attr = path.partition(":")
    m = importlib.import_module(mod)
    return getattr(m, attr) if attr else m


@dataclass(frozen=True)
class CellModel:
    """One cell model of the 96-muscle surrogate (see the module docstring)."""

    name: str
    doc: str
    native_struct: str  # C type of its parameters, "pw_boyle2008_params"
    native_entry: str  # its C function, pw_simulate_<name>(params, drive, config, out, *traces)
    jax: str  # module of its JAX step
    default_onsets: str = "threshold"  # "crest" (the seed's phase-gated picker) or "threshold" (spikes)
    #: extra [n_samples][96] outputs the C function takes after pw_sim_output, in order
    native_traces: tuple[str, ...] = ()
    #: whether pw_sim_output.m_out/n_out carry its gates m and n (record_gates)
    gates: bool = False
    integrators: tuple[str, ...] = ("exponential",)
    numpy: str | None = None  # module of its plain-NumPy step, if any
    reference: str | None = None  # "module:function" of its tight-tolerance LSODA solve
    c302: bool = False  # whether c302_params.MAPPINGS maps it onto c302's C1 muscle
    #: parameters of the onset detector, not of the cell (no C field takes them)
    detector_params: tuple[str, ...] = ("ca_thresh_mV",)
    #: C inputs outside the space, set per call (an IClamp), with their defaults
    extras: Mapping[str, float] = field(default_factory=dict)

    @property
    def space(self) -> ParameterSpace:
        return SPACES[self.name]

    def constants(self) -> dict[str, float]:
        """The model's constants, read from its C field table (their one definition)."""
        from .. import _native

        return _native.struct_info(self.native_struct).constants()

    def jax_module(self):
        return _resolve(self.jax)

    def numpy_module(self):
        if self.numpy is None:
            raise ConfigError(f"the numpy backend implements only {', '.join(m for m in MODELS if MODELS[m].numpy)}, "
                              f"not {self.name!r}")
        return _resolve(self.numpy)

    def reference_solve(self) -> Callable:
        if self.reference is None:
            raise ConfigError(f"cell model {self.name!r} has no reference solve")
        return _resolve(self.reference)

    def c302_overrides(self, params: Mapping[str, float]) -> dict[str, str]:
        """c302 ``param_overrides`` for ``params`` (:func:`.c302_params.c302_overrides`)."""
        from .c302_params import c302_overrides

        if not self.c302:
            raise ConfigError(f"cell model {self.name!r} has no mapping onto c302's muscle")
        return c302_overrides(self.name, params)

    def check_spec(self, spec: SimulationSpec) -> None:
        """What this model cannot do, as one-line errors (rather than silently ignoring it)."""
        from .spikes import check_spike_settings

        if spec.integrator not in self.integrators:
            only = "only the " if len(self.integrators) == 1 else ""
            raise ConfigError(f"the {self.name} cell has {only}{' and '.join(self.integrators)} integrator"
                              f"{'s' if len(self.integrators) > 1 else ''}, got integrator={spec.integrator!r}")
        if spec.record_gates and not self.gates:
            traces = ", ".join(("v_mV",) + self.native_traces)
            raise ConfigError(f"the {self.name} cell records {traces}, not gates: drop record_gates/--gates")
        check_spike_settings(spec.spike_thresh_mV, spec.refractory_ms)


#: Every cell model, by name (the same names as params.SPACES).
MODELS: dict[str, CellModel] = {
    m.name: m
    for m in (
        CellModel(
            name="pyannow",
            doc="the seed's Morris-Lecar-style cell (SCIENCE.md section 1)",
            native_struct="pw_pyannow_params",
            native_entry="pw_simulate_pyannow",
            jax="pyannow_hpc.worm.jax_surrogate",
            numpy="pyannow_hpc.worm.numpy_reference",
            reference="pyannow_hpc.worm.pyannow_reference:solve",
            # the seed's phase-gated crest picker reproduces the seed's notes; the
            # cell, integrated accurately, sits on a plateau and never spikes
            default_onsets="crest",
            gates=True,
            integrators=("exponential", "seed_euler"),
            c302=True,
        ),
        CellModel(
            name="boyle2008",
            doc="Boyle & Cohen 2008's body-wall muscle as c302 ships it (docs/boyle2008.md)",
            native_struct="pw_boyle2008_params",
            native_entry="pw_simulate_boyle2008",
            jax="pyannow_hpc.worm.boyle2008_jax",
            reference="pyannow_hpc.worm.boyle2008_reference:solve",
            native_traces=("ca_mM",),
            c302=True,
            extras={"i_step_uA": 0.0, "step_start_ms": 0.0, "step_stop_ms": 0.0},
        ),
        CellModel(
            name="passive",
            doc="a passive membrane driven by the body wave: the worked example of docs/cell_models.md",
            native_struct="pw_passive_params",
            native_entry="pw_simulate_passive",
            jax="pyannow_hpc.worm.passive_jax",
            reference="pyannow_hpc.worm.passive_jax:reference_solve",
        ),
    )
}


def get(name: str) -> CellModel:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown cell model {name!r}; known: {', '.join(MODELS)}") from None


__all__ = ["CellModel", "MODELS", "Simulator", "get"]
