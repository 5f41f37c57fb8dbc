"""Sibernetic (SPH body) + C302 in OpenWorm's published image, via docker or apptainer,
with our channel parameters.

``sibernetic_c302.py`` (OpenWorm's driver) generates its c302 network from a
parameter-set letter and cannot pass ``param_overrides``.  So this backend
splits its run where the parameters enter (the choice, documented in
docs/openworm.md):

1. **on the host**, generate the C1 ``Muscles`` network (sibernetic_c302.py's
   own defaults) with c302 and our parameters as ``param_overrides`` -- the
   C302 backend's mapping (:func:`.c302_params.c302_overrides`) and its
   network cache -- with the Sibernetic time step as c302's ``dt`` (as the
   script passes it), renamed to ``LEMS_c302.xml`` and converted by jNeuroML
   (``LEMS_c302_nrn.py``), into ``<task>/out/C1_Muscles``; then rewrite the
   hoc/data paths in ``LEMS_c302_nrn.py`` to the container's ``/out/C1_Muscles``
   exactly as the script does;
2. **in the container**, our entry script (:mod:`.sibernetic_entry`, copied
   into the mounted directory) runs the script's remaining steps:
   ``nrnivmodl /out/C1_Muscles`` in ``/home/ow/sibernetic``, then
   ``./Release/Sibernetic -c302 -f CONFIG -no_g -l_to lpath=/out/C1_Muscles
   timelimit=S timestep=S logstep=N device=DEV``, then the WCON file::

    docker run --rm --name pyannow-<id> -v OUT:/out -w /home/ow/sibernetic openworm/openworm:0.9.7 \\
        python3 /out/pyannow_sibernetic.py -simDir /out/C1_Muscles -duration MS -dt MS -logstep N \\
        -device CPU -configuration worm_crawl_half_resolution
    apptainer exec --cleanenv --writable-tmpfs --bind OUT:/out --pwd /home/ow/sibernetic IMAGE python3 ...

Argument vectors from validated values, run by the native launcher (no
shell, own process group, killed on timeout).  ``OUT`` is a private task
directory, removed afterwards on every path.  Sibernetic writes
``muscles_activity_buffer.txt`` (96 activations per logged step), the WCON
body midline and, through its embedded NEURON, C302's ``*.muscles.dat`` into
``/out/C1_Muscles``.  The result: V from C302 when present (spikes by the
threshold detector), else NaN V and onsets from activation crossings;
``traces["activation"]`` (n, 96) and the body motion
``traces["body_x"]``/``["body_y"]`` (n, midline points, the WCON file's units),
all interpolated onto ``t_ms`` like every other trace.

Choosing: ``$PYANNOW_CONTAINER_RUNTIME`` (docker | apptainer), else the first
on PATH.  Apptainer runs ``$PYANNOW_OW_IMAGE`` (an ``ow.sif`` built with
``apptainer build ow.sif docker://openworm/openworm:0.9.7``), default the
docker:// URI.  ``$PYANNOW_SIBERNETIC_DT_MS`` (0.005) and
``$PYANNOW_SIBERNETIC_DEVICE`` (CPU) tune the physics.
"""
from __future__ import annotations

import os
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, RuntimeNotFoundError, SimulationError
from ..launch import check_arg, check_number, check_path, run, task_dir, which
from . import c302_backend
from .activity import N_MUSCLES, MuscleActivity, SimulationSpec
from .c302_io import activation_spikes, read_c302, read_muscle_buffer, read_wcon
from .c302_params import c302_overrides, detector_threshold, unmapped_changed

