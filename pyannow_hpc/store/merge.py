"""Merge shard ledgers (array jobs, ``--shard i/n``) into one ledger.

``/refine`` is carried: its records are keyed by task id and shards hold
disjoint tasks, so the union is the merged sweep's refine (shards refined
with different settings are refused). Groups other commands add
(``/retest``, ``/prior``, :mod:`.groups`) are not: each describes its own
shard's best points or musical cluster, not the merged sweep, so the merged
ledger goes without them and the summary says so (re-run ``retest`` /
``analyze`` on it). The shard files themselves are never modified.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from . import ledger as L


def _int_attr(part: L.LedgerData, key: str, default: int, name: str) -> int:
    """An integer attribute of a shard, or LedgerError naming it (a corrupt or edited ledger)."""
    value = part.attrs.get(key, default)
    try:
        out = int(value)
    except (TypeError, ValueError, OverflowError):
        raise L.LedgerError(f"{name}: attribute {key} must be an integer, got {str(value)[:40]!r}") from None
    if out < 0:
        raise L.LedgerError(f"{name}: attribute {key} must be >= 0, got {out}")
    return out


def merge_data(parts: Sequence[L.LedgerData], names: Sequence[str]) -> L.LedgerData:
    """One ledger holding every task of ``parts``, sorted by task id."""
    first = parts[0]
    for part, name in zip(parts[1:], names[1:]):
        if part.attrs.get("config_hash") != first.attrs.get("config_hash"):
            raise L.LedgerError(
                f"{name} comes from another sweep config (hash {part.attrs.get('config_hash')} != "
                f"{first.attrs.get('config_hash')} of {names[0]}); only shards of one sweep merge"
            )
        if part.param_names != first.param_names:
            raise L.LedgerError(f"{name} varies {part.param_names}, {names[0]} varies {first.param_names}")
    ids = np.concatenate([p.task_ids for p in parts])
    uniq, counts = np.unique(ids, return_counts=True)
    if np.any(counts > 1):
        raise L.LedgerError(f"shards overlap: task ids {uniq[counts > 1][:10].tolist()} appear more than once")
    order = np.argsort(ids, kind="stable")

    def cat(get) -> list:
        return [x for p in parts for x in get(p)]

    keys = list(dict.fromkeys(k for p in parts for k in p.metrics))
    metrics = {k: np.concatenate([p.metrics.get(k, np.full(len(p), np.nan)) for p in parts])[order] for k in keys}
    onsets, pitches, errors = cat(lambda p: p.onsets_s), cat(lambda p: p.pitches), cat(lambda p: p.errors)
    attrs = dict(first.attrs)
    total = _int_attr(first, "n_tasks_total", len(ids), names[0])
    complete = len(uniq) == total and np.array_equal(uniq, np.arange(total))  # no arange(10**18)
    ends = [str(p.attrs.get("end_utc", "")) for p in parts]
    attrs.update(
        # a complete merge is the unsharded sweep: the plain config resumes it
        shard="0/1" if complete else f"merged {len(parts)} shards, {total - len(uniq)} tasks missing",
        merged_from=json.dumps([str(n) for n in names]),
        mpi_size=sum(_int_attr(p, "mpi_size", 1, n) for p, n in zip(parts, names)),
        start_utc=min(str(p.attrs.get("start_utc", "")) for p in parts),
        end_utc=max(ends) if complete and all(ends) else "",
    )
    refine_attrs, refine = _merge_refine(parts, names)
    return L.LedgerData(
        param_names=first.param_names,
        params=np.concatenate([p.params for p in parts])[order],
        seeds=np.concatenate([p.seeds for p in parts])[order],
        status=np.concatenate([p.status for p in parts])[order],
        metrics=metrics,
        errors=[errors[i] for i in order],
        onsets_s=[onsets[i] for i in order],
        pitches=[pitches[i] for i in order],
        attrs=attrs,
        target=first.target,
        task_ids=ids[order],
        refine_attrs=refine_attrs,
        refine=refine,
    )


def _merge_refine(parts: Sequence[L.LedgerData], names: Sequence[str]) -> tuple[dict, dict[int, dict]]:
    """The union of the shards' ``/refine``; LedgerError if they were refined differently."""
    with_refine = [(p, n) for p, n in zip(parts, names) if p.refine or p.refine_attrs]
    if not with_refine:
        return {}, {}
    attrs = with_refine[0][0].refine_attrs
    for part, name in with_refine[1:]:
        if part.refine_attrs != attrs:
            raise L.LedgerError(f"{name} was refined with other settings than {with_refine[0][1]} "
                                f"({part.refine_attrs} != {attrs}); refine the merged ledger instead")
    return dict(attrs), {tid: rec for part, _ in with_refine for tid, rec in part.refine.items()}


def _dropped_groups(parts: Sequence[L.LedgerData], names: Sequence[str]) -> str:
    """'; not carried: /retest of a.h5 ...' for the per-shard groups a merge leaves out."""
    import h5py

    dropped = []
    for part, name in zip(parts, names):
        if part.carried:
            with h5py.File(io.BytesIO(part.carried), "r") as f:
                dropped += [f"/{g} of {name}" for g in f]
    return f"; not carried (per shard, re-run on the merged ledger): {', '.join(dropped)}" if dropped else ""


def merge_ledgers(out: str | Path, inputs: Sequence[str | Path]) -> str:
    """Read, check, merge and write atomically; returns a one-line summary."""
    parts = [L.read_ledger(p) for p in inputs]
    merged = merge_data(parts, [str(p) for p in inputs])
    L.write_ledger(out, merged)
    c = merged.counts()
    total = _int_attr(merged, "n_tasks_total", len(merged), str(out))
    return (f"merged {len(parts)} ledgers -> {out}: {len(merged)} of {total} tasks "
            f"({c['done']} done, {c['failed']} failed, {c['pending']} pending)"
            + _dropped_groups(parts, [str(p) for p in inputs]))
