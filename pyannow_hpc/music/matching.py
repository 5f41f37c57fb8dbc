"""One-to-one onset matching for many onset trains at once (the nulls' engine).

A null distribution needs the one-to-one F1 of hundreds of shifted or random
onset trains against one target.  ``mir_eval.onset.f_measure`` solves each as a
general bipartite matching (Hopcroft-Karp, a Python graph per call: ~ms per
train), so 500 shifts would cost a second per scored point.  Written by hand
because no library does this batched: on a line with a symmetric window
(``|est - ref| <= tol``) the greedy sweep -- match the earliest unmatched
estimate with the earliest target it can still reach -- is a MAXIMUM matching
(exchange argument: a target skipped as too early is too early for every later
estimate too), so its size equals mir_eval's.  The sweep runs over all trains
at once, one numpy step per advanced pointer.  ``tests/music/test_nulls.py``
checks it against mir_eval on random and edge cases; the observed F1 itself is
always computed with mir_eval.
"""
from __future__ import annotations

import numpy as np


def match_counts(est_rows: np.ndarray, ref_sorted: np.ndarray, tol_s: float,
                 row_lengths: np.ndarray | None = None) -> np.ndarray:
    """Size of the maximum one-to-one matching of each row of ``est_rows`` with ``ref_sorted``.

    ``est_rows``: (R, n) array, each row sorted ascending; a row's entries past
    ``row_lengths[r]`` are padding and never read.  ``ref_sorted``: (m,) sorted.
    """
    est = np.atleast_2d(np.asarray(est_rows, dtype=float))
    ref = np.asarray(ref_sorted, dtype=float)
    n_rows, width = est.shape
    lengths = np.full(n_rows, width, dtype=np.int64) if row_lengths is None else np.asarray(row_lengths, np.int64)
    counts = np.zeros(n_rows, dtype=np.int64)
    m = len(ref)
    if m == 0 or width == 0:
        return counts
    i = np.zeros(n_rows, dtype=np.int64)
    j = np.zeros(n_rows, dtype=np.int64)
    flat, offset = _flat_rows(est, lengths)
    rows = np.flatnonzero(lengths > 0)
    # the tolerance test is mir_eval's to the bit: est - window <= ref <= est + window
    # (both bounds rounded monotonically in est, so the greedy argument holds in floats)
    while rows.size:
        e = est[rows, i[rows]]
        r = ref[j[rows]]
        late = r < e - tol_s  # this target is behind every remaining estimate: drop it
        early = r > e + tol_s  # this estimate can reach no target from j on: drop it
        hit = ~late & ~early
        counts[rows] += hit
        # skip whole runs of unmatched notes (a flood's notes between two targets)
        # with searchsorted; the jumps aim MARGIN short so float rounding never
        # skips a candidate, and the exact test above decides every pair
        jump_j = np.searchsorted(ref, e - tol_s - _MARGIN_S, side="left")
        jump_i = np.searchsorted(flat, offset * rows + (r - tol_s - _MARGIN_S), side="left") - rows * width
        i[rows] = np.where(hit, i[rows] + 1, np.where(early, np.maximum(i[rows] + 1, jump_i), i[rows]))
        j[rows] = np.where(hit, j[rows] + 1, np.where(late, np.maximum(j[rows] + 1, jump_j), j[rows]))
        rows = rows[(i[rows] < lengths[rows]) & (j[rows] < m)]
    return counts


_MARGIN_S = 1e-6


def _flat_rows(est: np.ndarray, lengths: np.ndarray):
    """All rows in one sorted 1-D array (row r shifted by r * offset), padding
    set past the row's last value, so one searchsorted serves every row."""
    n_rows, width = est.shape
    live = lengths > 0
    ends = est[np.flatnonzero(live), lengths[live] - 1]  # rows are sorted: ends and starts bound them
    hi = float(max(np.max(np.abs(ends), initial=0.0), np.max(np.abs(est[live, 0]), initial=0.0)))
    offset = 4.0 * hi + 10.0
    vals = est
    if np.any(lengths < width):
        vals = np.where(np.arange(width)[None, :] >= lengths[:, None], 2.0 * hi + 5.0, est)
    return (vals + offset * np.arange(est.shape[0])[:, None]).ravel(), offset


def f1_from_counts(matches: np.ndarray, n_est, n_ref: int) -> np.ndarray:
    """One-to-one F1 = 2 * matches / (n_est + n_ref); 0 where either side is empty
    (mir_eval's convention)."""
    matches = np.asarray(matches, dtype=float)
    n_est = np.broadcast_to(np.asarray(n_est, dtype=float), matches.shape)
    total = n_est + n_ref
    ok = (n_est > 0) & (n_ref > 0)
    return np.where(ok, 2.0 * matches / np.where(ok, total, 1.0), 0.0)


def f1_rows(est_rows: np.ndarray, ref_sorted: np.ndarray, tol_s: float,
            row_lengths: np.ndarray | None = None) -> np.ndarray:
    """One-to-one F1 of every row (see :func:`match_counts`)."""
    est = np.atleast_2d(np.asarray(est_rows, dtype=float))
    lengths = np.full(est.shape[0], est.shape[1]) if row_lengths is None else np.asarray(row_lengths)
    return f1_from_counts(match_counts(est, ref_sorted, tol_s, lengths), lengths, len(ref_sorted))


__all__ = ["match_counts", "f1_from_counts", "f1_rows"]
