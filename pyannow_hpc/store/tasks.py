"""What one ledger row is: a task, its status, and the run settings of its sweep.

The scheduler (``parallel/``) and the store both import this module, and it
imports neither: the status codes, the unit of work that travels between
ranks (:class:`Task`) and the settings every task of a sweep shares
(:class:`RunSettings`) are defined once, here.

A row of the ledger plus the ledger's :class:`RunSettings` is the whole
recipe of a task: ``LedgerData.task(row)`` and ``LedgerData.settings()``
rebuild it, so the sweep's resume, ``refine`` and ``train --ledger`` run
the very worm the sweep scored.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Mapping


class TaskStatus(enum.IntEnum):
    """``/tasks/status`` (int8 on disk). An IntEnum, so ``led.status == TaskStatus.DONE``
    works on the stored numpy array and old ledgers read unchanged."""

    PENDING = 0
    DONE = 1
    FAILED = 2


@dataclass(frozen=True)
class Task:
    """One unit of sweep work: the parameters a task sees (fixed + varied) and its seed."""

    task_id: int
    params: Mapping[str, float]
    seed: int


@dataclass(frozen=True)
class RunSettings:
    """How every task of one sweep is simulated and scored (all but params and seed).

    Stored as ledger attrs of the same names (:meth:`attrs`), read back by
    ``LedgerData.settings()``.
    """

    backend: str
    model: str
    duration_s: float
    dt_ms: float
    integrator: str
    onset_method: str
    window_start_s: float
    # defaulted: ledgers written before burn-in and the minimum note count existed
    burn_in_s: float = 0.0
    min_notes: int = 10

    @classmethod
    def from_config(cls, cfg) -> "RunSettings":
        """From a :class:`~pyannow_hpc.config.SweepConfig` (not imported: the store stays below config)."""
        sim = cfg.simulation
        return cls(cfg.backend, cfg.model, sim.duration_s, sim.dt_ms, sim.integrator, sim.onset_method, sim.start_s,
                   sim.burn_in_s, cfg.output.min_notes)

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        """The fields every ledger with stored settings has (the rest have defaults)."""
        from dataclasses import MISSING

        return tuple(k for k, f in cls.__dataclass_fields__.items() if f.default is MISSING)

    def attrs(self) -> dict[str, object]:
        return asdict(self)

    def simulate_kwargs(self) -> dict[str, object]:
        """The keyword arguments of ``worm.simulate`` (with a task's params and seed)."""
        return {"backend": self.backend, "model": self.model, "duration_s": self.duration_s,
                "dt_ms": self.dt_ms, "integrator": self.integrator}

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)
