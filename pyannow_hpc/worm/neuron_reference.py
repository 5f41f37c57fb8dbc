"""Validate the boyle2008 surrogate against NEURON running c302's own muscle cell.

The independent implementation is c302's ``GenericMuscleCell`` (parameter set
C1) in the ``c302_IClampMuscle`` network: one muscle (MDR01) with c302's
offset current as an IClamp step, converted by jNeuroML to NEURON and run
there.  The surrogate runs the same cell (the C1 defaults of the boyle2008
space), drive and noise off, with the same step converted to a current
density on c302's cylinder (diameter 5 um, length 20 um: 314.16 um^2).  Both
traces start at V = -45 mV with every gate at steady state and [Ca] = 0.

Generation, the mechanism compile (cached per .mod contents) and the NEURON
run reuse the C302 backend's machinery (:mod:`.c302_backend`: private task
directory, no shell, timeouts).  ``python -m pyannow_hpc.worm.neuron_reference
[--level C2] [--amps-pa 4 6] [--plot PNG]`` prints the comparison table (and
plots the last step's traces).  Set C2 works too (its muscle uses the same
channels with its own pool and reversal potentials); CI runs C1.
"""
from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from ..launch import task_dir
from . import c302_backend
from .boyle2008 import C302_SETS, CurrentStep
from .c302_io import read_c302, slot_of

#: c302's muscle cylinder (parameters_C.py: cell_diameter 5, muscle_length 20, um)
AREA_UM2 = math.pi * 5.0 * 20.0
MUSCLE = "MDR01"


@dataclass(frozen=True)
class Trace:
    t_ms: np.ndarray
    v_mV: np.ndarray
    ca_mM: np.ndarray
    spike_times_ms: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """Surrogate vs NEURON for one current step and one surrogate dt."""

    level: str
    amp_pA: float
    dt_ms: float
    rms_v_mV: float
    max_abs_v_mV: float
    rms_ca_rel: float  # RMS of the [Ca] difference / NEURON's peak [Ca]
    neuron_spikes_ms: np.ndarray
    surrogate_spikes_ms: np.ndarray
    backend: str = "native"
    extra: dict = field(default_factory=dict)

    @property
    def max_spike_shift_ms(self) -> float:
        """Largest |t_surrogate - t_neuron| over paired spikes (inf if the counts differ)."""
        if len(self.neuron_spikes_ms) != len(self.surrogate_spikes_ms):
            return math.inf
        if len(self.neuron_spikes_ms) == 0:
            return 0.0
        return float(np.max(np.abs(self.surrogate_spikes_ms - self.neuron_spikes_ms)))

    def row(self) -> str:
        shift = "n/a" if math.isinf(self.max_spike_shift_ms) else f"{self.max_spike_shift_ms:.2f}"
        return (f"| {self.level} | {self.amp_pA:g} pA | {self.backend} dt {self.dt_ms:g} ms | {self.rms_v_mV:.3f} | "
                f"{self.max_abs_v_mV:.2f} | {100 * self.rms_ca_rel:.2f} % | {len(self.neuron_spikes_ms)} / "
                f"{len(self.surrogate_spikes_ms)} | {shift} |")


HEADER = ("| set | step | surrogate | RMS V (mV) | max abs V (mV) | RMS [Ca] / peak | spikes NEURON / surrogate "
          "| max spike shift (ms) |\n|---|---|---|---|---|---|---|---|")


def _offsets(amp_pA: float, delay_ms: float, dur_ms: float) -> dict[str, str]:
    return {
        "unphysiological_offset_current": f"{amp_pA!r} pA",
        "unphysiological_offset_current_del": f"{delay_ms!r} ms",
        "unphysiological_offset_current_dur": f"{dur_ms!r} ms",
    }


