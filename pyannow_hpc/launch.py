"""Run external simulators through the native launcher (``native/src/launcher.c``).

Python builds the argument vector from validated values; C does fork + execve
with no shell, a new process group killed as a whole on timeout (SIGTERM, then
SIGKILL) and output captured to files.  :func:`task_dir` gives every task a
private directory that is removed on every exit path (success, error,
timeout, Ctrl-C), without following symlinks into shared caches.

    with task_dir(prefix="c302-") as d:
        res = run(["docker", "run", ...], cwd=d, timeout_s=600)
"""
from __future__ import annotations

import contextlib
import ctypes
import math
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from ._native import load
from .errors import ConfigError, RuntimeNotFoundError, SimulationError

PW_OK, PW_E_INVALID, PW_E_SYSTEM, PW_E_TIMEOUT = 0, -1, -4, -5
_MAX_ARG_CHARS = 1 << 16


class _Spec(ctypes.Structure):
    _fields_ = [
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("envp", ctypes.POINTER(ctypes.c_char_p)),
        ("workdir", ctypes.c_char_p),
        ("stdout_path", ctypes.c_char_p),
        ("stderr_path", ctypes.c_char_p),
        ("timeout_s", ctypes.c_double),
        ("kill_grace_s", ctypes.c_double),
    ]


class _Result(ctypes.Structure):
    _fields_ = [
        ("exit_code", ctypes.c_int32),
        ("term_signal", ctypes.c_int32),
        ("timed_out", ctypes.c_int32),
        ("caller_signal", ctypes.c_int32),
        ("exec_errno", ctypes.c_int32),
        ("pid", ctypes.c_int64),
        ("wall_s", ctypes.c_double),
    ]


def _lib():
    lib = load()
    if not getattr(lib, "_pw_launcher_ready", False):
        lib.pw_launch.argtypes = [ctypes.POINTER(_Spec), ctypes.POINTER(_Result)]
        lib.pw_launch.restype = ctypes.c_int
        lib.pw_which.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.pw_which.restype = ctypes.c_int
        lib.pw_task_dir_create.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.pw_task_dir_create.restype = ctypes.c_int
        lib.pw_task_dir_remove.argtypes = [ctypes.c_char_p]
        lib.pw_task_dir_remove.restype = ctypes.c_int
        lib._pw_launcher_ready = True
    return lib


# ------------------------------------------------------------- validation


def check_arg(value: object, what: str = "argument") -> str:
    """One argv element: a str without NUL (C would silently cut it there)."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__} {value!r}")
    if "\x00" in value:
        raise ConfigError(f"{what} contains a NUL byte: {value!r}")
    if len(value) > _MAX_ARG_CHARS:
        raise ConfigError(f"{what} is {len(value)} characters long (limit {_MAX_ARG_CHARS})")
    return value


def check_number(value: object, what: str, lo: float, hi: float, *, integer: bool = False) -> str:
    """A finite number in [lo, hi], formatted for argv (``repr`` keeps every digit)."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or not (lo <= x <= hi):
        raise ConfigError(f"{what} must be a finite number in [{lo:g}, {hi:g}], got {value!r}")
    if integer:
        if x != int(x):
            raise ConfigError(f"{what} must be a whole number, got {value!r}")
        return str(int(x))
    return repr(x)


def check_path(path: os.PathLike | str, what: str, *, mount: bool = False, must_exist: bool = True) -> str:
    """An absolute path; for a bind mount also free of ':' and ',' (the
    separators of ``-v HOST:CTR`` and ``--bind A:B,C:D``) and of newlines."""
    s = check_arg(os.fspath(path), what)
    p = os.path.abspath(s)
    if mount and any(c in p for c in ":,\n"):
        raise ConfigError(f"{what} {p!r} cannot be mounted into a container: it contains ':' ',' or a newline")
    if must_exist and not os.path.exists(p):
        raise ConfigError(f"{what} {p!r} does not exist")
    return p


def which(name: str) -> str | None:
    """The executable ``name`` resolves to on PATH (as the launcher will run it)."""
    buf = ctypes.create_string_buffer(4096)
    rc = _lib().pw_which(check_arg(name, "program name").encode(), buf, len(buf))
    return buf.value.decode() if rc == PW_OK else None


# ------------------------------------------------------------- task dirs


