"""The boyle2008 cell on the C surrogate (``pw_simulate_boyle2008`` in libpyannow).

The native backend (:mod:`.native`) runs every cell model from its
:class:`~.models.CellModel`; this module adds the boyle2008 extras: a current
step (IClamp) injected into every cell, for comparisons with NEURON.
"""
from __future__ import annotations

from . import native
from .activity import MuscleActivity, SimulationSpec
from .boyle2008 import NO_STEP, CurrentStep


def cell_struct(params, step: CurrentStep = NO_STEP):
    """The pw_boyle2008_params of validated ``params`` and an IClamp ``step``."""
    return native.cell_struct("boyle2008", params, step.extras())


def _lib():
    return native.bind("boyle2008")


def simulate(spec: SimulationSpec, step: CurrentStep = NO_STEP) -> MuscleActivity:
    """Run the boyle2008 cell on the C surrogate; ``step`` adds an IClamp to every cell."""
    if spec.model != "boyle2008":
        from ..errors import ConfigError

        raise ConfigError(f"boyle2008_native runs the boyle2008 cell, not {spec.model!r}")
    return native.simulate(spec, **step.extras())
