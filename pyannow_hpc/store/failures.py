"""What went wrong in a sweep, in one line: the first error of each kind.

A kind is the exception type a failed task's message starts with
(``TimeoutError: task ran past ...`` -> ``TimeoutError``), so a thousand
timeouts and one crash read as two entries, not a thousand.
"""
from __future__ import annotations

import numpy as np

from .ledger import FAILED

#: longest message kept per kind in the summary line
MAX_CHARS = 160


def error_kind(message: str) -> str:
    head = message.split(":", 1)[0].strip()
    return head if head and " " not in head else "error"


def first_errors(led, limit: int = 5) -> tuple[str, ...]:
    """``("TimeoutError: task ran past its 1 s limit (x3)", ...)``, in order of first appearance."""
    rows = np.flatnonzero(np.asarray(led.status) == FAILED)
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for row in rows:
        msg = " ".join(str(led.errors[row]).split()) or "no message"
        kind = error_kind(msg)
        first.setdefault(kind, msg[:MAX_CHARS])
        count[kind] = count.get(kind, 0) + 1
    out = [f"{msg} (x{count[kind]})" if count[kind] > 1 else msg for kind, msg in first.items()]
    if len(out) > limit:
        out = out[:limit] + [f"... {len(out) - limit} more kinds"]
    return tuple(out)