@contextlib.contextmanager
def task_dir(prefix: str = "pw-task-", base: os.PathLike | str | None = None, keep: bool = False) -> Iterator[Path]:
    """A fresh private directory, removed (tree, not following symlinks) on
    every exit path unless ``keep``.  Base: ``$PYANNOW_TASK_DIR`` or the temp dir."""
    base_s = os.fspath(base or os.environ.get("PYANNOW_TASK_DIR") or tempfile.gettempdir())
    os.makedirs(base_s, exist_ok=True)
    lib = _lib()
    buf = ctypes.create_string_buffer(4096)
    rc = lib.pw_task_dir_create(os.path.abspath(base_s).encode(), prefix.encode(), buf, len(buf))
    if rc != PW_OK:
        raise SimulationError(f"cannot create a task directory under {base_s} (status {rc}): check it is writable")
    path = Path(buf.value.decode())
    try:
        yield path
    finally:
        if not keep:
            lib.pw_task_dir_remove(str(path).encode())


def remove_tree(path: os.PathLike | str) -> None:
    """Remove a directory tree without following symlinks (the launcher's remover)."""
    if _lib().pw_task_dir_remove(os.fspath(path).encode()) != PW_OK:
        raise SimulationError(f"cannot remove {os.fspath(path)}")


# ------------------------------------------------------------- running


@dataclass(frozen=True)
class LaunchResult:
    argv: tuple[str, ...]
    exit_code: int
    term_signal: int
    wall_s: float
    pid: int
    stdout_path: str | None
    stderr_path: str | None

    def tail(self, n_chars: int = 400) -> str:
        """The end of captured stderr (else stdout), for one-line error messages."""
        for p in (self.stderr_path, self.stdout_path):
            if p and os.path.exists(p):
                with open(p, "rb") as f:
                    f.seek(max(0, os.path.getsize(p) - n_chars))
                    text = f.read().decode(errors="replace").strip()
                if text:
                    return " | ".join(text.splitlines()[-3:])
        return ""


def run(
    argv: Sequence[str],
    *,
    timeout_s: float,
    cwd: os.PathLike | str | None = None,
    env: Mapping[str, str] | None = None,
    stdout: os.PathLike | str | None = None,
    stderr: os.PathLike | str | None = None,
    kill_grace_s: float = 5.0,
) -> LaunchResult:
    """Run ``argv`` (no shell) and wait.  A missing program raises
    :class:`RuntimeNotFoundError`; a timeout or a program that cannot start
    raises :class:`SimulationError`; any exit code is returned (callers
    decide what non-zero means).  Ctrl-C / SIGTERM while waiting kill the
    child's group first, then propagate."""
    args = tuple(check_arg(a, f"argv[{i}]") for i, a in enumerate(argv))
    if not args or not args[0]:
        raise ConfigError("empty command line")
    check_number(timeout_s, "timeout_s", 1e-3, 1e7)
    check_number(kill_grace_s, "kill_grace_s", 0.0, 3600.0)
    if which(args[0]) is None:
        raise RuntimeNotFoundError(f"{args[0]!r} not found on PATH: install it or put it on PATH")
    c_argv = (ctypes.c_char_p * (len(args) + 1))(*[a.encode() for a in args], None)
    c_env = None
    if env is not None:
        items = [check_arg(f"{k}={v}", f"environment variable {k}") for k, v in env.items()]
        c_env = (ctypes.c_char_p * (len(items) + 1))(*[s.encode() for s in items], None)
    enc = lambda p: None if p is None else check_arg(os.fspath(p), "path").encode()  # noqa: E731
    spec = _Spec(
        c_argv,
        ctypes.cast(c_env, ctypes.POINTER(ctypes.c_char_p)) if c_env is not None else None,
        enc(cwd),
        enc(stdout),
        enc(stderr),
        float(timeout_s),
        float(kill_grace_s),
    )
    res = _Result()
    rc = _lib().pw_launch(ctypes.byref(spec), ctypes.byref(res))
    out = LaunchResult(args, res.exit_code, res.term_signal, res.wall_s, res.pid,
                       None if stdout is None else os.fspath(stdout), None if stderr is None else os.fspath(stderr))
    if rc == PW_OK:
        return out
    if res.caller_signal == signal.SIGINT:
        raise KeyboardInterrupt
    if res.caller_signal:
        # the scheduler is ending the job: unwind (running every cleanup) and exit
        raise SystemExit(128 + res.caller_signal)
    if rc == PW_E_TIMEOUT:
        raise SimulationError(f"{os.path.basename(args[0])} ran past its {timeout_s:g} s limit; its process group was killed")
    if res.exec_errno:
        raise SimulationError(f"cannot start {args[0]}: {os.strerror(res.exec_errno)} (cwd {cwd}, output {stdout})")
    raise SimulationError(f"launching {args[0]} failed (status {rc})")
