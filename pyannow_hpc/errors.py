"""Typed errors. Anything raised as a :class:`PyannowError` reaches the user as
one line (``pyannow-hpc: error: ...``) and a non-zero exit, never a traceback.

Validation happens at the edge (CLI, config, parameter space, file readers);
inside the package, code trusts its inputs.

Exit codes (documented in docs/errors.md; :data:`EXIT_CODES` is the table the
CLI and the fuzz suite check against):
"""
from __future__ import annotations

#: every status ``pyannow-hpc`` may exit with, and what it means
EXIT_CODES: dict[int, str] = {
    0: "success",
    2: "bad input: a flag, config, parameter, target score or ledger file is wrong, unreadable or corrupt",
    3: "a simulation failed (blew up to NaN, a backend crashed or timed out)",
    4: "an output cannot be written: full disk, permissions, a name too long, or a path that is "
       "not a regular file (device, FIFO, socket, symlink, folder)",
    5: "the run would exceed a resource limit (memory for traces, task table, grid, shard count); "
       "the message names the limit",
    6: "the ledger is locked by another writer (the message names its host and pid)",
    8: "a sweep finished with more failed tasks than its allow_failures",
    70: "internal error (a bug: please report it with the --debug traceback)",
    130: "interrupted (Ctrl-C)",
    141: "stdout closed by the reader (`| head`)",
    143: "terminated (SIGTERM: Slurm's time limit, scancel, kill)",
}
__doc__ += "\n".join(f"    {code:>3}  {text}" for code, text in EXIT_CODES.items()) + "\n"


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
    """An output path cannot be written (permissions, full disk, not a regular file)."""

    exit_code = 4


class LedgerError(OutputError):
    """A ledger file is missing, unreadable, corrupt, or belongs to another sweep.

    An OutputError (a ledger is also what a sweep writes) but exit 2: mostly it
    is an input that is wrong."""

    exit_code = 2


class ResourceLimitError(ConfigError):
    """A run would need more memory (or items) than this machine can hold; the
    message names the limit and how to stay under it."""

    exit_code = 5


class LockError(PyannowError):
    """Another process holds the ledger's write lock (the message names it)."""

    exit_code = 6


class TaskFailuresError(PyannowError):
    """A sweep finished with more failed tasks than ``scheduler.allow_failures``."""

    exit_code = 8
