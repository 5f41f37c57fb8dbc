"""``pyannow-hpc``: one entry point, one module per subcommand.

Each module in :data:`COMMANDS` (``pyannow_hpc/cli/<name>.py``) defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``, and
imports its heavy dependencies inside ``run`` so that ``--help`` stays fast.

Errors derived from :class:`~pyannow_hpc.errors.PyannowError` are printed as a
single ``pyannow-hpc: error: ...`` line with a non-zero exit status; so are a
full disk and a missing file. ``--debug`` (or ``PYANNOW_DEBUG=1``) shows the
traceback instead.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

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
    "optimize": "optimize",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def _error(msg: str, code: int) -> int:
    print(f"pyannow-hpc: error: {msg}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    debug = args.debug or os.environ.get("PYANNOW_DEBUG") == "1"
    try:
        return int(args._run(args) or 0)
    except PyannowError as exc:
        if debug:
            raise
        return _error(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _error("interrupted", 130)
    except BrokenPipeError:
        # `pyannow-hpc ... | head`: the reader left; exit quietly like other CLI tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        if debug:
            raise
        if exc.errno == errno.ENOSPC:
            return _error(f"no space left on device while writing {exc.filename or 'output'}", 4)
        if exc.errno in (errno.ENOENT, errno.EACCES, errno.EROFS, errno.EISDIR, errno.ENOTDIR):
            return _error(f"{exc.strerror}: {exc.filename}", 2)
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
