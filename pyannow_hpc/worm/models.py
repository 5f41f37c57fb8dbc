"""Cell-model dispatch shared by the surrogate backends.

Each surrogate backend (native, jax) keeps a ``MODELS`` dict of cell model
name -> ``simulate(spec)``; a cell model living in its own module
(``worm/<model>.py``, e.g. ``boyle2008``) adds itself to those dicts when
imported. :func:`dispatch` imports that module on first use, so
``simulate(spec)`` with ``spec.model = "boyle2008"`` works on any backend
without the backend knowing the model.
"""
from __future__ import annotations

import importlib
from typing import Callable, Mapping

from .activity import MuscleActivity, SimulationSpec

Simulator = Callable[[SimulationSpec], MuscleActivity]


def dispatch(models: Mapping[str, Simulator], spec: SimulationSpec, backend: str) -> MuscleActivity:
    if spec.model not in models:
        try:
            importlib.import_module(f"{__package__}.{spec.model}")
        except ModuleNotFoundError:
            pass
    try:
        fn = models[spec.model]
    except KeyError:
        from ..errors import ConfigError

        raise ConfigError(f"the {backend} backend has no cell model {spec.model!r}; known: {', '.join(models)}") from None
    return fn(spec)
