"""The optimiser's HTML page: loss curve, parameter trajectories, before/after
piano rolls and WAVs, the honest before/after table (in-sample vs held-out
labelled in its ``set`` column), the ablation, the landscape plots and the
prior's verdict.

Glue only: the piano roll is :func:`music.pianoroll.plot_pianoroll`, the
audio :func:`music.synth.render` + :func:`music.audio.write_audio`, tables
:func:`report.tables.to_html` and the page style the sweep report's CSS, so
the two reports look and read alike.  Files sit next to ``index.html`` and
are linked by relative path.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ..music.notes import NoteSequence
from ..report.html import _CSS
from ..report.plots import _figure, _save
from ..report.tables import to_html
from ..store.atomic import write_text
from .config import OFFSET_NAME

#: the sound of a worm note in the WAVs (its onset is what is scored)
NOTE_S = 0.25


def trajectories(led, labels, path: Path) -> Path:
    """Every evaluation's parameter values by evaluation index, and the best-so-far point."""
    vals = np.array([e["values"] for e in led.evals], float).reshape(len(led.evals), -1)
    loss = led.column("loss")
    finite = np.where(np.isfinite(loss), loss, np.inf)
    best_idx = np.array([int(np.argmin(finite[: i + 1])) for i in range(len(finite))], int)
    d = min(vals.shape[1], 12)
    fig = _figure(3.0 * d, 2.6)
    for j in range(d):
        ax = fig.add_subplot(1, d, j + 1)
        ax.plot(vals[:, j], ".", ms=3, color="0.6", label="evaluated")
        ax.plot(vals[best_idx, j], "-", color="C3", label="best so far")
        ax.set_xlabel("evaluation")
        ax.set_title(labels[j], fontsize=9)
        if j == 0:
            ax.legend(fontsize=7)
    return _save(fig, path)


def worm_notes(pb, values, window) -> NoteSequence:
    """The worm's notes on ``window`` at ``values``, times relative to the window, the learnt offset applied."""
    notes = pb.target_notes(window.start_s)
    run = pb._notes_jax if pb.cfg.backend == "jax" else pb._notes_backend
    t, pitch, offset, _ = run(values, window, (notes.onset_s, notes.pitch, np.ones(len(notes))))
    t = np.asarray(t, float) + offset
    keep = t >= 0
    return NoteSequence.from_arrays(t[keep], np.asarray(pitch)[keep], duration_s=np.full(int(keep.sum()), NOTE_S), name="worm")


