"""The real OpenWorm network: c302 (parameter set C1, ``c302_Muscles``) in NEURON.

One simulation, each step in its own private task directory (removed on
every exit path) and each external program run through the native launcher
(no shell, own process group, killed on timeout):

1. **generate** the NeuroML network with ``c302.c302_Muscles.setup('C1', ...)``
   and our parameters as ``param_overrides`` (:mod:`.c302_params`), and
2. **convert** it with pyNeuroML (``run_lems_with_jneuroml_neuron``,
   scripts only, no compile) -- both in a child Python (``prepare`` below),
   so c302's prints and jNeuroML's JVM stay out of the caller's process;
3. **compile** the ``.mod`` files with ``nrnivmodl`` once per distinct set of
   .mod contents: the mechanism cache (``$PYANNOW_C302_CACHE``, default
   ``~/.cache/pyannow_hpc/c302-nrnmech``) is keyed by a hash of the .mod
   files, the NEURON version and the machine.  Conductance densities live in
   the generated hoc, so a conductance change reuses the compiled library;
   ``ca_conc_decay_time`` is written into ``CaPool.mod`` and gets its own
   entry.  Ranks that need the same entry wait on a file lock, then reuse it;
4. **run** the generated ``LEMS_*_nrn.py -nogui`` in NEURON (the task dir's
   ``x86_64`` is a symlink to the cached library, which NEURON loads from
   the working directory) and parse the muscles into :class:`MuscleActivity`
   (:mod:`.c302_io`).

``NEURON_HOME`` defaults to the running interpreter's prefix (the venv) for
jNeuroML.  Timeouts: ``$PYANNOW_C302_TIMEOUT_S`` per step (default 900 s).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

from ..errors import ConfigError, RuntimeNotFoundError, SimulationError
from ..launch import remove_tree as _lib_remove
from ..launch import run, task_dir, which
from .activity import MuscleActivity, SimulationSpec
from .c302_io import read_c302
from .c302_params import DETECTOR_THRESHOLD, c302_overrides

PARAMETER_SET = "C1"
REFERENCE = "Muscles"
LEMS_NAME = f"LEMS_c302_{PARAMETER_SET}_{REFERENCE}.xml"
NRN_SCRIPT = f"LEMS_c302_{PARAMETER_SET}_{REFERENCE}_nrn.py"

#: mechanism-cache activity of this process (tests and benchmarks read it)
STATS = {"compiles": 0, "reuses": 0}


def _timeout_s() -> float:
    return float(os.environ.get("PYANNOW_C302_TIMEOUT_S", "900"))


def cache_root() -> Path:
    root = os.environ.get("PYANNOW_C302_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyannow_hpc", "c302-nrnmech"
    )
    return Path(root)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("NEURON_HOME", sys.prefix)  # jNeuroML: "Could not find NEURON home directory" otherwise
    env.setdefault("OMP_NUM_THREADS", "1")
    # the child Python must import this package even from a source checkout
    pkg_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _check_runtime() -> None:
    if which("nrnivmodl") is None and not (Path(sys.prefix) / "bin" / "nrnivmodl").exists():
        raise RuntimeNotFoundError("nrnivmodl (NEURON) not found: pip install 'pyannow_hpc[c302]' (c302, pyneuroml, neuron)")
    if which("java") is None:
        raise RuntimeNotFoundError("java not found: jNeuroML needs Java 17+ (apt-get install default-jre-headless)")


def _step(argv: list[str], d: Path, name: str, what: str) -> None:
    res = run(argv, cwd=d, env=_env(), timeout_s=_timeout_s(), stdout=d / f"{name}.out", stderr=d / f"{name}.err")
    if res.exit_code != 0:
        raise SimulationError(f"C302 {what} failed (exit {res.exit_code}, signal {res.term_signal}): {res.tail()}")


# --------------------------------------------------------------- mechanisms


def mod_hash(directory: Path) -> str:
    """Hash of the .mod files (names + contents), the NEURON version and the machine."""
    from importlib.metadata import version

    h = hashlib.sha256(f"{version('neuron')}|{platform.machine()}|{sys.platform}".encode())
    mods = sorted(directory.glob("*.mod"))
    if not mods:
        raise SimulationError(f"pyNeuroML wrote no .mod files into {directory}")
    for p in mods:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _arch_dir(build: Path) -> Path | None:
    for sub in sorted(build.iterdir()) if build.is_dir() else ():
        if sub.is_dir() and any(sub.glob("**/libnrnmech.*")):
            return sub
    return None


def compiled_mechanisms(run_dir: Path) -> Path:
    """The cached nrnivmodl output dir (``.../x86_64``) for the .mod files in
    ``run_dir``, compiled first if no process has compiled this set yet."""
    key = mod_hash(run_dir)
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    entry = root / key
    arch = _arch_dir(entry)
    if arch is not None:
        STATS["reuses"] += 1
        return arch
    with open(root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one compile per entry, even across ranks
        arch = _arch_dir(entry)
        if arch is not None:
            STATS["reuses"] += 1
            return arch
        nrnivmodl = which("nrnivmodl") or str(Path(sys.prefix) / "bin" / "nrnivmodl")
        with task_dir(prefix=f"build-{key}-", base=root) as build:
            for p in run_dir.glob("*.mod"):
                (build / p.name).write_bytes(p.read_bytes())
            _step([nrnivmodl], build, "nrnivmodl", "mechanism compile (nrnivmodl)")
            if _arch_dir(build) is None:
                raise SimulationError(f"nrnivmodl produced no libnrnmech in {build}")
            if entry.exists():  # a half-published entry from a killed run
                _lib_remove(entry)
            os.replace(build, entry)  # atomic publish; task_dir's cleanup then finds nothing
        STATS["compiles"] += 1
    arch = _arch_dir(entry)
    assert arch is not None
    return arch


# ------------------------------------------------------------------- simulate


def simulate(spec: SimulationSpec) -> MuscleActivity:
    overrides = c302_overrides(spec.model, spec.params)
    thresh_name = DETECTOR_THRESHOLD.get(spec.model)
    thresh = float(spec.params[thresh_name]) if thresh_name in spec.params else spec.spike_thresh_mV
    if spec.duration_ms > 60_000:
        raise ConfigError(f"C302 runs are limited to 60 s of simulated time here, got {spec.duration_ms / 1000:g} s")
    _check_runtime()
    with task_dir(prefix="c302-") as d:
        _step(
            [sys.executable, "-m", "pyannow_hpc.worm.c302_backend", "prepare", str(d),
             repr(spec.duration_ms), repr(spec.dt_ms), json.dumps(overrides)],
            d, "prepare", "network generation / jNeuroML conversion",
        )
        arch = compiled_mechanisms(d)
        os.symlink(arch, d / arch.name)
        _step([sys.executable, NRN_SCRIPT, "-nogui"], d, "neuron", "NEURON run")
        return read_c302(
            d, LEMS_NAME,
            sample_rate_hz=spec.sample_rate_hz, thresh_mV=thresh, refractory_ms=spec.refractory_ms,
            params=spec.params, model=spec.model, seed=spec.seed, float32=spec.float32,
        )


def prepare(directory: str, duration_ms: float, dt_ms: float, overrides: dict[str, str]) -> None:
    """Child-process side: generate the C1 muscle network and convert it for NEURON."""
    import c302.c302_Muscles as muscles
    from pyneuroml import pynml

    muscles.setup(PARAMETER_SET, generate=True, duration=duration_ms, dt=dt_ms, target_directory=directory,
                  param_overrides=overrides, verbose=False)
    ok = pynml.run_lems_with_jneuroml_neuron(
        os.path.join(directory, LEMS_NAME), only_generate_scripts=True, compile_mods=False, nogui=True,
        exec_in_dir=directory, max_memory="1G", exit_on_fail=False, verbose=False,
    )
    if not ok or not os.path.exists(os.path.join(directory, NRN_SCRIPT)):
        raise SystemExit(f"jNeuroML did not write {NRN_SCRIPT}")


if __name__ == "__main__":  # python -m pyannow_hpc.worm.c302_backend prepare DIR DUR_MS DT_MS JSON
    if len(sys.argv) != 6 or sys.argv[1] != "prepare":
        raise SystemExit("usage: python -m pyannow_hpc.worm.c302_backend prepare DIR DURATION_MS DT_MS OVERRIDES_JSON")
    prepare(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5]))
