"""Provenance recorded with every result file: what produced it, where, when."""
from __future__ import annotations

import datetime as _dt
import functools
import platform
import socket
import subprocess
import sys
from pathlib import Path

from .. import __version__


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=None)
def git_hash() -> str:
    """The checkout's commit (with ``-dirty``), or ``unknown`` outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=5, check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(**extra) -> dict[str, str | int | float]:
    """Package version, git hash, host, Python, command line, UTC time (+ ``extra``)."""
    info: dict[str, str | int | float] = {
        "package_version": __version__,
        "git_hash": git_hash(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "command": " ".join(sys.argv),
        "created_utc": utc_now(),
    }
    info.update(extra)
    return info
