"""Sibernetic (SPH body) + C302 in OpenWorm's published image, via docker or apptainer.

The command is SCIENCE.md section 4's, built as an argument vector from
validated values and run by the native launcher (no shell, own process group,
killed on timeout)::

    docker run --rm --name pyannow-<id> -v OUT:/out -w /home/ow/sibernetic openworm/openworm:0.9.7 \\
        python3 sibernetic_c302.py -duration MS -dt MS -dtNrn MS -logstep N -device=CPU \\
        -configuration worm_crawl_half_resolution -reference FW -c302params C2 \\
        -datareader UpdatedSpreadsheetDataReader2 -outDir /out
    apptainer exec --cleanenv --writable-tmpfs --bind OUT:/out --pwd /home/ow/sibernetic IMAGE python3 ...

``OUT`` is a private task directory (removed afterwards on every path).
``sibernetic_c302.py`` writes ``/out/<c302params>_<reference>_<time>/`` with
``muscles_activity_buffer.txt`` (96 activations per logged step), the WCON
body midline and C302's own ``*.muscles.dat``.  The result: V from C302 when
present (spikes by the threshold detector), else NaN V and onsets from
activation crossings; ``traces["activation"]`` (n, 96) and the body motion
``traces["body_x"]``/``["body_y"]`` (n, midline points, the WCON file's units),
all interpolated onto ``t_ms`` like every other trace.

Choosing: ``$PYANNOW_CONTAINER_RUNTIME`` (docker | apptainer), else the first
on PATH.  Apptainer runs ``$PYANNOW_OW_IMAGE`` (an ``ow.sif`` built with
``apptainer build ow.sif docker://openworm/openworm:0.9.7``), default the
docker:// URI.  ``$PYANNOW_SIBERNETIC_DT_MS`` (0.005) and
``$PYANNOW_SIBERNETIC_DEVICE`` (CPU) tune the physics.

``sibernetic_c302.py`` has no option for parameter overrides, so this
backend runs the published C2 network as is: channel parameters other than
the model's defaults are refused (use ``backend = "c302"`` to vary them).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, RuntimeNotFoundError, SimulationError
from ..launch import check_arg, check_number, check_path, run, task_dir, which
from ..params import space
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .c302_io import activation_spikes, read_c302, read_muscle_buffer, read_wcon

IMAGE = "openworm/openworm:0.9.7"
WORKDIR = "/home/ow/sibernetic"
RUNTIMES = ("docker", "apptainer")
_SAFE_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class SiberneticRun:
    """The validated options of one ``sibernetic_c302.py`` run (SCIENCE.md section 4 defaults)."""

    duration_ms: float
    dt_ms: float = 0.005  # Sibernetic (SPH) step
    dt_nrn_ms: float = 0.05  # NEURON step inside Sibernetic
    logstep: int = 100  # log every N Sibernetic steps
    device: str = "CPU"
    configuration: str = "worm_crawl_half_resolution"
    reference: str = "FW"
    c302params: str = "C2"
    datareader: str = "UpdatedSpreadsheetDataReader2"

    def args(self, out_dir: str = "/out") -> list[str]:
        """The script's argument vector (after ``python3 sibernetic_c302.py``)."""
        for name in ("device", "configuration", "reference", "c302params", "datareader"):
            value = check_arg(getattr(self, name), name)
            if not value or not set(value) <= _SAFE_WORD:
                raise ConfigError(f"{name} {value!r} must be a plain word (letters, digits, _ - .)")
        return [
            "-duration", check_number(self.duration_ms, "duration_ms", 1e-3, 1e7),
            "-dt", check_number(self.dt_ms, "sibernetic dt_ms", 1e-6, 1.0),
            "-dtNrn", check_number(self.dt_nrn_ms, "NEURON dt_ms", 1e-4, 1.0),
            "-logstep", check_number(self.logstep, "logstep", 1, 1e9, integer=True),
            f"-device={self.device}",
            "-configuration", self.configuration,
            "-reference", self.reference,
            "-c302params", self.c302params,
            "-datareader", self.datareader,
            "-outDir", out_dir,
        ]

    @property
    def log_interval_ms(self) -> float:
        return self.dt_ms * self.logstep


def pick_runtime() -> str:
    wanted = os.environ.get("PYANNOW_CONTAINER_RUNTIME")
    if wanted:
        if wanted not in RUNTIMES:
            raise ConfigError(f"PYANNOW_CONTAINER_RUNTIME={wanted!r}: choose one of {', '.join(RUNTIMES)}")
        if which(wanted) is None:
            raise RuntimeNotFoundError(f"container runtime {wanted!r} not found on PATH")
        return wanted
    for name in RUNTIMES:
        if which(name):
            return name
    raise RuntimeNotFoundError("no container runtime found: install docker or apptainer (or use backend 'c302')")


def build_argv(runtime: str, out_dir: os.PathLike | str, sim: SiberneticRun, *, name: str | None = None,
               image: str | None = None) -> list[str]:
    """The full command line for ``runtime`` (``docker`` or ``apptainer``)."""
    out = check_path(out_dir, "output directory", mount=True)
    script = ["python3", "sibernetic_c302.py", *sim.args("/out")]
    if runtime == "docker":
        cname = check_arg(name or f"pyannow-{uuid.uuid4().hex[:12]}", "container name")
        return ["docker", "run", "--rm", "--name", cname, "-v", f"{out}:/out", "-w", WORKDIR,
                check_arg(image or IMAGE, "image"), *script]
    if runtime == "apptainer":
        img = image or os.environ.get("PYANNOW_OW_IMAGE") or f"docker://{IMAGE}"
        if not img.startswith("docker://"):
            img = check_path(img, "apptainer image (PYANNOW_OW_IMAGE)")
        # --writable-tmpfs: the script compiles NEURON mechanisms in its read-only workdir
        return ["apptainer", "exec", "--cleanenv", "--writable-tmpfs", "--bind", f"{out}:/out",
                "--pwd", WORKDIR, check_arg(img, "image"), *script]
    raise ConfigError(f"unknown container runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")