IMAGE = "openworm/openworm:0.9.7"
WORKDIR = "/home/ow/sibernetic"
RUNTIMES = ("docker", "apptainer")
#: the network sibernetic_c302.py generates by default, and the one our mapping targets
PARAMETER_SET, REFERENCE = "C1", "Muscles"
SIM_DIR_NAME = f"{PARAMETER_SET}_{REFERENCE}"
CONTAINER_SIM_DIR = f"/out/{SIM_DIR_NAME}"
ENTRY_NAME = "pyannow_sibernetic.py"
LEMS_NAME = "LEMS_c302.xml"  # sibernetic_c302.py's rename; Sibernetic imports LEMS_c302_nrn
_SAFE_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class SiberneticRun:
    """The validated options of one in-container Sibernetic run (SCIENCE.md section 4 defaults)."""

    duration_ms: float
    dt_ms: float = 0.005  # Sibernetic (SPH) step; also c302's dt, as sibernetic_c302.py passes it
    logstep: int = 100  # log every N Sibernetic steps
    device: str = "CPU"
    configuration: str = "worm_crawl_half_resolution"

    def args(self, sim_dir: str = CONTAINER_SIM_DIR) -> list[str]:
        """The entry script's argument vector (after ``python3 /out/pyannow_sibernetic.py``)."""
        for name in ("device", "configuration"):
            value = check_arg(getattr(self, name), name)
            if not value or not set(value) <= _SAFE_WORD:
                raise ConfigError(f"{name} {value!r} must be a plain word (letters, digits, _ - .)")
        return [
            "-simDir", sim_dir,
            "-duration", check_number(self.duration_ms, "duration_ms", 1e-3, 1e7),
            "-dt", check_number(self.dt_ms, "sibernetic dt_ms", 1e-6, 1.0),
            "-logstep", check_number(self.logstep, "logstep", 1, 1e9, integer=True),
            "-device", self.device,
            "-configuration", self.configuration,
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
    script = ["python3", f"/out/{ENTRY_NAME}", *sim.args(CONTAINER_SIM_DIR)]
    if runtime == "docker":
        cname = check_arg(name or f"pyannow-{uuid.uuid4().hex[:12]}", "container name")
        return ["docker", "run", "--rm", "--name", cname, "-v", f"{out}:/out", "-w", WORKDIR,
                check_arg(image or IMAGE, "image"), *script]
    if runtime == "apptainer":
        img = image or os.environ.get("PYANNOW_OW_IMAGE") or f"docker://{IMAGE}"
        if not img.startswith("docker://"):
            img = check_path(img, "apptainer image (PYANNOW_OW_IMAGE)")
        # --writable-tmpfs: nrnivmodl writes x86_64/ into the image's read-only workdir
        return ["apptainer", "exec", "--cleanenv", "--writable-tmpfs", "--bind", f"{out}:/out",
                "--pwd", WORKDIR, check_arg(img, "image"), *script]
    raise ConfigError(f"unknown container runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")


def _rewrite_paths(nrn_py: Path, sim_dir: str) -> None:
    """sibernetic_c302.py's edit of ``LEMS_c302_nrn.py``: Sibernetic runs it from
    its own directory, so the hoc files it loads and the data files it writes
    are addressed in the simulation directory (the same five replacements)."""
    text = nrn_py.read_text()
    for old, new in (("GenericCell.hoc", f"{sim_dir}/GenericCell.hoc"),
                     ("GenericNeuronCell.hoc", f"{sim_dir}/GenericNeuronCell.hoc"),
                     ("GenericMuscleCell.hoc", f"{sim_dir}/GenericMuscleCell.hoc"),
                     ("open('time.dat", f"open('{sim_dir}/time.dat"),
                     ("open('c302_", f"open('{sim_dir}/c302_")):
        text = text.replace(old, new)
    nrn_py.write_text(text)


def generate_network(out_dir: Path, spec: SimulationSpec, sim: SiberneticRun) -> Path:
    """The host side: ``out_dir/C1_Muscles`` holds the c302 network with our
    parameters, converted for NEURON and addressed at ``/out/C1_Muscles``,
    and ``out_dir`` the entry script.  Returns the network directory."""
    overrides = c302_overrides(spec.model, spec.params)
    net = out_dir / SIM_DIR_NAME
    net.mkdir()
    c302_backend.prepare_network(net, spec.duration_ms, sim.dt_ms, overrides, lems_name=LEMS_NAME)
    _rewrite_paths(net / c302_backend.nrn_script(LEMS_NAME), CONTAINER_SIM_DIR)
    shutil.copyfile(Path(__file__).with_name("sibernetic_entry.py"), out_dir / ENTRY_NAME)
    return net


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
        thresh_name = detector_threshold(spec.model)  # as the C302 backend: the model's own threshold
        thresh = float(spec.params[thresh_name]) if thresh_name in spec.params else spec.spike_thresh_mV
        base = read_c302(sim_dir, lems.name, sample_rate_hz=spec.sample_rate_hz, thresh_mV=thresh,
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
    ignored = unmapped_changed(spec.model, spec.params)
    if ignored:  # config-level refusal: config.py (ignore_unmapped)
        warnings.warn(f"container backend: {', '.join(ignored)} have no C302 counterpart and are ignored", stacklevel=2)
    runtime = pick_runtime()
    c302_backend._check_runtime()  # the network is generated on the host (c302 + jNeuroML)
    raw_dt = os.environ.get("PYANNOW_SIBERNETIC_DT_MS", "0.005")
    try:
        dt_sib_ms = float(raw_dt)
    except ValueError:
        raise ConfigError(f"PYANNOW_SIBERNETIC_DT_MS={raw_dt!r} is not a number (Sibernetic's step in ms)") from None
    sim = SiberneticRun(
        duration_ms=spec.duration_ms,
        dt_ms=dt_sib_ms,
        # one logged step per output sample
        logstep=max(1, int(round(1000.0 / (spec.sample_rate_hz * dt_sib_ms)))),
        device=os.environ.get("PYANNOW_SIBERNETIC_DEVICE", "CPU"),
    )
    name = f"pyannow-{uuid.uuid4().hex[:12]}"
    with task_dir(prefix="sibernetic-") as d:
        out = d / "out"
        out.mkdir()
        argv = build_argv(runtime, out, sim, name=name)  # validates before the generation's cost
        generate_network(out, spec, sim)
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
