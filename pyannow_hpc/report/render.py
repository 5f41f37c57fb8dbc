"""Render a sweep ledger into a report folder: WAVs, tables, plots, one HTML page.

``render(ledger_path, out_dir)`` is what rank 0 runs when a sweep ends and what
``pyannow-hpc report LEDGER`` runs. It reads the ledger only through
:func:`pyannow_hpc.store.ledger.read_ledger` and re-simulates nothing: the
ledger stores every task's onsets and pitches, which is all the synthesiser
needs, so a report of a 10,000-task C302 sweep costs seconds.

Folder layout (all names fixed, all written atomically)::

    index.html          the page (relative links to everything below)
    f1_table.md/.csv    the best K, both F1 metrics labelled, each beside its nulls
                        (shift z and p, uniform chance, metronome, beat ceiling)
    retest.csv          in-window vs unseen scores (when ``pyannow-hpc retest`` ran)
    summary.csv         counts, best and mean scores
    audio/target.wav, audio/best01_task<id>.wav ...
    plots/loss_hist.png, plots/z_hist.png, plots/param_scatter.png, plots/pianoroll.png

Ranking: ``rank_by`` (default: the ledger's ``rank_by`` attr, else
"shift_excess") -- the one-to-one F1 minus its own-shift null's mean, fewer
than ``min_notes`` notes last (music.alignment.rank_score says why); "onset_loss"
ranks a silent worm first.  A
ledger written before the nulls were stored gets them computed here from its
onsets (shift z for every done point: ~30 ms each).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, PyannowError
from ..music.metrics import metric_label
from ..music.notes import NoteSequence
from ..store.atomic import prepare_dir, write_text
from ..store.tasks import TaskStatus
from . import html as html_page
from . import plots, tables

AUDIO_FS_HZ = 22050
#: ledger attrs that hold the sweep's config text (shown verbatim, not in the provenance table)
_CONFIG_KEYS = ("config_text", "config")


def _ignored_unmapped(config_text: str) -> tuple[str, ...]:
    """The parameters a C302 sweep varied but could not apply (``ignore_unmapped = true``)."""
    from ..config import loads_config
    from ..errors import ConfigError

    try:
        return loads_config(config_text).ignored_unmapped if config_text else ()
    except ConfigError:
        return ()


def load_ledger(path: str | os.PathLike):
    """``read_ledger``: a missing or corrupt file is a LedgerError (one line, exit 2)."""
    from ..store.ledger import read_ledger

    return read_ledger(path)


def default_out_dir(ledger_path: str | os.PathLike) -> Path:
    p = Path(ledger_path)
    return p.with_name(p.stem + "_report")


def render(
    ledger_path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    top_k: int = 5,
    progress: bool = True,
    rank_by: str | None = None,
) -> Path:
    """Write the report of ``ledger_path`` into ``out_dir``; return index.html's path."""
    if rank_by is not None and rank_by not in tables.RANK_KEYS:
        raise ConfigError(f"cannot rank by {rank_by!r}; choose one of {', '.join(tables.RANK_KEYS)}")
    if int(top_k) < 1:
        raise ConfigError(f"top_k must be at least 1, got {top_k}")
    data = load_ledger(ledger_path)
    from .retest import read_retest

    retest_rows = read_retest(ledger_path)
    out = prepare_dir(out_dir if out_dir is not None else default_out_dir(ledger_path))
    return render_data(data, out, top_k=int(top_k), progress=progress, rank_by=rank_by, source=Path(ledger_path).name,
                       retest_rows=retest_rows)


def _attr(attrs: dict[str, Any], *keys: str, default=None):
    for k in keys:
        if k in attrs:
            return attrs[k]
    return default


def _window(data) -> tuple[float, float]:
    """(window_start_s, duration_s) the sweep scored: the ledger keeps the whole
    target and each task scores the window [start, start + duration)."""
    start = float(_attr(data.attrs, "window_start_s", default=0.0))
    dur = _attr(data.attrs, "duration_s")
    if dur is not None:
        return start, float(dur)
    ends = [float(np.max(o)) for o in data.onsets_s if len(o)]  # an old/foreign ledger: the notes' extent
    return start, max(ends + [1.0])


