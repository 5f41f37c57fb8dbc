"""A chunk's outcomes in columns: what a worker sends rank 0 with its next request.

Why columns: at scale every outcome passes through rank 0, and per-outcome
Python work there is the one cost no chunk size amortises (docs/sweep.md,
scaling model: ``P = T/b`` ranks saturate one coordinator).  Sent as one
:class:`~.isolation.Outcome` tuple each, rank 0 unpickled, unpacked and recorded
every outcome field by field (b ~ 4 us).  A block carries the chunk as a few
arrays -- ids, statuses, one (k, m) metric matrix, the notes concatenated with
offsets -- so rank 0 unpickles a handful of byte strings and records the chunk
with one vectorised store per metric (:meth:`LedgerData.record_block`); what
stays per outcome is a list store of its notes and error.

Exact: :meth:`OutcomeBlock.outcomes` gives back the very outcomes it was built
from (metric keys a task did not report stay absent, not NaN).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .isolation import Outcome, _STATUS


@dataclass(frozen=True)
class OutcomeBlock:
    """Outcomes ``0 .. k-1`` of one chunk, column by column."""

    task_ids: np.ndarray  # int64 (k,)
    status: np.ndarray  # int8 (k,): TaskStatus codes
    metric_keys: tuple[str, ...]  # every key any of the k reported, in first-seen order
    metrics: np.ndarray  # float64 (m, k), a row per key (contiguous columns for the ledger); NaN where absent
    has_metric: np.ndarray | None  # bool (m, k): which keys each outcome reported; None: all of them
    note_offsets: np.ndarray  # int64 (k + 1,): outcome i's notes are [off[i], off[i+1])
    onsets_s: np.ndarray  # float64 (total notes,)
    pitches: np.ndarray  # int16 (total notes,)
    errors: tuple[str, ...]
    wall_s: np.ndarray  # float64 (k,)

    def __len__(self) -> int:
        return len(self.task_ids)

    @classmethod
    def from_outcomes(cls, outs: Sequence[Outcome]) -> "OutcomeBlock":
        keys: dict[str, int] = {}
        for o in outs:
            for key in o.metrics:
                keys.setdefault(key, len(keys))
        k, m = len(outs), len(keys)
        metrics, has = np.full((m, k), np.nan), np.zeros((m, k), dtype=bool)
        for i, o in enumerate(outs):
            for key, value in o.metrics.items():
                metrics[keys[key], i] = value
                has[keys[key], i] = True
        counts = [len(o.onsets_s) for o in outs]
        offsets = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        cat = lambda arrays, dtype: np.concatenate([np.asarray(a, dtype) for a in arrays]) if k else np.zeros(0, dtype)  # noqa: E731
        return cls(np.array([o.task_id for o in outs], dtype=np.int64), np.array([int(o.status) for o in outs], dtype=np.int8),
                   tuple(keys), metrics, None if has.all() else has, offsets, cat([o.onsets_s for o in outs], np.float64),
                   cat([o.pitches for o in outs], np.int16), tuple(o.error for o in outs),
                   np.array([o.wall_s for o in outs], dtype=np.float64))

    def notes(self, array: np.ndarray) -> list[np.ndarray]:
        """``array`` (onsets_s or pitches) cut into the k outcomes' views."""
        off = self.note_offsets.tolist()
        return [array[a:b] for a, b in zip(off[:-1], off[1:])]

    def metric_columns(self) -> dict[str, np.ndarray]:
        """Each key's (k,) column, NaN where an outcome did not report it."""
        return dict(zip(self.metric_keys, self.metrics))

    def outcomes(self) -> list[Outcome]:
        """The block as the outcomes it was built from (for callers that take one at a time)."""
        onsets, pitches = self.notes(self.onsets_s), self.notes(self.pitches)
        keys, values = self.metric_keys, self.metrics.T.tolist()
        has = np.ones(self.metrics.shape, dtype=bool) if self.has_metric is None else self.has_metric
        reported = has.T.tolist()
        return [Outcome(t, _STATUS[s], {key: v for key, v, h in zip(keys, values[i], reported[i]) if h},
                        onsets[i], pitches[i], self.errors[i], w)
                for i, (t, s, w) in enumerate(zip(self.task_ids.tolist(), self.status.tolist(), self.wall_s.tolist()))]

    def pack(self) -> tuple:
        """Plain tuple of byte strings (pickle's fast path, as :meth:`Outcome.pack`)."""
        m, k = self.metrics.shape
        has = None if self.has_metric is None else np.packbits(self.has_metric, axis=None).tobytes()
        return (k, m, self.task_ids.tobytes(), self.status.tobytes(), self.metric_keys, self.metrics.tobytes(), has,
                self.note_offsets.tobytes(),
                self.onsets_s.tobytes(), self.pitches.tobytes(), self.errors, self.wall_s.tobytes())

    @classmethod
    def unpack(cls, t: tuple) -> "OutcomeBlock":
        k, m, ids, status, keys, metrics, has, offsets, onsets, pitches, errors, wall = t
        has_metric = None if has is None else \
            np.unpackbits(np.frombuffer(has, dtype=np.uint8), count=k * m).astype(bool).reshape(m, k)
        return cls(np.frombuffer(ids, dtype=np.int64), np.frombuffer(status, dtype=np.int8), tuple(keys),
                   np.frombuffer(metrics, dtype=np.float64).reshape(m, k), has_metric,
                   np.frombuffer(offsets, dtype=np.int64), np.frombuffer(onsets, dtype=np.float64),
                   np.frombuffer(pitches, dtype=np.int16), tuple(errors), np.frombuffer(wall, dtype=np.float64))
