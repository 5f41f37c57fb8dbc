"""Run every PyANNOW step and write the honest F1 table.

For each step, two protocols:

- **in-sample** (the seed's): train on every frame of the window, evaluate
  on the same frames;
- **held-out**: a time-block split (:mod:`.splits`); train on the early
  blocks, evaluate on the later blocks the step never saw (threshold
  calibration included).

Both onset F1s are reported and labelled: "F1 (mir_eval one-to-one, ±50 ms)"
and "F1 (seed any-match, ±50 ms)", each beside its nulls at the row's own
note count (music.alignment.score_with_nulls): z against circular shifts of
the row's own onsets (did the step place its notes better than its own rhythm
would by chance?), uniform chance, the best metronome at that count and the
score's beat ceiling.  Every fitted normalisation (the feature z-score, the
latent speed's scale) sees the training frames only. Steps 0–9b use the first ``window_s``
seconds (the seed's 10 s window); step 10 and the time-only reference use the
whole piece, against their own full-piece baseline. Step 10 also writes the
worm's and the target's full-length WAVs (same synthesiser) and a piano roll.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..music.metrics import format_table_markdown, metric_label, write_table_csv
from ..music.notes import NoteSequence
from ..music.pitch import muscle_to_midi
from ..worm import DEFAULT_MODEL, default_onset_method
from .decode import REFRACTORY_S, calibrate_threshold, decode_onsets, frames_to_s
from .features import FRAME_HZ, activity_features
from .splits import TimeBlockSplit, in_sample, time_block_split
from .steps import STEPS, Step, StepOutput, Window

F1_M = metric_label("f1_mireval")
F1_S = metric_label("f1_seed")


@dataclass(frozen=True)
class ProgressionConfig:
    window_s: float = 10.0  # steps 0–9b (the seed's step-9 window)
    frame_hz: float = FRAME_HZ
    backend: str = "native"
    model: str = DEFAULT_MODEL
    params: dict | None = None
    integrator: str = "exponential"
    dt_ms: float = 0.5
    seed: int = 0
    n_blocks: int = 10
    heldout_frac: float = 0.3
    k_worm: int = 4
    refractory_s: float = REFRACTORY_S
    tail_s: float = 2.0  # T_full = last target onset + tail_s (the seed's 229 s rule)
    quick: bool = False  # 1/10 of the optimiser steps (tests)
    onsets: str = "auto"  # step-0 detector: crest (the seed's), threshold (spikes), auto = the model's own (worm.default_onset_method)
    steps: tuple[str, ...] | None = None  # subset of step keys; None = all

    def __post_init__(self) -> None:
        if not (np.isfinite(self.window_s) and self.window_s >= 2.0):
            raise ConfigError(f"window_s must be >= 2 s, got {self.window_s!r}")
        if self.n_blocks < 2 or not (0.0 < self.heldout_frac < 1.0):
            raise ConfigError(f"need n_blocks >= 2 and 0 < heldout_frac < 1, got {self.n_blocks} and {self.heldout_frac!r}")
        if not (np.isfinite(self.frame_hz) and self.frame_hz > 0):
            raise ConfigError(f"frame_hz must be a positive number, got {self.frame_hz!r}")
        if not (np.isfinite(self.refractory_s) and 0.0 <= self.refractory_s <= 10.0):
            raise ConfigError(f"refractory_s must be in [0, 10] s, got {self.refractory_s!r}")
        if self.onsets not in ("auto", "crest", "threshold"):
            raise ConfigError(f"unknown onset detector {self.onsets!r}; choose auto, crest or threshold")
        known = {s.key for s in STEPS}
        if self.steps is not None and not set(self.steps) <= known:
            raise ConfigError(f"unknown step(s) {sorted(set(self.steps) - known)}; known: {', '.join(s.key for s in STEPS)}")


@dataclass
class StepResult:
    step: Step
    window: str
    in_sample: dict
    held_out: dict
    info: str
    seconds: float
    notes_in_sample: NoteSequence | None = None  # worm notes over the whole window


@dataclass
class ProgressionResult:
    results: list[StepResult] = field(default_factory=list)
    duration_full_s: float = 0.0
    window_s: float = 0.0
    target_name: str = ""
    config: ProgressionConfig = field(default_factory=ProgressionConfig)
    files: dict[str, Path] = field(default_factory=dict)


def worm_notes(win: Window, frames: np.ndarray, score: np.ndarray | None) -> NoteSequence:
    """Decoded onset frames -> notes: pitch of the most active recorded muscle, velocity from the score."""
    frames = np.asarray(frames, dtype=np.int64)
    v = np.where(win.feats.valid, np.nan_to_num(win.feats.v_mV, nan=-np.inf), -np.inf)
    muscle = np.argmax(v[frames], axis=1) if len(frames) else np.zeros(0, int)
    if score is not None and len(frames):
        s = score[frames]
        lo, hi = np.min(score), np.max(score)
        vel = 40 + 80 * (s - lo) / (hi - lo) if hi > lo else np.full(len(frames), 80.0)
    else:
        vel = np.full(len(frames), 80.0)
    return NoteSequence.from_arrays(frames_to_s(frames, win.frame_hz), muscle_to_midi(muscle), np.clip(vel, 1, 127).astype(int),
                                    name="worm (learned)")


def _notes_for(out: StepOutput, win: Window, split: TimeBlockSplit, refractory_s: float) -> NoteSequence:
    if out.notes is not None:
        return out.notes
    start = split.split_frame
    if out.score is not None:
        train_target = win.target if split.n_heldout_blocks == 0 else win.target.window(0.0, start / win.frame_hz)
        thr = calibrate_threshold(out.score[split.train], train_target.onset_s, win.frame_hz, refractory_s)
        frames = decode_onsets(out.score[start:], win.frame_hz, thr, refractory_s) + start
    else:
        frames = out.onset_frames[out.onset_frames >= start]
    return worm_notes(win, frames, out.score)


def _evaluate(notes: NoteSequence, win: Window, split: TimeBlockSplit) -> dict:
    """Metrics + nulls (pipeline.score_notes) on the frames the split evaluates."""
    from ..pipeline import score_notes

    t0 = split.split_frame / win.frame_hz
    dur = win.duration_s - t0
    target = win.target.window(t0, win.duration_s)
    metrics, _ = score_notes(notes.window(t0, win.duration_s), target, dur, null_seed=win.seed)
    return {**metrics, "target_notes": len(target)}


def _fitted_on(win: Window, train: np.ndarray) -> Window:
    """``win`` whose feature normalisation is fitted on ``train`` (fresh caches:
    nothing fitted under another split is reused)."""
    return dataclasses.replace(win, feats=win.feats.fitted_on(train), cache={})


def run_step(step: Step, win: Window, cfg: ProgressionConfig) -> StepResult:
    t0 = time.perf_counter()
    split_in = in_sample(win.n_frames)
    out_in = step.fn(win, split_in.train)
    notes_in = _notes_for(out_in, win, split_in, cfg.refractory_s)
    split_out = time_block_split(win.n_frames, cfg.n_blocks, cfg.heldout_frac)
    win_out = _fitted_on(win, split_out.train)
    out_out = step.fn(win_out, split_out.train)
    notes_out = _notes_for(out_out, win_out, split_out, cfg.refractory_s)
    return StepResult(step, win.name, _evaluate(notes_in, win, split_in), _evaluate(notes_out, win, split_out),
                      out_in.info, time.perf_counter() - t0, notes_in)


def build_windows(target: NoteSequence, cfg: ProgressionConfig, activity=None) -> dict[str, Window]:
    """Simulate the worm once for the whole piece (unless ``activity`` is given) and cut the windows."""
    from ..worm import simulate
    from ..worm.onsets import extract_notes

    if len(target) == 0:
        raise ConfigError("the target has no notes")
    t_full = float(target.onset_s[-1]) + cfg.tail_s
    if cfg.steps is not None and not any(s.scope == "full" for s in STEPS if s.key in cfg.steps):
        t_full = min(t_full, cfg.window_s)  # no full-piece step: simulate only the window (C302 costs ~14 s/s)
    if activity is None:
        activity = simulate(cfg.params, backend=cfg.backend, model=cfg.model, duration_s=t_full, seed=cfg.seed,
                            integrator=cfg.integrator, dt_ms=cfg.dt_ms)
    feats = activity_features(activity, cfg.frame_hz)
    t_full = min(t_full, feats.duration_s)
    method = cfg.onsets
    if method == "auto":  # the model's own detector; C302/Sibernetic have no drive to gate crests: spikes
        method = default_onset_method(cfg.model) if activity.backend not in ("c302", "container") else "threshold"
    baseline = extract_notes(activity, method)
    windows = {}
    for scope, dur in (("window", min(cfg.window_s, t_full)), ("full", t_full)):
        n = int(round(dur * cfg.frame_hz))
        windows[scope] = Window(
            name=f"first {dur:g} s" if scope == "window" else f"full piece ({dur:.1f} s)",
            activity=activity, feats=feats.slice(0, n), target=target.window(0.0, dur),
            baseline=baseline.window(0.0, dur), k_worm=cfg.k_worm, quick=cfg.quick, seed=cfg.seed)
    return windows


def run_progression(target: NoteSequence, cfg: ProgressionConfig = ProgressionConfig(), activity=None,
                    progress: bool = True) -> ProgressionResult:
    from tqdm.auto import tqdm

    windows = build_windows(target, cfg, activity)
    steps = [s for s in STEPS if cfg.steps is None or s.key in cfg.steps]
    res = ProgressionResult(duration_full_s=windows["full"].duration_s, window_s=windows["window"].duration_s,
                            target_name=target.name, config=cfg)
    bar = tqdm(steps, desc="progression", unit="step", disable=not progress)
    for step in bar:
        bar.set_postfix_str(f"step {step.key}")
        res.results.append(run_step(step, windows[step.scope], cfg))
    return res


def table_rows(res: ProgressionResult) -> list[dict]:
    """One row per step: each F1 beside its nulls at the row's own note count."""
    nan = float("nan")
    rows = []
    for r in res.results:
        i, o = r.in_sample, r.held_out
        rows.append({
            "step": r.step.key,
            "method": r.step.method,
            "data": r.window,
            f"{F1_M} in-sample": i["f1_mireval"],
            f"{F1_S} in-sample": i["f1_seed"],
            "z vs own shifts in-sample": i.get("shift_z", nan),
            f"{F1_M} held-out": o["f1_mireval"],
            f"{F1_S} held-out": o["f1_seed"],
            # replaces "beats step-0 held-out?", which compared F1s at different note counts
            "z vs own shifts held-out": o.get("shift_z", nan),
            "p (shift null) held-out": o.get("shift_p", nan),
            "uniform chance F1 held-out (same count)": o.get("uniform_mean", nan),
            "best metronome F1 held-out (same count)": o.get("metronome_f1", nan),
            "beat ceiling F1 held-out": o.get("beat_ceiling_f1", nan),
            "worm notes held-out": int(o.get("n_worm", round(o["worm_rate_hz"] * o.get("duration_s", 0.0)))),
            "worm notes/s held-out": r.held_out["worm_rate_hz"],
            "target notes held-out": r.held_out["target_notes"],
            "seed's reported F1 (any-match, in-sample)": r.step.seed_f1,
            "details": r.info,
            "time (s)": round(r.seconds, 1),
        })
    return rows


