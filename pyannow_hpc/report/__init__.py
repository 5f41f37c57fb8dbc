"""The rank-0 reporter: a sweep ledger -> WAVs of the best K and the target,
labelled F1 tables (Markdown, CSV), plots and one HTML page.

:func:`render` (``pyannow-hpc report LEDGER``) is the public entry point;
:mod:`.tables`, :mod:`.plots` and :mod:`.html` are its parts.
"""
from .render import render

__all__ = ["render"]
