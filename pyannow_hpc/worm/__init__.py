"""Worm backends behind one small protocol.

``simulate(spec) -> MuscleActivity`` is all a backend implements.  Backends
are listed by name in :data:`BACKENDS` (module path, imported lazily so that
``--help`` never pays for JAX or NEURON); the cell models they run are the
:class:`~.models.CellModel` table :data:`.models.MODELS`:

- ``native``: the C surrogate (libpyannow), the fast path;
- ``jax``: the differentiable, vmappable JAX surrogate;
- ``numpy``: plain-NumPy forward Euler, the benchmark baseline;
- ``c302``: OpenWorm's C302 NeuroML network run in NEURON;
- ``container``: Sibernetic + C302 in the OpenWorm image (docker/apptainer).
"""
from __future__ import annotations

import importlib
from typing import Mapping

from ..errors import ConfigError
from ..params import space
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec, muscle_names

BACKENDS: dict[str, str] = {
    "native": "pyannow_hpc.worm.native",
    "jax": "pyannow_hpc.worm.jax_surrogate",
    "numpy": "pyannow_hpc.worm.numpy_reference",
    "c302": "pyannow_hpc.worm.c302_backend",
    "container": "pyannow_hpc.worm.container",
}

INTEGRATORS = ("exponential", "seed_euler")

#: The cell model the demo and the sweep use unless told otherwise. boyle2008
#: (c302's body-wall muscle, validated against NEURON) spikes; the seed's cell,
#: integrated accurately, sits on a plateau. Evidence: README, docs/boyle2008.md.
DEFAULT_MODEL = "boyle2008"



def default_onset_method(model: str) -> str:
    """The model's natural onset detector (:attr:`CellModel.default_onsets`): the
    seed's phase-gated crest picker for the seed cell (it reproduces the seed's
    notes), spike threshold crossings for a cell that really spikes."""
    from .models import get

    return get(model).default_onsets


def backend_module(name: str):
    try:
        path = BACKENDS[name]
    except KeyError:
        raise ConfigError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}") from None
    return importlib.import_module(path)


def make_spec(
    params: Mapping[str, float] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    duration_s: float = 10.0,
    dt_ms: float = 0.5,
    seed: int = 0,
    integrator: str = "exponential",
    sample_rate_hz: float | None = None,
    **kw,
) -> SimulationSpec:
    """Validate everything at the edge and build a :class:`SimulationSpec`.

    The default model is :data:`DEFAULT_MODEL`, as for the jobs (``demo``,
    ``sweep``, ``simulate`` on the command line); the seed cell is
    ``model="pyannow"``.

    ``sample_rate_hz=None`` records at 1 kHz, except in ``seed_euler`` mode,
    which records every step: its period-2 flip between the clips would alias
    to one phase at any lower rate, and the seed's crest detector saw every step.
    """
    if sample_rate_hz is None:
        sample_rate_hz = 1000.0 / dt_ms if integrator == "seed_euler" and dt_ms > 0 else 1000.0
    full = space(model).validate(params)
    if integrator not in INTEGRATORS:
        raise ConfigError(f"unknown integrator {integrator!r}; choose one of {', '.join(INTEGRATORS)}")
    for name, value, lo in (("duration_s", duration_s, 0.0), ("dt_ms", dt_ms, 0.0), ("sample_rate_hz", sample_rate_hz, 0.0)):
        if not (value == value) or value <= lo or value == float("inf"):
            raise ConfigError(f"{name} must be a finite number > {lo:g}, got {value!r}")
    if sample_rate_hz > 1000.0 / dt_ms:
        raise ConfigError(f"sample_rate_hz {sample_rate_hz:g} exceeds the integration rate {1000.0 / dt_ms:g} Hz (dt_ms={dt_ms:g})")
    return SimulationSpec(
        params=full,
        model=model,
        duration_ms=duration_s * 1000.0,
        dt_ms=dt_ms,
        seed=int(seed),
        integrator=integrator,
        sample_rate_hz=sample_rate_hz,
        **kw,
    )


def simulate(params: Mapping[str, float] | None = None, *, backend: str = "native", **kw) -> MuscleActivity:
    """Simulate the worm: ``simulate({"g_ca_boyle": 1.0}, duration_s=5)``,
    ``simulate({"g_egl19": 10}, model="pyannow")``."""
    spec = make_spec(params, **kw)
    return backend_module(backend).simulate(spec)


__all__ = ["DEFAULT_MODEL", "default_onset_method", "BACKENDS", "MuscleActivity", "SimulationSpec", "N_MUSCLES", "muscle_names", "make_spec", "simulate", "backend_module"]
