"""The real OpenWorm network: c302 (parameter set C1, ``c302_Muscles``) in NEURON.

One simulation, each step in its own private task directory (removed on
every exit path) and each external program run through the native launcher
(no shell, own process group, killed on timeout):

1. **generate** the NeuroML network with ``c302.c302_Muscles.setup('C1', ...)``
   and our parameters as ``param_overrides`` (:mod:`.c302_params`), and
2. **convert** it with pyNeuroML (``run_lems_with_jneuroml_neuron``,
   scripts only, no compile) -- both in a child Python (``prepare`` below),
   so c302's prints and jNeuroML's JVM stay out of the caller's process.
   The converted network is cached as a template: parameter sets that differ
   only in the four muscle conductance densities reuse it with those four
   hoc lines rewritten (see "network templates" below);
3. **compile** the ``.mod`` files with ``nrnivmodl`` once per distinct set of
   .mod contents, keyed by a hash of the .mod files, the NEURON version and
   the machine.  Conductance densities live in the generated hoc, so a
   conductance change reuses the compiled library; ``ca_conc_decay_time``
   and ``ca_conc_rho`` are written into ``CaPool.mod`` and get their own entry;
4. **run** the generated ``LEMS_*_nrn.py -nogui`` in NEURON (the task dir's
   ``x86_64`` is a symlink to the cached library, which NEURON loads from
   the working directory) and parse the muscles into :class:`MuscleActivity`
   (:mod:`.c302_io`).

Cache: ``$PYANNOW_C302_CACHE`` (default ``~/.cache/pyannow_hpc/c302``), with
``nrnmech/<hash>`` and ``networks/<hash>``; ranks needing the same entry wait
on a file lock, then reuse it.
``NEURON_HOME`` defaults to the running interpreter's prefix (the venv) for
jNeuroML.  Timeouts: ``$PYANNOW_C302_TIMEOUT_S`` per step (default 900 s).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

from ..errors import ConfigError, RuntimeNotFoundError, SimulationError
from ..launch import remove_tree as _lib_remove
from ..launch import run, task_dir, which
from .activity import MuscleActivity, SimulationSpec
from .c302_io import read_c302
from .c302_params import C1_DEFAULTS, c302_overrides, detector_threshold, unmapped_changed

PARAMETER_SET = "C1"
REFERENCE = "Muscles"
LEMS_NAME = f"LEMS_c302_{PARAMETER_SET}_{REFERENCE}.xml"
NRN_SCRIPT = f"LEMS_c302_{PARAMETER_SET}_{REFERENCE}_nrn.py"

#: mechanism-cache activity of this process and the wall seconds of the last
#: run's steps (tests and benchmarks read it)
STATS: dict = {"compiles": 0, "reuses": 0, "conversions": 0, "last_steps_s": {}}


def _timeout_s() -> float:
    return float(os.environ.get("PYANNOW_C302_TIMEOUT_S", "900"))


def cache_root() -> Path:
    root = os.environ.get("PYANNOW_C302_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyannow_hpc", "c302"
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


# ------------------------------------------------------------ cache entries


def _cached(kind: str, key: str, ready, build) -> Path:
    """``cache_root()/kind/key``, built once by ``build(tmp_dir)`` if ``ready(entry)``
    is false.  Ranks wanting the same entry serialise on a file lock; the
    entry is built in a private directory and published with one rename, so a
    killed build never leaves a half entry behind under the final name."""
    root = cache_root() / kind
    root.mkdir(parents=True, exist_ok=True)
    entry = root / key
    if ready(entry):
        return entry
    with open(root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready(entry):
            return entry
        with task_dir(prefix=f"build-{key}-", base=root) as tmp:
            build(tmp)
            if not ready(tmp):
                raise SimulationError(f"building the C302 {kind} cache entry left it incomplete ({tmp})")
            if entry.exists():  # a stale entry from an older layout
                _lib_remove(entry)
            os.replace(tmp, entry)  # task_dir's cleanup then finds nothing
    return entry


# --------------------------------------------------------------- mechanisms


def mod_hash(directory: Path) -> str:
    """Hash of the .mod files (names + contents), the NEURON version and the machine."""
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
    built = []

    def build(tmp: Path) -> None:
        for p in run_dir.glob("*.mod"):
            (tmp / p.name).write_bytes(p.read_bytes())
        nrnivmodl = which("nrnivmodl") or str(Path(sys.prefix) / "bin" / "nrnivmodl")
        _step([nrnivmodl], tmp, "nrnivmodl", "mechanism compile (nrnivmodl)")
        built.append(True)

    entry = _cached("nrnmech", mod_hash(run_dir), lambda e: _arch_dir(e) is not None, build)
    STATS["compiles" if built else "reuses"] += 1
    return _arch_dir(entry)  # type: ignore[return-value]


# ------------------------------------------------------- network templates
#
# jNeuroML writes every muscle channel density into one line of
# GenericMuscleCell.hoc ("gmax_ca_boyle = 7.0E-4  // units: S cm-2") and
# nowhere else that NEURON reads.  So a converted network is reused for every
# parameter set that differs only in those four densities: copy, rewrite the
# four lines, run.  This skips c302 generation + the jNeuroML JVM (~80% of a
# short run).  Everything else (times, reversals, the calcium pool) is part of
# the template key and gets its own full conversion.  PYANNOW_C302_FAST=0
# turns it off (tests compare both paths).

DENSITY_CHANNELS = {
    "muscle_leak_cond_density": "Leak",
    "muscle_k_slow_cond_density": "k_slow",
    "muscle_k_fast_cond_density": "k_fast",
    "muscle_ca_boyle_cond_density": "ca_boyle",
}
MUSCLE_HOC = "GenericMuscleCell.hoc"


def nrn_script(lems_name: str) -> str:
    """The NEURON script jNeuroML writes for ``lems_name`` (``LEMS_x.xml`` -> ``LEMS_x_nrn.py``)."""
    return lems_name[:-len(".xml")] + "_nrn.py"


def _template_key(duration_ms: float, dt_ms: float, overrides: dict[str, str], lems_name: str = LEMS_NAME) -> str:
    rest = {k: v for k, v in overrides.items() if k not in DENSITY_CHANNELS}
    parts = [PARAMETER_SET, repr(duration_ms), repr(dt_ms), rest, version("c302"), version("pyneuroml")]
    if lems_name != LEMS_NAME:  # the Sibernetic layout (container backend); old keys unchanged
        parts.append(lems_name)
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def set_densities(hoc: Path, overrides: dict[str, str]) -> None:
    """Rewrite the gmax lines of the muscle cell to the requested densities (C1 defaults otherwise)."""
    text = hoc.read_text()
    for key, chan in DENSITY_CHANNELS.items():
        value_s = overrides.get(key, f"{C1_DEFAULTS[key][0]!r} {C1_DEFAULTS[key][1]}")
        value, unit = value_s.split()
        if unit != "S_per_cm2":
            raise SimulationError(f"density {key} in {unit}: only S_per_cm2 can be patched")
        pattern = re.compile(rf"^(\s*gmax_{chan} = )\S+(\s*// units: S cm-2)$", re.M)
        text, n = pattern.subn(lambda m: f"{m.group(1)}{float(value)!r}{m.group(2)}", text)
        if n != 1:
            raise SimulationError(f"{hoc.name}: expected one gmax_{chan} line, found {n} (jNeuroML output changed?)")
    hoc.write_text(text)


def _prepare_full(d: Path, duration_ms: float, dt_ms: float, overrides: dict[str, str],
                  lems_name: str = LEMS_NAME) -> None:
    _step([sys.executable, "-m", "pyannow_hpc.worm.c302_backend", "prepare", str(d),
           repr(duration_ms), repr(dt_ms), json.dumps(overrides), lems_name],
          d, "prepare", "network generation / jNeuroML conversion")
    STATS["conversions"] += 1


def prepare_network(d: Path, duration_ms: float, dt_ms: float, overrides: dict[str, str],
                    lems_name: str = LEMS_NAME) -> None:
    """Put a runnable converted network with ``overrides`` into ``d``.

    ``lems_name`` other than c302's own name renames the LEMS file before the
    jNeuroML conversion, as sibernetic_c302.py does (``LEMS_c302.xml`` ->
    ``LEMS_c302_nrn.py``, the module Sibernetic imports)."""
    if os.environ.get("PYANNOW_C302_FAST", "1") == "0":
        _prepare_full(d, duration_ms, dt_ms, overrides, lems_name)
        return
    base = {k: v for k, v in overrides.items() if k not in DENSITY_CHANNELS}
    script = nrn_script(lems_name)
    tpl = _cached("networks", _template_key(duration_ms, dt_ms, overrides, lems_name),
                  lambda e: (e / script).exists() and (e / MUSCLE_HOC).exists(),
                  lambda tmp: _prepare_full(tmp, duration_ms, dt_ms, base, lems_name))
    for p in tpl.iterdir():
        if p.is_file() and p.suffix in (".hoc", ".py", ".mod", ".xml"):
            shutil.copyfile(p, d / p.name)
    set_densities(d / MUSCLE_HOC, overrides)


# ------------------------------------------------------------------- simulate


def simulate(spec: SimulationSpec) -> MuscleActivity:
    overrides = c302_overrides(spec.model, spec.params)
    ignored = unmapped_changed(spec.model, spec.params)
    if ignored:  # a config refuses them unless ignore_unmapped = true (config.py); a direct call is told
        warnings.warn(f"c302 backend: {', '.join(ignored)} have no C302 counterpart and are ignored", stacklevel=2)
    thresh_name = detector_threshold(spec.model)
    thresh = float(spec.params[thresh_name]) if thresh_name in spec.params else spec.spike_thresh_mV
    if spec.duration_ms > 60_000:
        raise ConfigError(f"C302 runs are limited to 60 s of simulated time here, got {spec.duration_ms / 1000:g} s")
    _check_runtime()
    steps: dict[str, float] = {}
    clock = time.perf_counter
    with task_dir(prefix="c302-") as d:
        t0 = clock()
        prepare_network(d, spec.duration_ms, spec.dt_ms, overrides)
        t1 = clock()
        arch = compiled_mechanisms(d)
        os.symlink(arch, d / arch.name)
        t2 = clock()
        _step([sys.executable, NRN_SCRIPT, "-nogui"], d, "neuron", "NEURON run")
        t3 = clock()
        act = read_c302(
            d, LEMS_NAME,
            sample_rate_hz=spec.sample_rate_hz, thresh_mV=thresh, refractory_ms=spec.refractory_ms,
            params=spec.params, model=spec.model, seed=spec.seed, float32=spec.float32,
        )
        steps.update(prepare=t1 - t0, mechanisms=t2 - t1, neuron=t3 - t2, parse=clock() - t3)
    STATS["last_steps_s"] = steps
    return act


def prepare(directory: str, duration_ms: float, dt_ms: float, overrides: dict[str, str],
            lems_name: str = LEMS_NAME) -> None:
    """Child-process side: generate the C1 muscle network and convert it for NEURON."""
    import c302.c302_Muscles as muscles
    from pyneuroml import pynml

    muscles.setup(PARAMETER_SET, generate=True, duration=duration_ms, dt=dt_ms, target_directory=directory,
                  param_overrides=overrides, verbose=False)
    if lems_name != LEMS_NAME:  # sibernetic_c302.py: rename, then convert the renamed file
        os.rename(os.path.join(directory, LEMS_NAME), os.path.join(directory, lems_name))
    ok = pynml.run_lems_with_jneuroml_neuron(
        os.path.join(directory, lems_name), only_generate_scripts=True, compile_mods=False, nogui=True,
        exec_in_dir=directory, max_memory="1G", exit_on_fail=False, verbose=False,
    )
    if not ok or not os.path.exists(os.path.join(directory, nrn_script(lems_name))):
        raise SystemExit(f"jNeuroML did not write {nrn_script(lems_name)}")


if __name__ == "__main__":  # python -m pyannow_hpc.worm.c302_backend prepare DIR DUR_MS DT_MS JSON [LEMS_NAME]
    if len(sys.argv) not in (6, 7) or sys.argv[1] != "prepare":
        raise SystemExit("usage: python -m pyannow_hpc.worm.c302_backend prepare DIR DURATION_MS DT_MS OVERRIDES_JSON [LEMS_NAME]")
    prepare(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5]), *sys.argv[6:])