def _log_scaled(data, names) -> tuple[str, ...]:
    """Parameters the sweep sampled on a log scale (ledger attr ``param_scales``,
    else the model's parameter space), plotted on log axes."""
    try:
        scales = json.loads(str(_attr(data.attrs, "param_scales", default="")))
        return tuple(n for n in names if scales.get(n) == "log")
    except (ValueError, AttributeError):
        pass
    try:
        from ..params import space

        sp = space(str(_attr(data.attrs, "model", default="pyannow")))
        return tuple(n for n in names if n in sp and sp[n].scale == "log")
    except PyannowError:
        return ()


def _null_scores(rows, data, metrics, target, duration_s: float, tol_s: float) -> dict:
    """AlignmentScore of each row in ``rows``, from the stored onsets (seeded by
    the task's seed, as the pipeline does, so stored and recomputed agree)."""
    from ..music.alignment import score_with_nulls

    if target is None:
        return {}
    out = {}
    for r in rows:
        out[int(r)] = score_with_nulls(
            np.asarray(data.onsets_s[r]), target.onset_s, start_s=0.0, stop_s=duration_s, beat_s=target.beat_s,
            beat_origin_s=target.beat_origin_s, tol_s=tol_s, seed=int(np.asarray(data.seeds)[r]))
    return out


