"""The optimisation problem: which windows, which loss, and one evaluation.

A :class:`Problem` is built once per rank from the config: the search space,
the target, the training windows (``n_windows`` consecutive windows of the
piece x ``n_seeds`` noise seeds: the data-parallel items) and the held-out
ones (later windows, other seeds).  It offers

- :meth:`Problem.item_loss` -- the smooth loss of one item as a JAX function
  of the unit-cube vector ``u`` (gradient mode; population modes on the jax
  backend evaluate the same function, so every method optimises one loss);
- :meth:`Problem.evaluate` -- one point on one window: the loss and the
  nulls-scored F1s of the discrete notes (spikes of the same run on the jax
  backend; the model's onset detector on the others).

Time: the worm runs ``burn_in_s`` before the window (discarded: every run
starts with a burst while the slow gates adapt), then ``duration_s`` that
are compared with target window ``[start_s, start_s + duration_s)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..music.notes import NoteSequence
from . import loss as L
from . import simulators as S
from .config import OFFSET_NAME, OptimizeConfig, onset_method
from .scores import score
from .space import SearchSpace


@dataclass(frozen=True)
class Window:
    start_s: float
    seed: int
    kind: str = "train"  # train | later | seed | heldout


def training_windows(cfg: OptimizeConfig) -> list[Window]:
    sim = cfg.simulation
    return [Window(sim.start_s + k * sim.duration_s, sim.seed + k * sim.n_seeds + j)
            for k in range(sim.n_windows) for j in range(sim.n_seeds)]


def unseen_windows(cfg: OptimizeConfig, target_end_s: float) -> list[Window]:
    """Later windows of the piece (that fit in it) and other noise seeds, never trained on."""
    sim, ev = cfg.simulation, cfg.evaluate
    out = []
    for k in range(ev.later_windows):
        start = sim.start_s + (sim.n_windows + k) * sim.duration_s
        if start + sim.duration_s <= target_end_s + 1e-9:
            out.append(Window(start, sim.seed, "later"))
    used = {w.seed for w in training_windows(cfg)}
    seeds = [s for s in range(sim.seed + 1000, sim.seed + 1000 + ev.other_seeds + len(used)) if s not in used]
    out += [Window(sim.start_s, s, "seed") for s in seeds[: ev.other_seeds]]
    return out


class Problem:
    def __init__(self, cfg: OptimizeConfig, target: NoteSequence):
        self.cfg, self.target = cfg, target
        self.space = SearchSpace.from_config(cfg)
        sim = cfg.simulation
        self.windows = training_windows(cfg)
        self.sample_dt_ms = S.sample_dt_ms(sim.dt_ms)
        self.n_steps = int(round((sim.burn_in_s + sim.duration_s) * 1000.0 / sim.dt_ms))
        self.burn_samples = int(round(sim.burn_in_s * 1000.0 / self.sample_dt_ms))
        self.n_samples = int(round(sim.duration_s * 1000.0 / self.sample_dt_ms))
        self.n_bins = L.n_bins(sim.duration_s, cfg.loss.grid_s)
        self.channels = L.channel_matrix(cfg.loss.pitch_aware)

    # ----------------------------------------------------------- targets
    def target_notes(self, start_s: float, target: NoteSequence | None = None) -> NoteSequence:
        """Target notes of window [start_s, start_s + duration_s), times relative to its start."""
        return (target or self.target).window(start_s, start_s + self.cfg.simulation.duration_s)

    def target_arrays(self, windows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Padded (n_windows, n_max) relative onset times, pitches and a 0/1 mask."""
        notes = [self.target_notes(w.start_s) for w in windows]
        n_max = max(1, max(len(n) for n in notes))
        on, pi, mk = np.zeros((len(notes), n_max)), np.zeros((len(notes), n_max), int), np.zeros((len(notes), n_max))
        for i, n in enumerate(notes):
            on[i, :len(n)], pi[i, :len(n)], mk[i, :len(n)] = n.onset_s, n.pitch, 1.0
        return on, pi, mk

    # ------------------------------------------------------- smooth loss
    @cached_property
    def _trace(self):
        c = self.cfg
        return S.trace_fn(c.model, self.n_steps, c.simulation.dt_ms, c.simulation.integrator, spikes=False)

    def theta_and_offset(self, u, xp):
        th = self.space.theta(self.space.values(u, xp), xp)
        return S.model_theta(self.cfg.model, th), th[OFFSET_NAME]

    def loss_of_trace(self, v, offset, t_on, t_pitch, t_mask):
        c = self.cfg.loss
        v = v[self.burn_samples: self.burn_samples + self.n_samples + 1]
        counts = L.soft_onset_counts(v, S.SPIKE_THRESH_MV, c.soft_width_mV, self.sample_dt_ms, c.grid_s, self.channels,
                                     c.onsets == "surrogate")
        w = L.blur(counts, c.grid_s, c.sigma_s)
        t = L.target_density(t_on, t_pitch, counts.shape[0], c.grid_s, c.sigma_s, offset, c.pitch_aware, t_mask)
        return L.dice_loss(w, t)

    def item_loss(self, u, t_on, t_pitch, t_mask, seed):
        """The smooth loss of one (window, seed) item: a JAX function of ``u`` (call under enable_x64)."""
        import jax.numpy as jnp

        theta, offset = self.theta_and_offset(u, jnp)
        v, _ = self._trace(theta, seed)
        return self.loss_of_trace(v, offset, t_on, t_pitch, t_mask)

    # -------------------------------------------------------- evaluation
    @cached_property
    def _trace_spikes(self):
        c = self.cfg
        return S.trace_fn(c.model, self.n_steps, c.simulation.dt_ms, c.simulation.integrator, spikes=True)

    def _notes_jax(self, values, window: Window, t_arrays):
        import jax
        import jax.numpy as jnp

        from ..worm.spikes import spikes_from_mask

        with jax.enable_x64(True):
            theta = self.space.theta(jnp.asarray(values), jnp)
            offset = float(theta[OFFSET_NAME])
            v, mask = self._trace_spikes(S.model_theta(self.cfg.model, theta), S.seed_u64(window.seed))
            loss = float(self.loss_of_trace(v, offset, *t_arrays))
            times_ms, mus = spikes_from_mask(np.asarray(mask), self.cfg.simulation.dt_ms)
        t = times_ms / 1000.0 - self.cfg.simulation.burn_in_s
        keep = (t >= 0) & (t < self.cfg.simulation.duration_s)
        return t[keep], mus[keep] + L.MIDI_OFFSET, offset, loss

    def _backend_spec(self, values, window: Window):
        """(the SimulationSpec of one point on one window, its learnt time offset)."""
        from ..pipeline import simulation_spec

        c, sim = self.cfg, self.cfg.simulation
        theta = self.space.theta(np.asarray(values))
        offset = float(theta.pop(OFFSET_NAME))
        spec = simulation_spec(theta, model=c.model, duration_s=sim.duration_s, burn_in_s=sim.burn_in_s,
                               dt_ms=sim.dt_ms, seed=window.seed, integrator=sim.integrator)
        return spec, offset

    def _notes_of_activity(self, act, offset: float, t_arrays):
        from ..worm.onsets import extract_notes

        c, sim = self.cfg, self.cfg.simulation
        notes = extract_notes(act, method=onset_method(c))
        t = notes.onset_s - sim.burn_in_s
        keep = (t >= 0) & (t < sim.duration_s)
        t, p = t[keep], notes.pitch[keep]
        on, pi, mk = t_arrays
        real = np.asarray(mk) > 0
        loss = L.loss_from_onsets(t, p, np.asarray(on)[real], np.asarray(pi)[real], sim.duration_s,
                                  grid_s=c.loss.grid_s, sigma_s=c.loss.sigma_s, offset_s=offset,
                                  pitch_aware=c.loss.pitch_aware)
        return t, p, offset, loss

    def _notes_backend(self, values, window: Window, t_arrays):
        from ..worm import backend_module

        spec, offset = self._backend_spec(values, window)
        return self._notes_of_activity(backend_module(self.cfg.backend).simulate(spec), offset, t_arrays)

    def evaluate(self, values, window: Window, target: NoteSequence | None = None, with_nulls: bool = True) -> dict:
        """Loss and scores of one point on one window (``values`` in parameter units)."""
        t_arrays = self._t_arrays(window, target)
        run = self._notes_jax if self.cfg.backend == "jax" else self._notes_backend
        return self._scored(run(values, window, t_arrays), window, target, with_nulls)

    def _t_arrays(self, window: Window, target: NoteSequence | None):
        notes = self.target_notes(window.start_s, target)
        return notes.onset_s, notes.pitch, np.ones(len(notes))

    def _scored(self, notes, window: Window, target: NoteSequence | None, with_nulls: bool) -> dict:
        t, pitches, offset, loss = notes
        out = {"loss": loss, "n_notes": float(len(t)), "time_offset_s": offset}
        if with_nulls:
            played = window.start_s + t + offset  # the learnt offset is part of the played piece
            tgt = (target or self.target).onset_s
            out.update(score(played, tgt, start_s=window.start_s, stop_s=window.start_s + self.cfg.simulation.duration_s,
                             n_shifts=self.cfg.evaluate.n_shifts, seed=window.seed))
        return out

    def evaluate_training(self, values, with_nulls: bool = True) -> dict:
        """Mean over the training items (what population methods minimise)."""
        return _mean([self.evaluate(values, w, with_nulls=with_nulls) for w in self.windows])

    def evaluate_training_many(self, points, n_threads: int | None = None, with_nulls: bool = True) -> list[dict]:
        """:meth:`evaluate_training` of every point; on the native backend all
        points x training windows go to one ``pw_simulate_batch`` call, threaded
        over the sets (bitwise the one-at-a-time results), then each is scored."""
        if self.cfg.backend != "native":
            return [self.evaluate_training(v, with_nulls) for v in points]
        from ..worm.native_batch import simulate_batch

        jobs = [(i, w, *self._backend_spec(v, w)) for i, v in enumerate(points) for w in self.windows]
        acts = simulate_batch([spec for _, _, spec, _ in jobs], n_threads=n_threads)
        rows: list[list[dict]] = [[] for _ in points]
        for (i, w, _, offset), act in zip(jobs, acts):
            notes = self._notes_of_activity(act, offset, self._t_arrays(w, None))
            rows[i].append(self._scored(notes, w, None, with_nulls))
        return [_mean(r) for r in rows]


def _mean(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