def _check_defaults(spec: SimulationSpec) -> None:
    defaults = space(spec.model).defaults()
    changed = sorted(k for k, v in spec.params.items() if k in defaults and v != defaults[k])
    if changed:
        raise ConfigError(
            f"the container backend runs OpenWorm's published C2 network and cannot apply {', '.join(changed)}: "
            "sibernetic_c302.py has no parameter-override option; use backend 'c302' to vary channel parameters"
        )


def _timeout_s(duration_ms: float) -> float:
    # Sibernetic runs ~1200x slower than real time on a GPU laptop (SCIENCE.md 4)
    return float(os.environ.get("PYANNOW_CONTAINER_TIMEOUT_S", 600.0 + 5000.0 * duration_ms / 1000.0))


def parse_output(out_dir: Path, spec: SimulationSpec, sim: SiberneticRun) -> MuscleActivity:
    """Read a finished ``sibernetic_c302.py`` output directory into :class:`MuscleActivity`."""
    buffers = sorted(out_dir.glob("*/muscles_activity_buffer.txt")) or sorted(out_dir.glob("muscles_activity_buffer.txt"))
    if not buffers:
        raise SimulationError(f"Sibernetic wrote no muscles_activity_buffer.txt under {out_dir}")
    sim_dir = buffers[-1].parent
    t_act, act = read_muscle_buffer(buffers[-1], sim.log_interval_ms)
    traces: dict[str, np.ndarray] = {}
    wcons = sorted(sim_dir.glob("*.wcon"))
    body = read_wcon(wcons[0]) if wcons else None
    lems = sim_dir / "LEMS_c302.xml"
    if lems.exists() and any(sim_dir.glob("*.muscles.dat")):
        base = read_c302(sim_dir, lems.name, sample_rate_hz=spec.sample_rate_hz, thresh_mV=spec.spike_thresh_mV,
                         refractory_ms=spec.refractory_ms, params=spec.params, model=spec.model, seed=spec.seed,
                         float32=spec.float32)
        t_ms, v, st, sm = base.t_ms, base.v_mV, base.spike_times_ms, base.spike_muscle
        traces.update(base.traces)
    else:
        step = 1000.0 / spec.sample_rate_hz
        t_ms = np.arange(0.0, t_act[-1] + 0.5 * step, step)
        v = np.full((len(t_ms), N_MUSCLES), np.nan, dtype=np.float32 if spec.float32 else np.float64)
        st, sm = activation_spikes(t_act, act, refractory_ms=spec.refractory_ms)
    traces["activation"] = _on_grid(t_ms, t_act, act)
    if body is not None:
        # every trace shares t_ms as its first axis: the midline (n_points per
        # WCON frame) is interpolated onto it, NaN outside the recorded frames
        for k in ("body_x", "body_y"):
            traces[k] = _on_grid(t_ms, body["body_t_ms"], body[k], outside=np.nan)
    return MuscleActivity(t_ms=t_ms, v_mV=v, spike_times_ms=st, spike_muscle=np.asarray(sm, dtype=np.int32),
                          backend="container", model=spec.model, params=dict(spec.params), seed=spec.seed,
                          traces=traces)


def _on_grid(t_ms: np.ndarray, t_src: np.ndarray, values: np.ndarray, outside: float | None = None) -> np.ndarray:
    """``values[len(t_src), k]`` linearly interpolated onto ``t_ms``, column by column."""
    kw = {} if outside is None else {"left": outside, "right": outside}
    return np.stack([np.interp(t_ms, t_src, values[:, j], **kw) for j in range(values.shape[1])], axis=1)


def simulate(spec: SimulationSpec) -> MuscleActivity:
    _check_defaults(spec)
    runtime = pick_runtime()
    dt_sib_ms = float(os.environ.get("PYANNOW_SIBERNETIC_DT_MS", "0.005"))
    sim = SiberneticRun(
        duration_ms=spec.duration_ms,
        dt_ms=dt_sib_ms,
        # C2's muscles need NEURON steps of <= 0.05 ms (SCIENCE.md section 4's command)
        dt_nrn_ms=min(spec.dt_ms, 0.05),
        # one logged step per output sample
        logstep=max(1, int(round(1000.0 / (spec.sample_rate_hz * dt_sib_ms)))),
        device=os.environ.get("PYANNOW_SIBERNETIC_DEVICE", "CPU"),
    )
    name = f"pyannow-{uuid.uuid4().hex[:12]}"
    with task_dir(prefix="sibernetic-") as d:
        out = d / "out"
        out.mkdir()
        argv = build_argv(runtime, out, sim, name=name)
        try:
            res = run(argv, cwd=d, timeout_s=_timeout_s(spec.duration_ms), stdout=d / "run.out", stderr=d / "run.err")
        except SimulationError:
            if runtime == "docker":  # the killed client does not stop the container itself
                try:
                    run(["docker", "kill", name], timeout_s=30, stdout=d / "kill.out", stderr=d / "kill.err")
                except SimulationError:
                    pass
            raise
        if res.exit_code != 0:
            raise SimulationError(f"{runtime} run of {IMAGE} failed (exit {res.exit_code}): {res.tail()}")
        return parse_output(out, spec, sim)