def prepare(directory: str, level: str, duration_ms: float, dt_ms: float, overrides: dict[str, str]) -> None:
    """Child-process side: generate c302's IClampMuscle network and convert it for NEURON."""
    import c302.c302_IClampMuscle as iclamp
    from pyneuroml import pynml

    iclamp.setup(level, generate=True, duration=duration_ms, dt=dt_ms, target_directory=directory,
                 param_overrides=overrides, verbose=False)
    lems = os.path.join(directory, f"LEMS_c302_{level}_IClampMuscle.xml")
    ok = pynml.run_lems_with_jneuroml_neuron(lems, only_generate_scripts=True, compile_mods=False, nogui=True,
                                             exec_in_dir=directory, max_memory="1G", exit_on_fail=False,
                                             verbose=False)
    if not ok or not os.path.exists(lems.replace(".xml", "_nrn.py")):
        raise SystemExit(f"jNeuroML did not write the NEURON script for {lems}")


def run_neuron(amp_pA: float, *, level: str = "C1", delay_ms: float = 100.0, dur_ms: float = 800.0,
               duration_ms: float = 1000.0, dt_ms: float = 0.05, thresh_mV: float = -10.0,
               refractory_ms: float = 50.0) -> Trace:
    """c302's muscle in NEURON with an IClamp step of ``amp_pA`` (full-resolution traces)."""
    c302_backend._check_runtime()
    name = f"c302_{level}_IClampMuscle"
    with task_dir(prefix="nrn-ref-") as d:
        c302_backend._step(
            [sys.executable, "-m", "pyannow_hpc.worm.neuron_reference", "prepare", str(d), level, repr(duration_ms), repr(dt_ms),
             json.dumps(_offsets(amp_pA, delay_ms, dur_ms))],
            d, "prepare", "c302 IClampMuscle generation / jNeuroML conversion",
        )
        arch = c302_backend.compiled_mechanisms(d)
        os.symlink(arch, d / arch.name)
        c302_backend._step([sys.executable, f"LEMS_{name}_nrn.py", "-nogui"], d, "neuron", "NEURON run")
        act = read_c302(d, f"LEMS_{name}.xml", sample_rate_hz=1000.0 / dt_ms, thresh_mV=thresh_mV,
                        refractory_ms=refractory_ms, params={}, model="c302-" + level, float32=False)
    j = slot_of(MUSCLE)
    return Trace(act.t_ms, act.v_mV[:, j].copy(), act.traces["ca_mM"][:, j].copy(), act.spikes_of(j))


def run_surrogate(amp_pA: float, *, level: str = "C1", delay_ms: float = 100.0, dur_ms: float = 800.0,
                  duration_ms: float = 1000.0, dt_ms: float = 0.05, backend: str = "native",
                  thresh_mV: float = -10.0, refractory_ms: float = 50.0) -> Trace:
    """The boyle2008 surrogate with c302's parameter set ``level``, drive and noise off, the same step."""
    import importlib

    from . import make_spec

    spec = make_spec({**C302_SETS[level], "drive_g_syn": 0.0, "noise_sd_uA": 0.0}, model="boyle2008",
                     duration_s=duration_ms / 1000.0, dt_ms=dt_ms, sample_rate_hz=1000.0 / dt_ms, float32=False, record_traces=True,
                     spike_thresh_mV=thresh_mV, refractory_ms=refractory_ms)
    mod = importlib.import_module(f"{__package__}.boyle2008_{'native' if backend == 'native' else 'jax'}")
    act = mod.simulate(spec, CurrentStep.from_pA(amp_pA, delay_ms, delay_ms + dur_ms, AREA_UM2))
    return Trace(act.t_ms, act.v_mV[:, 0].copy(), act.traces["ca_mM"][:, 0].copy(), act.spikes_of(0))