def render_data(data, out: Path, *, top_k: int = 5, progress: bool = True, rank_by: str | None = None,
                source: str = "", retest_rows=()) -> Path:
    """Render a :class:`~pyannow_hpc.store.ledger.LedgerData` into ``out``."""
    from ..music.alignment import MIN_NOTES
    from tqdm import tqdm

    from ..music.audio import write_audio
    from ..music.alignment import f1_table_with_nulls
    from ..music.metrics import TOL_S, format_table_csv, format_table_markdown
    from ..music.pianoroll import plot_pianoroll
    from ..music.synth import render as synth
    from ..store.ledger import LedgerError

    names = tuple(str(n) for n in data.param_names)
    status = np.asarray(data.status)
    n = status.size
    task_ids = np.asarray(data.task_ids if data.task_ids is not None else np.arange(n))
    params = np.asarray(data.params, dtype=float).reshape(n, len(names))
    metrics = {k: np.asarray(v, dtype=float) for k, v in data.metrics.items()}
    if "onset_loss" not in metrics:
        raise LedgerError(f"{source or 'ledger'} has no onset_loss metric: not a sweep ledger")
    nan = np.full(n, np.nan)
    for key in ("f1_mireval", "f1_seed"):
        metrics.setdefault(key, nan)
    rank_by = rank_by or str(_attr(data.attrs, "rank_by", default="shift_excess"))
    if rank_by not in tables.RANK_KEYS:
        raise ConfigError(f"cannot rank by {rank_by!r}; choose one of {', '.join(tables.RANK_KEYS)}")
    min_notes = int(_attr(data.attrs, "min_notes", default=MIN_NOTES))
    n_notes = np.array([len(o) for o in data.onsets_s]) if data.onsets_s is not None else None
    from ..parallel.sweep import _with_beat

    start_s, duration_s = _window(data)
    piece = _with_beat(data.target, data.attrs)
    target = piece.window(start_s, start_s + duration_s) if piece is not None else None
    tol_s = float(_attr(data.attrs, "tol_s", default=TOL_S))
    done_rows = np.flatnonzero(status == TaskStatus.DONE)
    if "shift_z" not in metrics and target is not None and n_notes is not None:  # a ledger from before the nulls
        for r, sc in _null_scores(done_rows, data, metrics, target, duration_s, tol_s).items():
            for key in ("shift_z", "shift_excess"):
                metrics.setdefault(key, np.full(n, np.nan))[r] = getattr(sc, key)
    best = tables.rank_tasks(metrics, status, rank_by, top_k, n_notes, min_notes)  # row indices
    scores = _null_scores(best, data, metrics, target, duration_s, tol_s)
    worm_notes = {
        int(r): NoteSequence.from_arrays(data.onsets_s[r], data.pitches[r], name=f"task {int(task_ids[r])}") for r in best
    }
    direction = "highest" if tables.RANK_KEYS[rank_by] else "lowest"
    rank_note = (f"Ranked by {rank_by} = {tables.rank_label(rank_by, min_notes)}, {direction} first; failed and "
                 "pending tasks are never ranked. Each F1 stands beside its nulls: z and p against circular shifts "
                 "of the worm's own onsets, uniform chance at its note count, the best metronome at that count "
                 "and the score's beat ceiling (tempo alone).")
    audio_dir, plot_dir = out / "audio", out / "plots"
    n_steps = 6 + len(best)
    bar = tqdm(total=n_steps, desc="report", unit="step", disable=not progress, file=sys.stderr, leave=False)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    # tables (labelled columns; Markdown/CSV in the project's one table format)
    best_tbl = tables.best_rows(best, task_ids, metrics, params, names, np.asarray(data.seeds), tol_s,
                                scores=[scores[int(r)] for r in best] if scores else None, n_notes=n_notes,
                                rank_values=(rank_by, tables.rank_values(metrics, rank_by, n_notes, min_notes)))
    # z over the points that can be ranked: a silent worm's z (0) says nothing
    z_rankable = np.full(n, np.nan)
    if "shift_z" in metrics:
        ok = (status == TaskStatus.DONE) & (n_notes >= min_notes) if n_notes is not None else status == TaskStatus.DONE
        z_rankable[ok] = metrics["shift_z"][ok]
    z_rankable = z_rankable[np.isfinite(z_rankable)]
    summary_tbl = tables.summary_rows(status, metrics, tol_s, z_values=z_rankable,
                                      z_note=f" with >= {min_notes} notes")
    tol_tbl = (f1_table_with_nulls(worm_notes[int(best[0])], target, duration_s, seed=int(np.asarray(data.seeds)[best[0]]))
               if len(best) and target is not None else [])
    write_text(out / "f1_table.md", f"{rank_note}\n\n" + format_table_markdown(best_tbl, ".4g") + "\n")
    write_text(out / "f1_table.csv", format_table_csv(best_tbl))
    write_text(out / "summary.csv", format_table_csv(summary_tbl))
    downloads = {"F1 table (Markdown)": "f1_table.md", "F1 table (CSV)": "f1_table.csv", "summary (CSV)": "summary.csv"}
    if (out / "analysis" / "index.html").exists():  # `pyannow-hpc analyze LEDGER` writes its page there
        downloads["parameter-space analysis (PCA, clusters, OLS, prior)"] = "analysis/index.html"
    fail_tbl = tables.failure_rows(status, data.errors, task_ids)
    if fail_tbl:
        write_text(out / "failures.csv", format_table_csv(fail_tbl))
        downloads["failures (CSV)"] = "failures.csv"
    if retest_rows:
        write_text(out / "retest.csv", format_table_csv(retest_rows))
        downloads["in-window vs unseen (CSV)"] = "retest.csv"
    refined = ""
    if getattr(data, "refine", None):  # `pyannow-hpc refine` results (parallel/refine.py owns the rows)
        from ..parallel.refine import refine_rows

        refine_tbl = refine_rows(data)
        write_text(out / "refine.csv", format_table_csv(refine_tbl))
        write_text(out / "refine.md", format_table_markdown(refine_tbl, ".4g") + "\n")
        downloads["refine: surrogate vs real simulator (CSV)"] = "refine.csv"
        refined = f" {len(refine_tbl)} tasks re-run on {data.refine_attrs.get('backend', 'the real simulator')} (refine.csv)."
    if tol_tbl:
        write_text(out / "best_f1_tolerances.csv", format_table_csv(tol_tbl))
        downloads["best worm at ±25/50/100 ms (CSV)"] = "best_f1_tolerances.csv"
    step("tables")

    # audio: the target window and the best K, one synthesiser, one sample rate
    tracks = []
    if target is not None:
        write_audio(audio_dir / "target.wav", synth(target, fs=AUDIO_FS_HZ), AUDIO_FS_HZ)
        tracks.append(html_page.Track(f"target: {target.name or 'score'} ({len(target)} notes)", "audio/target.wav"))
    step("target audio")
    for rank, r in enumerate(best, start=1):
        tid = int(task_ids[r])
        rel = f"audio/best{rank:02d}_task{tid}.wav"
        write_audio(out / rel, synth(worm_notes[int(r)], fs=AUDIO_FS_HZ), AUDIO_FS_HZ)
        sc = scores.get(int(r))
        nulls = (f" (z {sc.shift_z:+.2f} vs its own shifts, uniform chance {sc.uniform_mean:.3f}, "
                 f"metronome {sc.metronome_f1:.3f})" if sc is not None else "")
        caption = (
            f"#{rank} task {tid} ({len(worm_notes[int(r)])} notes): "
            f"{metric_label('f1_mireval', tol_s)} {metrics['f1_mireval'][r]:.3f}{nulls}, "
            f"{metric_label('f1_seed', tol_s)} {metrics['f1_seed'][r]:.3f}, onset_loss {metrics['onset_loss'][r]:.4g}"
        )
        tracks.append(html_page.Track(caption, rel))
        step(f"audio task {tid}")

    # plots over done tasks (failed and pending ones have NaN metrics)
    done = np.flatnonzero(status == TaskStatus.DONE)
    plots.loss_histogram(
        plot_dir / "loss_hist.png", metrics["onset_loss"][done], metrics["onset_loss"][best], int((status == TaskStatus.FAILED).sum())
    )
    from ..music.nulls import expected_max_z

    plots.z_histogram(plot_dir / "z_hist.png", z_rankable,
                      [metrics["shift_z"][r] for r in best] if "shift_z" in metrics else [],
                      expected_max_z(z_rankable.size) if z_rankable.size else None)
    step("loss histogram")
    pos = {int(r): i for i, r in enumerate(done)}
    plots.parameter_scatter(
        plot_dir / "param_scatter.png", params[done], names, metrics["onset_loss"][done], metrics["f1_mireval"][done],
        log_names=_log_scaled(data, names),
        best=[pos[int(r)] for r in best],
    )
    step("parameter scatter")
    figures = [
        html_page.Figure(f"z against the worm's own shifts over done tasks with >= {min_notes} notes, with the "
                         "expected max of that many null draws (selection alone)", "plots/z_hist.png"),
        html_page.Figure("onset_loss over done tasks (dashed: the best K by onset_loss's own order; silence wins it)",
                         "plots/loss_hist.png"),
        html_page.Figure(
            f"swept parameters vs onset_loss and in pairs, coloured by {metric_label('f1_mireval', tol_s)}",
            "plots/param_scatter.png",
        ),
    ]
    if len(best):
        r0 = int(best[0])
        title = f"best worm (task {int(task_ids[r0])}) vs target"
        empty = NoteSequence.from_arrays([], [])
        plot_pianoroll(worm_notes[r0], target if target is not None else empty, plot_dir / "pianoroll.png",
                       title=title, duration_s=duration_s, tol_s=tol_s)
        figures.append(html_page.Figure(f"piano roll: {title}", "plots/pianoroll.png"))
    step("piano roll")

    # the page
    attrs = dict(data.attrs)
    config_text = str(_attr(attrs, *_CONFIG_KEYS, default=""))
    prov = {k: v for k, v in attrs.items() if k not in _CONFIG_KEYS}
    ignored = _ignored_unmapped(config_text)
    if ignored:  # ignore_unmapped = true on a C302 backend: say what did not reach the simulator
        prov["ignored by C302 (no counterpart)"] = ", ".join(ignored)
    if source:
        prov = {"ledger": source, **prov}
    counts = f"{int((status == TaskStatus.DONE).sum())} of {n} tasks done, {int((status == TaskStatus.FAILED).sum())} failed, {int((status == TaskStatus.PENDING).sum())} pending"
    page = html_page.page(
        title=f"pyannow_hpc sweep report: {source or 'ledger'}",
        intro=f"{counts}; scored window {start_s:g}–{start_s + duration_s:g} s of {attrs.get('target_name', 'the target')}.{refined}",
        tracks=tracks,
        figures=figures,
        summary=summary_tbl,
        best=best_tbl,
        tolerances=tol_tbl,
        failures=fail_tbl,
        rank_note=rank_note,
        downloads=downloads,
        provenance=prov,
        config_text=config_text,
        retest=retest_rows,
    )
    index = write_text(out / "index.html", page)
    step("page")
    bar.close()
    return index