def before_after_media(pb, u_best, out: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Piano rolls and WAVs of the target and the worm before/after on the first training window."""
    from ..music.audio import write_audio
    from ..music.pianoroll import plot_pianoroll
    from ..music.synth import FS_HZ, render

    w, dur = pb.windows[0], pb.cfg.simulation.duration_s
    target = pb.target_notes(w.start_s)
    tracks = [("target", "target.wav")]
    write_audio(out / "target.wav", render(target, duration_s=dur), FS_HZ)
    figs = []
    for name, u in (("before", pb.space.start_unit()), ("after", np.asarray(u_best, float))):
        worm = worm_notes(pb, pb.space.values(u), w)
        plot_pianoroll(worm, target, out / f"pianoroll_{name}.png", duration_s=dur,
                       title=f"{name}: worm ({len(worm)} notes) vs target, {w.start_s:g} s + {dur:g} s, seed {w.seed} (training window, in-sample)")
        write_audio(out / f"worm_{name}.wav", render(worm, duration_s=dur), FS_HZ)
        tracks.append((f"worm {name} optimisation (training window)", f"worm_{name}.wav"))
        figs.append((f"piano roll {name} optimisation (green: matched one-to-one at +-50 ms)", f"pianoroll_{name}.png"))
    return tracks, figs


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def prior_block(rep: dict | None, names) -> str:
    if not rep:
        return "<p class=\"note\">No prior was used.</p>"
    d = rep.get("prior_dof", len(names))
    where = "inside" if rep["prior_inside_95"] else "outside"
    return (f"<p>Prior over {_esc(', '.join(names))}: the optimum lies at Mahalanobis distance "
            f"<b>{rep['prior_mahalanobis']:.3f}</b> from theta_bar in units of Sigma "
            f"(squared {rep['prior_mahalanobis'] ** 2:.3f} against the chi-square 95% quantile {rep['prior_chi2_95']:.3f} "
            f"with {d} degrees of freedom): <b>{where}</b> the 95% region.</p>")


def write_page(out: Path, *, title: str, intro: str, rows: list[dict], verdict: str, tracks, figures,
               prior_html: str, best_line: str, config_text: str) -> Path:
    train = [r for r in rows if r["set"].startswith("train")]
    unseen = [r for r in rows if "unseen" in r["set"] or r["set"].startswith("held-out")]
    ablation = [r for r in rows if r["set"].startswith("ablation")]
    players = "".join(f'<tr><td>{_esc(c)}</td><td><audio controls preload="metadata" src="{_esc(h)}"></audio></td>'
                      f'<td><a href="{_esc(h)}">{_esc(h)}</a></td></tr>' for c, h in tracks)
    figs = "".join(f'<figure><img src="{_esc(h)}" alt="{_esc(c)}"><figcaption>{_esc(c)}</figcaption></figure>'
                   for c, h in figures)
    text = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_esc(title)}</h1>
<p>{_esc(intro)}</p>
<p>{_esc(best_line)}</p>
<h2>Before / after</h2>
<p class="note">Every F1 beside its nulls: shift_z/shift_p the circular-shift null of the worm's own onsets,
uniform_mean uniform chance at the worm's note count, metronome_f1 the metronome ceiling at that count.
f1 is mir_eval's one-to-one onset F-measure, f1_any the seed's any-match F1, both at +-50 ms.</p>
<h3>Training window (in-sample: the optimiser chose the point on it)</h3>
<div class="wide">{to_html(train)}</div>
<h3>Unseen windows, seeds and targets (held-out: never trained on)</h3>
<div class="wide">{to_html(unseen) if unseen else '<p>none scored: this report is in-sample only</p>'}</div>
<p><b>{_esc(verdict)}</b></p>
<h3>Ablation (re-evaluated at the optimum, not re-optimised; in-sample)</h3>
<div class="wide">{to_html(ablation)}</div>
<p>Downloads: <a href="result.md">result.md</a> · <a href="result.csv">result.csv</a></p>
<h2>Prior</h2>
{prior_html}
<h2>Listen</h2>
<table class="players">{players}</table>
<h2>Plots</h2>
{figs}
<h3>config</h3><pre>{_esc(config_text)}</pre>
</body></html>
"""
    write_text(out / "index.html", text)
    return out / "index.html"


def render_page(cfg, pb, led, best: dict, rows: list[dict], verdict: str, prior_rep: dict | None, prior_names, out: Path) -> Path:
    tracks, figs = before_after_media(pb, best["u"], out)
    trajectories(led, list(pb.space.labels), out / "trajectories.png")
    figures = [("loss of every evaluation and the best so far", "loss_curve.png"),
               ("parameter trajectories (grey: every evaluation; red: the best point so far)", "trajectories.png"), *figs]
    for name, cap in (("landscape_1d.png", "loss along each parameter through the optimum (first training window)"),
                      ("landscape_pair.png", "loss over the two parameters with the largest range, through the optimum")):
        if (out / name).exists():
            figures.append((cap, name))
    config_text = cfg.text
    best_line = (f"best loss {best['loss']:.4f} after {len(led.evals)} evaluations: "
                 + ", ".join(f"{k} = {v:.4g}" for k, v in zip(pb.space.labels, best["values"])))
    title = f"pyannow-hpc optimize: {cfg.method} on {cfg.model} ({cfg.backend})"
    intro = (f"Ledger {cfg.output.ledger}; target {cfg.target}; loss 1 - soft Dice of onset densities; "
             f"time offset {OFFSET_NAME} is learnt with the channels.")
    return write_page(out, title=title, intro=intro, rows=rows, verdict=verdict, tracks=tracks, figures=figures,
                      prior_html=prior_block(prior_rep, prior_names), best_line=best_line, config_text=config_text)


def is_optimize_ledger(path) -> bool:
    """True for an optimiser ledger (its root ``format`` attribute), so ``pyannow-hpc report`` can route it here."""
    import h5py

    from .ledger import FORMAT

    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") == FORMAT
    except (OSError, ValueError):
        return False


def report_ledger(path, out_dir=None) -> str:
    """Re-render an optimiser ledger's table and page from the config it recorded (``pyannow-hpc report OPT.h5``).

    The config's own relative paths (target, prior, held-out) are read from the current directory, as in the run.
    """
    import dataclasses

    from . import ledger as LG
    from .config import loads_config
    from .report import finish

    led = LG.read(path)
    cfg = loads_config(str(led.attrs.get("config_text", "")), source=str(led.attrs.get("config_source", path)))
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, ledger=str(path),
                                                              report_dir=str(out_dir) if out_dir else ""))
    return finish(cfg, led)
