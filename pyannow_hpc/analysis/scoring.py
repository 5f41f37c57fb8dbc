"""Which score an analysis explains, and what its label says.

The ledgers store several scores per evaluation; SCIENCE.md section 5 says an
onset F1 alone mostly measures note count and evenness, and the circular shift
of the worm's own onsets is the null that asks the real question. So the
default is the shift-null z when a ledger has one, else mir_eval's one-to-one
F1, else the onset loss (the sweep's objective). Every table is labelled with
the score it analyses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ..errors import ConfigError
from ..music.metrics import metric_label

#: shift-null z columns, most specific first (the scores helper's names)
SHIFT_Z_KEYS = ("shift_z", "f1_shift_z", "z_shift", "shift_null_z", "f1_mireval_shift_z")
_SHIFT_Z_RE = re.compile(r"(shift.*_z$|^z_.*shift|shift_z)")
#: fallbacks after a shift-null z, in order (f1 / loss: the optimiser ledger's names)
FALLBACK_KEYS = ("f1_mireval", "f1", "onset_loss", "loss")
#: other spellings of the sweep's metrics (the nulls' and the optimiser's AlignmentScore fields)
ALIASES = {"f1": "f1_mireval", "f1_any": "f1_seed"}


@dataclass(frozen=True)
class Score:
    """One score column: its ledger key, its label, and its direction."""

    key: str
    label: str
    higher_is_better: bool

    def goodness(self, values):
        """Values oriented so that larger is always better (a loss is negated)."""
        return values if self.higher_is_better else -values


def is_shift_z(key: str) -> bool:
    return key in SHIFT_Z_KEYS or bool(_SHIFT_Z_RE.search(key))


def label(key: str) -> str:
    if is_shift_z(key):
        return f"shift-null z of the one-to-one F1 ({key}: circular shifts of the worm's own onsets)"
    if key == "loss":  # the optimiser ledger's objective column
        return "loss (the optimiser's objective)"
    return metric_label(ALIASES.get(key, key))


def describe(key: str) -> Score:
    # a loss or an error falls as the worm improves; every F1, z, precision, recall rises
    lower = "loss" in key or key.endswith("_error")
    return Score(key=key, label=label(key), higher_is_better=not lower)


def choose(keys: Iterable[str], requested: str | None = None) -> Score:
    """The score to analyse among a ledger's metric ``keys`` (``requested`` wins)."""
    keys = tuple(keys)
    if requested is not None:
        if requested not in keys:
            raise ConfigError(f"score {requested!r} is not in the ledger; it has: {', '.join(sorted(keys))}")
        return describe(requested)
    for key in SHIFT_Z_KEYS + tuple(sorted(k for k in keys if is_shift_z(k))):
        if key in keys:
            return describe(key)
    for key in FALLBACK_KEYS:
        if key in keys:
            return describe(key)
    raise ConfigError(f"no score to analyse: the ledger has none of shift_z, f1_mireval, onset_loss ({', '.join(sorted(keys))})")
