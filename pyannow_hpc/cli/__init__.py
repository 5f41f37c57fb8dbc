"""``pyannow-hpc``: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` (``pyannow_hpc/cli/<name>.py``) defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``, and
imports its heavy dependencies inside ``run`` so that ``--help`` stays fast.

Errors derived from :class:`~pyannow_hpc.errors.PyannowError` are printed as a
single ``pyannow-hpc: error: ...`` line with a non-zero exit status
(:data:`~pyannow_hpc.errors.EXIT_CODES`); so is everything else, mapped by
:func:`map_exception` (a full disk, a missing file, memory, a bug: exit 70).
``--debug`` (or ``PYANNOW_DEBUG=1``) shows the traceback instead.
"""
from __future__ import annotations

import argparse
import errno
import functools
import importlib
import os
import signal
import sys
import threading

from .. import __version__
from ..errors import PyannowError

#: subcommand name -> module under pyannow_hpc.cli (order = order in --help)
#: Add a line here when you add a command module.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "simulate": "simulate",
    "report": "report",
    "retest": "retest",
    "sweep": "sweep",
    "merge": "merge",
    "refine": "refine",
    "excitability": "excitability",
    "train": "train",
    "progression": "progression",
    "analyze": "analyze",
    "optimize": "optimize",
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pyannow-hpc",
        description="Which ion-channel parameters make a simulated C. elegans play Chopin best? "
        "Simulate the worm's 96 body-wall muscles, turn them into piano notes, score them "
        "against a score, learn, and search the parameter space over MPI ranks.",
        epilog="Run `pyannow-hpc COMMAND --help` for each command. Under MPI: "
        "`mpiexec -n 4 pyannow-hpc sweep run.toml`.",
    )
    parser.add_argument("--version", action="version", version=f"pyannow_hpc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        doc = (module.__doc__ or "").strip()
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=doc or module.HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is the same one line as every other error
    (argparse prints the usage and the message on two lines)."""

    def error(self, message: str):  # noqa: D102
        _error(f"{self.prog}: {message} (see --help)", 2)
        raise SystemExit(2)


def one_line(msg: str) -> str:
    """A message as exactly one line: a newline or control character inside (a
    path with a newline, a multi-line library message) is shown escaped."""
    msg = str(msg).strip()
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in msg) or "unknown error"


def _error(msg: str, code: int) -> int:
    print(f"pyannow-hpc: error: {one_line(msg)}", file=sys.stderr, flush=True)
    return code


#: errno -> exit code for OSErrors no command turned into a PyannowError itself
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.ENAMETOOLONG, errno.EACCES,
                  errno.EPERM, errno.EISDIR, errno.EEXIST, errno.ETXTBSY, errno.ELOOP, errno.EIO}


def map_exception(exc: BaseException) -> tuple[str, int]:
    """(one-line message, exit code) for any exception a command let through.

    PyannowErrors carry both; the rest are mapped by kind so that nothing, not
    even a bug, reaches the user as a traceback (``--debug`` shows it).
    """
    if isinstance(exc, PyannowError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"no space left on device while writing {exc.filename or 'output'}", 4
        if exc.errno == errno.ENAMETOOLONG:
            return f"file name too long{where}: a name may have at most 255 bytes on most filesystems", 4
        code = 4 if exc.errno in _OUTPUT_ERRNOS else 2
        return f"{exc.strerror or exc}{where}", code
    if isinstance(exc, MemoryError):
        return ("out of memory: the run needs more memory than this machine has; shorten the simulation, "
                "lower the sample rate or the number of tasks"), 5
    if isinstance(exc, OverflowError):
        return f"a number is too large: {exc}", 2
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", 70


def _terminate(signum, frame):
    # SIGTERM/SIGHUP as an exception, so `finally` blocks remove temporary files
    raise SystemExit(128 + signum)


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    """Built once per process (17 ms): parsing does not change it."""
    return build_parser()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2, already printed)
        return int(exc.code or 0) if isinstance(exc.code, (int, type(None))) else 2
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("PYANNOW_DEBUG") == "1"
    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                old[sig] = signal.signal(sig, _terminate)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except BrokenPipeError:
        # `pyannow-hpc ... | head`: the reader left; exit quietly like other CLI tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except SystemExit as exc:
        if isinstance(exc.code, int) and exc.code >= 128:
            return _error(f"terminated by signal {exc.code - 128}", exc.code)
        raise
    except Exception as exc:
        if debug:
            raise
        return _error(*map_exception(exc))
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