def write_outputs(res: ProgressionResult, target: NoteSequence, out_dir: Path, fs: int = 22050) -> dict[str, Path]:
    """progression.md / .csv, and for step 10: worm + target WAVs and a piano roll."""
    from ..music.audio import write_audio
    from ..music.synth import render
    from ..music.pianoroll import plot_pianoroll
    from ..store.atomic import write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = table_rows(res)
    files = {"csv": write_table_csv(rows, out_dir / "progression.csv")}
    cfg = res.config
    n_out = time_block_split(cfg.n_blocks * 10, cfg.n_blocks, cfg.heldout_frac).n_heldout_blocks
    header = (f"# PyANNOW progression on {res.target_name or 'the target'}\n\n"
              "In-sample = the seed's protocol (trained and scored on the same frames). Held-out = time-block split: "
              f"the last {n_out} of {cfg.n_blocks} blocks of each window are never seen in training, threshold "
              "calibration included.\n"
              f"Steps 0–9b use the first {res.window_s:g} s (the seed used a 10 s window for steps 7 and 9)"
              + (f"; 0-full, 10 and `ref` the full piece ({res.duration_full_s:.1f} s)"
                 if any(r.step.scope == "full" for r in res.results) else "")
              + f". Worm: {cfg.backend}/{cfg.model}.\n"
              "Step 0's notes come from the worm backend's own onset detector; the learned steps decode onset "
              f"scores with a threshold calibrated on the training frames and a {cfg.refractory_s:g} s refractory "
              "time.\n"
              "Each F1 stands beside its nulls at the row's own note count: z and p against circular shifts of the "
              "row's own onsets over the scored frames (0 = no better placed than its own rhythm gives), uniform "
              "chance, the best metronome at that count and the beat ceiling (a metronome on the score's beat, 1-4 "
              "notes per click: what tempo alone reaches).\n\n")
    files["md"] = write_text(out_dir / "progression.md", header + format_table_markdown(rows) + "\n")
    s10 = next((r for r in res.results if r.step.key == "10"), None)
    if s10 is not None and s10.notes_in_sample is not None:
        dur = res.duration_full_s
        worm = s10.notes_in_sample
        tgt = target.window(0.0, dur)
        files["worm_wav"] = Path(write_audio(out_dir / "step10_worm.wav", render(worm, fs, duration_s=dur), fs))
        files["target_wav"] = Path(write_audio(out_dir / "step10_target.wav", render(tgt, fs, duration_s=dur), fs))
        files["pianoroll"] = Path(plot_pianoroll(worm, tgt, out_dir / "step10_pianoroll.png", duration_s=dur,
                                                 title="step 10 (in-sample, full piece): worm vs target"))
    res.files = files
    return files
