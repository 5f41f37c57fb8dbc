"""The report's one HTML page: audio players, plots, tables, provenance.

The page links its WAV and PNG files by relative path (they sit next to it),
so the folder can be copied off a cluster, opened from disk or served as is,
and the page stays small. No JavaScript, no external assets: the only CSS is
inline.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .tables import to_html

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.table{border-collapse:collapse;font-size:.85em;margin:.5em 0} .table td,.table th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
.table th{background:#f3f3f3} .players td{padding:.15em .6em .15em 0;vertical-align:middle} .players audio{height:2.2em}
.wide{overflow-x:auto}
img{max-width:100%;border:1px solid #eee} pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:.8em}
.note{color:#555;font-size:.9em}
"""


@dataclass(frozen=True)
class Track:
    """One audio player: a caption and the WAV's path relative to the page."""

    caption: str
    href: str


@dataclass(frozen=True)
class Figure:
    caption: str
    href: str


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def page(
    *,
    title: str,
    intro: str,
    tracks: Sequence[Track],
    figures: Sequence[Figure],
    summary: Sequence[dict],
    best: Sequence[dict],
    tolerances: Sequence[dict],
    failures: Sequence[dict],
    rank_note: str,
    downloads: Mapping[str, str],
    provenance: Mapping[str, object],
    config_text: str,
    retest: Sequence[dict] = (),
) -> str:
    """The whole page as a string (the caller writes it atomically)."""
    players = "\n".join(
        f'<tr><td>{_esc(t.caption)}</td><td><audio controls preload="metadata" src="{_esc(t.href)}"></audio></td>'
        f'<td><a href="{_esc(t.href)}">{_esc(Path(t.href).name)}</a></td></tr>'
        for t in tracks
    )
    figs = "\n".join(
        f'<figure><img src="{_esc(f.href)}" alt="{_esc(f.caption)}"><figcaption>{_esc(f.caption)}</figcaption></figure>'
        for f in figures
    )
    links = " · ".join(f'<a href="{_esc(href)}">{_esc(label)}</a>' for label, href in downloads.items())
    prov_rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in provenance.items())
    tol_block = (
        "<h3>The best parameter set at three tolerances</h3>" + to_html(tolerances) if tolerances else ""
    )
    fail_block = (
        "<h2>Failures</h2><p class=\"note\">Failed tasks grouped by error message, most common first.</p>"
        + to_html(failures) if failures else ""
    )
    config = f"<h3>config</h3><pre>{_esc(config_text)}</pre>" if config_text else ""
    retest_block = (
        "<h2>In-window vs unseen</h2><p class=\"note\">The best points re-scored (<code>pyannow-hpc retest</code>) "
        "on later windows of the piece, other noise seeds and other targets, with the same nulls. The in-window "
        "columns are in-sample (the sweep selected these points on them); only the unseen columns are held out.</p>"
        f'<div class="wide">{to_html(retest)}</div>' if retest else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_esc(title)}</h1>
<p>{_esc(intro)}</p>
<h2>Summary</h2>
{to_html(summary)}
<h2>Listen</h2>
<p class="note">The target window, then the best parameter sets (see the table below). Worm notes are rendered from the onsets and pitches stored in the ledger (muscle i plays MIDI 24+i).</p>
<table class="players">{players}</table>
<h2>Best parameter sets</h2>
<p class="note">{_esc(rank_note)} Both F1 scores are shown and labelled: mir_eval's one-to-one onset F-measure and the seed's any-match F1, both at ±50 ms. These are in-sample scores: the sweep picked them on this window.</p>
<div class="wide">{to_html(best)}</div>
{tol_block}
{retest_block}
<p>Downloads: {links}</p>
{fail_block}
<h2>Plots</h2>
{figs}
<h2>Provenance</h2>
<table class="table">{prov_rows}</table>
{config}
</body></html>
"""