def compare(neuron: Trace, surrogate: Trace, *, level: str, amp_pA: float, dt_ms: float,
            backend: str = "native") -> Comparison:
    """Errors of ``surrogate`` against ``neuron`` at the surrogate's sample times."""
    idx = np.rint(surrogate.t_ms / (neuron.t_ms[1] - neuron.t_ms[0])).astype(int)
    if idx[-1] >= len(neuron.t_ms):
        raise ValueError("the surrogate trace is longer than the NEURON trace")
    dv = surrogate.v_mV - neuron.v_mV[idx]
    dca = surrogate.ca_mM - neuron.ca_mM[idx]
    return Comparison(
        level=level, amp_pA=amp_pA, dt_ms=dt_ms, backend=backend,
        rms_v_mV=float(np.sqrt(np.mean(dv**2))), max_abs_v_mV=float(np.max(np.abs(dv))),
        rms_ca_rel=float(np.sqrt(np.mean(dca**2)) / np.max(neuron.ca_mM)),
        neuron_spikes_ms=neuron.spike_times_ms, surrogate_spikes_ms=surrogate.spike_times_ms,
    )


def validate(amps_pA=(4.0, 6.0), dts_ms=(0.05, 0.5), *, level: str = "C1", backends=("native",),
             **kw) -> list[Comparison]:
    """Every (step, surrogate dt, backend) against one NEURON run per step."""
    out = []
    for amp in amps_pA:
        ref = run_neuron(amp, level=level, **kw)
        for backend in backends:
            for dt in dts_ms:
                sur = run_surrogate(amp, level=level, dt_ms=dt, backend=backend, **kw)
                out.append(compare(ref, sur, level=level, amp_pA=amp, dt_ms=dt, backend=backend))
    return out


def plot_comparison(neuron: Trace, surrogates: dict[str, Trace], path: str, title: str = "") -> None:
    """V and [Ca] of NEURON and of the surrogate(s) on shared time axes (PNG, written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..store.atomic import atomic_path

    fig = Figure(figsize=(9.0, 5.0), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_v, ax_ca = fig.subplots(2, 1, sharex=True)
    ax_v.plot(neuron.t_ms, neuron.v_mV, "k", lw=2.2, label="NEURON (c302, dt 0.05 ms)")
    ax_ca.plot(neuron.t_ms, neuron.ca_mM * 1e6, "k", lw=2.2)
    for (label, tr), style in zip(surrogates.items(), ("C1--", "C3:", "C2-.")):
        ax_v.plot(tr.t_ms, tr.v_mV, style, lw=1.3, label=label)
        ax_ca.plot(tr.t_ms, tr.ca_mM * 1e6, style, lw=1.3)
    ax_v.set_ylabel("V (mV)")
    ax_ca.set_ylabel("[Ca] (nM)")
    ax_ca.set_xlabel("time (ms)")
    ax_v.legend(fontsize=8, loc="upper right")
    ax_v.set_title(title, fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:  # child process: prepare DIR LEVEL DURATION_MS DT_MS OVERRIDES_JSON
        prepare(argv[1], argv[2], float(argv[3]), float(argv[4]), json.loads(argv[5]))
        return 0
    import argparse

    ap = argparse.ArgumentParser(prog="python -m pyannow_hpc.worm.neuron_reference", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--level", default="C1", choices=sorted(C302_SETS), help="c302 parameter set (default C1)")
    ap.add_argument("--amps-pa", type=float, nargs="+", default=[4.0, 6.0], help="IClamp steps, pA (default 4 6)")
    ap.add_argument("--plot", metavar="PNG", help="also plot NEURON vs the surrogate for the last step")
    args = ap.parse_args(argv)
    print(HEADER)
    for c in validate(args.amps_pa, level=args.level, backends=("native", "jax")):
        print(c.row())
        print(f"<!-- spikes NEURON {np.round(c.neuron_spikes_ms, 2).tolist()} surrogate "
              f"{np.round(c.surrogate_spikes_ms, 2).tolist()} -->")
    if args.plot:
        amp = args.amps_pa[-1]
        plot_comparison(run_neuron(amp, level=args.level),
                        {f"surrogate dt {dt:g} ms": run_surrogate(amp, level=args.level, dt_ms=dt) for dt in (0.05, 0.5)},
                        args.plot, title=f"c302 {args.level} muscle, {amp:g} pA step from 100 to 900 ms")
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
