"""Map where a cell model is excitable and where the worm plays at a musical rate.

Simulates a grid over two channel parameters (log-spaced over their bounds
unless --x-range/--y-range are given), one panel per value of a third
(--panel NAME=V1,V2,...), the wave drive on, and counts notes (spikes: upward
crossings of -10 mV, 50 ms refractory) after a settling time.  Writes a PNG
and prints a Markdown summary (fraction of the grid excitable / in the musical
band, notes/s).

examples:
  pyannow-hpc excitability --model boyle2008 --out docs/img/excitability_boyle2008.png
  pyannow-hpc excitability --model pyannow --grid 8 --out seed.png
  pyannow-hpc excitability --model boyle2008 --x g_ca_boyle --y g_k_fast --panel noise_sd_uA=0.1,1 --out m.png
  pyannow-hpc excitability --model boyle2008 --x drive_freq_hz --x-range 0.5 2.9 --grid 9 \
      --y drive_g_syn --y-range 0.09 0.2 --panel drive_pulse_ms=0,333.333 --per-cycle --out tempo.png
"""
from __future__ import annotations

HELP = "excitability map: where the muscles spike, and where the worm plays 2-8 notes/s"

#: per model: x, y, panel name and values (the drive strength)
PRESETS = {
    "boyle2008": ("g_ca_boyle", "g_k_slow", "drive_g_syn", (0.05, 0.15, 0.5)),
    "pyannow": ("g_egl19", "g_exp2", "drive_amp_uA", (4.0, 12.0, 36.0)),
}


def add_arguments(p) -> None:
    p.add_argument("--model", default="boyle2008", help="cell model (default: %(default)s)")
    p.add_argument("--x", help="parameter on the x axis (default: the model's Ca conductance)")
    p.add_argument("--y", help="parameter on the y axis (default: the model's main K conductance)")
    p.add_argument("--x-range", type=float, nargs=2, metavar=("LO", "HI"), help="x range (default: its bounds)")
    p.add_argument("--y-range", type=float, nargs=2, metavar=("LO", "HI"), help="y range (default: its bounds)")
    p.add_argument("--panel", metavar="NAME=V1,V2,...", help="one panel per value (default: three drive strengths)")
    p.add_argument("--grid", type=int, default=16, help="points per axis (default: %(default)s)")
    p.add_argument("--duration-s", type=float, default=6.0, help="simulated time per point (default: %(default)s)")
    p.add_argument("--settle-s", type=float, default=1.0, help="start-up time not counted (default: %(default)s)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="fixed override")
    p.add_argument("--per-cycle", action="store_true",
                   help="colour by notes per wave cycle and print them per row (use with --x drive_freq_hz "
                        "to see whether the drive is a tempo knob)")
    p.add_argument("--out", "-o", required=True, metavar="MAP.png", help="output PNG")


def _axis(sp, name, rng, n):
    import numpy as np

    p = sp[name]
    lo, hi = rng if rng else (p.lower, p.upper)
    if not (p.lower <= lo < hi <= p.upper):
        from ..errors import ConfigError

        raise ConfigError(f"range [{lo:g}, {hi:g}] for {name} must be increasing and inside its bounds "
                          f"[{p.lower:g}, {p.upper:g}]")
    return np.geomspace(lo, hi, n) if p.scale == "log" and lo > 0 else np.linspace(lo, hi, n)


def run(args) -> int:
    from ..analysis.excitability import SUMMARY_HEADER, excitability_map, plot
    from ..errors import ConfigError
    from ..params import space
    from ._common import parse_param_overrides

    sp = space(args.model)
    x, y, panel, values = PRESETS.get(args.model, (None, None, None, ()))
    x, y = args.x or x, args.y or y
    if not x or not y:
        raise ConfigError(f"no preset axes for model {args.model!r}: give --x and --y")
    if args.panel:
        panel, _, vals = args.panel.partition("=")
        try:
            values = tuple(float(v) for v in vals.split(","))
        except ValueError:
            raise ConfigError(f"--panel expects NAME=V1,V2,..., got {args.panel!r}") from None
    if args.grid < 2:
        raise ConfigError(f"--grid must be >= 2, got {args.grid}")
    m = excitability_map(
        args.model, x, _axis(sp, x, args.x_range, args.grid), y, _axis(sp, y, args.y_range, args.grid),
        panel_name=panel or None, panel_values=values or (float("nan"),),
        base=parse_param_overrides(args.param), duration_s=args.duration_s, settle_s=args.settle_s,
    )
    plot(m, args.out, per_cycle=args.per_cycle)
    print(SUMMARY_HEADER)
    print("\n".join(m.summary()))
    if args.per_cycle:
        print(f"\n| panel | row | notes per cycle at {x} = {', '.join(f'{v:g}' for v in m.x)} | max/min |\n|---|---|---|---|")
        print("\n".join(m.per_cycle_rows()))
    print(f"wrote {args.out}")
    return 0
