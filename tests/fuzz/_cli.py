"""Running the CLI in-process and judging what it did (the fuzz suite's and the case tests' oracle)."""
from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from pyannow_hpc.cli import main
from pyannow_hpc.errors import EXIT_CODES

ERROR_PREFIX = "pyannow-hpc: error: "


@dataclass
class Run:
    rc: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith(ERROR_PREFIX)]

    @property
    def error(self) -> str:
        """The one error line (asserts there is exactly one and no traceback)."""
        problems = self.problems()
        assert not problems, problems
        assert self.rc != 0, (self.rc, self.err)
        return self.error_lines[0]

    def problems(self) -> list[str]:
        """What makes this run unacceptable whatever its input was."""
        found = []
        if "Traceback (most recent call last)" in self.err or "Traceback" in self.out:
            found.append("traceback")
        if self.rc not in EXIT_CODES:
            found.append(f"undocumented exit code {self.rc}")
        if self.rc == 70:
            found.append("internal error (unmapped exception)")
        if self.rc not in (0, 141) and len(self.error_lines) != 1:
            found.append(f"{len(self.error_lines)} error lines for rc {self.rc}")
        return found


def cli(*argv: str | os.PathLike) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # would be a bug: main returns, never exits
            rc = -1000 - int(exc.code or 0)
    return Run(rc, out.getvalue(), err.getvalue())


def temp_leftovers(folder: Path) -> list[Path]:
    """Hidden temporary siblings (``.name.XXXXXXXX.ext``) under ``folder``: none may survive a command."""
    return [p for p in Path(folder).rglob(".*") if p.is_file() and not p.name.endswith(".lock")]
