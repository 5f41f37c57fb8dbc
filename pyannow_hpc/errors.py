"""Typed errors. Anything raised as a :class:`PyannowError` reaches the user as
one line (``pyannow-hpc: error: ...``) and a non-zero exit, never a traceback.

Validation happens at the edge (CLI, config, parameter space, file readers);
inside the package, code trusts its inputs.
"""
from __future__ import annotations


class PyannowError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = 2


class ConfigError(PyannowError):
    """A config file or CLI value is malformed, unknown or out of range."""


class ParameterError(ConfigError):
    """A channel/drive parameter is NaN, infinite, unknown or out of bounds."""


class TargetError(PyannowError):
    """A target score (MIDI, MusicXML, kern) cannot be read or is empty."""


class NativeLibraryError(PyannowError):
    """The native library is missing, unloadable or built for another ABI."""


class SimulationError(PyannowError):
    """A simulation failed (blew up to NaN, a backend crashed or timed out)."""

    exit_code = 3


class RuntimeNotFoundError(PyannowError):
    """A container runtime (docker, apptainer) or simulator is not installed."""


class OutputError(PyannowError):
    """An output path cannot be written (permissions, full disk)."""
