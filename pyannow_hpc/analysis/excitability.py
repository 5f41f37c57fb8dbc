"""Excitability maps: where in ion-channel space do the muscles spike, and
where do they play notes at a musical rate?

A grid over two parameters of a cell model (optionally one panel per value of
a third), every point a full 96-muscle simulation with the body-wave drive on,
integrated with the accurate exponential integrator.  Notes are the backend's
spike trains (upward crossings of ``spike_thresh_mV`` with a refractory time:
exactly what ``extract_notes(method="threshold")`` turns into notes), counted
after a settling time so the start-up transient does not count.

- *excitable*: at least one spike anywhere in the worm after settling;
- *musical*: the whole worm plays ``band_hz`` notes per second (default 2-8:
  the nocturne has 4.40, the mazurka ~11).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..params import space

MUSICAL_BAND_HZ = (2.0, 8.0)


@dataclass(frozen=True)
class ExcitabilityMap:
    """``rate_hz[k, i, j]``: worm notes/s at ``y[i]``, ``x[j]`` in panel ``k``."""

    model: str
    x_name: str
    x: np.ndarray
    y_name: str
    y: np.ndarray
    panel_name: str | None
    panel_values: np.ndarray
    rate_hz: np.ndarray
    muscles_active: np.ndarray  # how many of the 96 muscles spiked at least once
    duration_s: float
    settle_s: float
    band_hz: tuple[float, float] = MUSICAL_BAND_HZ
    base: Mapping[str, float] = field(default_factory=dict)

    @property
    def freq_hz(self) -> np.ndarray:
        """The drive frequency at every grid point (an axis, the panel, or the fixed value)."""
        f = np.full(self.rate_hz.shape, float(self.base.get("drive_freq_hz", space(self.model)["drive_freq_hz"].default)))
        if self.x_name == "drive_freq_hz":
            f[:] = self.x[None, None, :]
        if self.y_name == "drive_freq_hz":
            f[:] = self.y[None, :, None]
        if self.panel_name == "drive_freq_hz":
            f[:] = self.panel_values[:, None, None]
        return f

    @property
    def notes_per_cycle(self) -> np.ndarray:
        """Worm notes per body-wave cycle: what a tempo knob must keep flat across frequency."""
        return self.rate_hz / self.freq_hz

    @property
    def excitable(self) -> np.ndarray:
        return self.rate_hz > 0

    @property
    def musical(self) -> np.ndarray:
        lo, hi = self.band_hz
        return (self.rate_hz >= lo) & (self.rate_hz <= hi)

    def summary(self) -> list[str]:
        """One Markdown table row per panel: fractions excitable / musical, rate range."""
        rows = []
        for k, pv in enumerate(self.panel_values):
            r = self.rate_hz[k]
            label = f"{self.panel_name} = {pv:g}" if self.panel_name else "-"
            exc = r[r > 0]
            rng = f"{exc.min():.2f} - {exc.max():.1f}" if exc.size else "-"
            n = r.size
            rows.append(f"| {self.model} | {label} | {self.excitable[k].sum()}/{n} ({self.excitable[k].mean():.0%}) "
                        f"| {self.musical[k].sum()}/{n} ({self.musical[k].mean():.1%}) "
                        f"| {rng} | {np.median(r):.2f} |")
        return rows

    def per_cycle_rows(self) -> list[str]:
        """Per panel and y value: notes per wave cycle across the x axis, and their spread
        (max/min over the excitable points; 1 = flat): the tempo-knob check."""
        rows = []
        npc = self.notes_per_cycle
        for k, pv in enumerate(self.panel_values):
            label = f"{self.panel_name} = {pv:g}" if self.panel_name else "-"
            for i, yv in enumerate(self.y):
                r = npc[k, i]
                exc = r[r > 0]
                spread = f"{exc.max() / exc.min():.2f}" if exc.size == r.size else "silent somewhere"
                rows.append(f"| {label} | {self.y_name} = {yv:g} | " + " ".join(f"{x:.1f}" for x in r) + f" | {spread} |")
        return rows


SUMMARY_HEADER = ("| model | panel | grid points excitable | musical (2-8 notes/s) | notes/s where excitable "
                  "(min - max) | median notes/s |\n|---|---|---|---|---|---|")


def excitability_map(
    model: str,
    x_name: str,
    x_values: Sequence[float],
    y_name: str,
    y_values: Sequence[float],
    *,
    panel_name: str | None = None,
    panel_values: Sequence[float] = (np.nan,),
    base: Mapping[str, float] | None = None,
    duration_s: float = 6.0,
    settle_s: float = 1.0,
    dt_ms: float = 0.5,
    backend: str = "native",
    seed: int = 0,
    band_hz: tuple[float, float] = MUSICAL_BAND_HZ,
) -> ExcitabilityMap:
    """Simulate every grid point (validated against the model's space) and count notes."""
    from ..worm import simulate

    sp = space(model)
    for name in (x_name, y_name) + ((panel_name,) if panel_name else ()):
        sp[name]  # raises ParameterError with a "did you mean" for an unknown name
    if not (0 <= settle_s < duration_s):
        raise ConfigError(f"settle_s must be in [0, duration_s), got {settle_s} (duration_s={duration_s})")
    x, y = np.asarray(x_values, float), np.asarray(y_values, float)
    panels = np.asarray(panel_values if panel_name else (np.nan,), float)
    rate = np.zeros((len(panels), len(y), len(x)))
    active = np.zeros((len(panels), len(y), len(x)), dtype=int)
    for k, pv in enumerate(panels):
        for i, yv in enumerate(y):
            for j, xv in enumerate(x):
                params = {**(base or {}), x_name: xv, y_name: yv}
                if panel_name:
                    params[panel_name] = pv
                # sample_rate 10 Hz: the traces are not needed, the spikes are found at every step
                act = simulate(params, model=model, backend=backend, duration_s=duration_s, dt_ms=dt_ms,
                               seed=seed, sample_rate_hz=10.0)
                late = act.spike_times_ms >= settle_s * 1000.0
                rate[k, i, j] = late.sum() / (duration_s - settle_s)
                active[k, i, j] = len(np.unique(act.spike_muscle[late]))
    return ExcitabilityMap(model, x_name, x, y_name, y, panel_name, panels, rate, active, duration_s, settle_s,
                           band_hz, dict(base or {}))


def plot(m: ExcitabilityMap, path: str, title: str | None = None, per_cycle: bool = False) -> None:
    """Notes/s (``per_cycle``: notes per body-wave cycle) as a log colour map per
    panel; white = silent, red stars = musical band, X = the default point."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    from ..store.atomic import atomic_path

    n = len(m.panel_values)
    fig = Figure(figsize=(4.2 * n + 1.0, 4.0), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)
    value = m.notes_per_cycle if per_cycle else m.rate_hz
    positive = value[value > 0]
    norm = LogNorm(vmin=max(0.1, positive.min()) if positive.size else 0.1,
                   vmax=max(10.0, positive.max()) if positive.size else 10.0)
    mesh = None
    for k, ax in enumerate(axes[0]):
        r = np.ma.masked_less_equal(value[k], 0.0)
        mesh = ax.pcolormesh(m.x, m.y, r, norm=norm, cmap="viridis", shading="nearest")
        # rates jump from 0 to >= 96 x f at the excitability edge, so contours would
        # just trace that edge: mark the musical grid points themselves
        iy, ix = np.nonzero(m.musical[k])
        ax.scatter(m.x[ix], m.y[iy], marker="*", s=90, c="red", edgecolors="white", linewidths=0.6, zorder=3)
        # the model's default point (c302 C1 for boyle2008, the seed's for pyannow)
        dx = m.base.get(m.x_name, space(m.model)[m.x_name].default)
        dy = m.base.get(m.y_name, space(m.model)[m.y_name].default)
        ax.scatter([dx], [dy], marker="X", s=70, c="black", edgecolors="white", linewidths=0.8, zorder=4,
                   label="default")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_xscale("log" if space(m.model)[m.x_name].scale == "log" else "linear")
        ax.set_yscale("log" if space(m.model)[m.y_name].scale == "log" else "linear")
        ax.set_xlabel(m.x_name)
        ax.set_ylabel(m.y_name)
        ax.set_title(f"{m.panel_name} = {m.panel_values[k]:g}" if m.panel_name else m.model, fontsize=10)
    band = f"{m.band_hz[0]:g}-{m.band_hz[1]:g} notes/s"
    label = (f"notes per wave cycle (white: silent; star: {band})" if per_cycle
             else f"worm notes/s (white: silent; red star: {band})")
    fig.colorbar(mesh, ax=axes[0].tolist(), label=label)
    default_title = (f"{m.model}: notes per body-wave cycle" if per_cycle
                     else f"{m.model}: excitability with the wave drive on")
    fig.suptitle(title or default_title, fontsize=11)
    with atomic_path(path) as tmp:  # never a half-written PNG
        fig.savefig(tmp, format="png")
