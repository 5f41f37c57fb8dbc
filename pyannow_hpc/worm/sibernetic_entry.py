"""Entry script run *inside* OpenWorm's image (openworm/openworm:0.9.7): the
steps ``sibernetic_c302.py`` takes after its own network generation.

Why a script of ours: ``sibernetic_c302.py`` generates the c302 network
itself from a parameter-set letter and has no way to pass
``param_overrides``.  The container backend (:mod:`.container`) therefore
generates the network on the host with c302 and our parameter mapping,
mounts it, and this script does the rest exactly as ``sibernetic_c302.py``
does (openworm/sibernetic, ``run()``):

1. ``nrnivmodl <sim_dir>`` in the run directory (``$SIBERNETIC_HOME`` or
   ``.``), so the compiled ``x86_64/`` lands where Sibernetic's embedded
   NEURON loads it;
2. ``./Release/Sibernetic -c302 -f <configuration> -no_g -l_to lpath=<sim_dir>
   timelimit=<s> timestep=<s> logstep=<n> device=<dev>`` in the run
   directory, with the script's environment (``PYTHONPATH=.:<PYTHONPATH>:<sim_dir>``
   so ``main_sim.py`` imports ``LEMS_c302_nrn``, ``NEURON_MODULE_OPTIONS=-nogui``);
3. the WCON file from ``worm_motion_log.txt`` (``wcon.generate_wcon``, as the
   script does), if that module is importable.

Every program runs from an argument list (no shell).  Runs with the image's
``python3`` and the standard library only; the exit status is the first
failing step's.
"""
import argparse
import os
import subprocess
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(prog="pyannow_sibernetic.py", description=__doc__.split("\n\n")[0])
    p.add_argument("-simDir", required=True, help="the mounted, generated c302 network (also the output dir)")
    p.add_argument("-duration", type=float, required=True, help="simulated time in ms")
    p.add_argument("-dt", type=float, required=True, help="Sibernetic time step in ms")
    p.add_argument("-logstep", type=int, required=True, help="log every N Sibernetic steps")
    p.add_argument("-device", required=True, help="OpenCL device (CPU, GPU, ALL)")
    p.add_argument("-configuration", required=True, help="Sibernetic configuration (e.g. worm_crawl_half_resolution)")
    return p.parse_args(argv)


def sibernetic_argv(a):
    """Sibernetic's command line, formatted as sibernetic_c302.py formats it."""
    return ["./Release/Sibernetic", "-c302", "-f", a.configuration, "-no_g", "-l_to", "lpath=%s" % a.simDir,
            "timelimit=%s" % (a.duration / 1000.0), "timestep=%s" % (a.dt / 1000), "logstep=%s" % a.logstep,
            "device=%s" % a.device]


def sibernetic_env(sim_dir):
    """sibernetic_c302.py's environment for the Sibernetic process (it replaces, not extends, os.environ)."""
    return {
        "DISPLAY": os.environ.get("DISPLAY") or "",
        "XAUTHORITY": os.environ.get("XAUTHORITY") or "",
        "PYTHONPATH": ".:%s:%s" % (os.environ.get("PYTHONPATH", "."), os.path.abspath(sim_dir)),
        "NEURON_MODULE_OPTIONS": "-nogui",
        "PATH": os.environ.get("PATH", "/usr/bin"),
    }


def write_wcon(a, run_dir):
    sys.path.insert(0, os.path.abspath(run_dir))
    try:
        from wcon.generate_wcon import generate_wcon
    except ImportError as exc:
        print("pyannow_sibernetic: no WCON (%s)" % exc, file=sys.stderr)
        return
    num_steps_logged = int(a.duration / a.dt) / a.logstep
    rate = max(1, int(num_steps_logged / 20.0))
    try:  # the body motion is a bonus: the muscle buffer is the result
        generate_wcon(os.path.join(a.simDir, "worm_motion_log.txt"), os.path.join(a.simDir, "worm_motion_log.wcon"),
                      rate_to_plot=rate, plot=False,
                      save_figure1_to=os.path.join(a.simDir, "worm_motion_1.png"),
                      save_figure2_to=os.path.join(a.simDir, "worm_motion_2.png"),
                      save_figure3_to=os.path.join(a.simDir, "worm_motion_3.png"))
    except Exception as exc:  # noqa: BLE001 - report and keep the run's result
        print("pyannow_sibernetic: WCON generation failed (%s)" % exc, file=sys.stderr)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isfile(os.path.join(a.simDir, "LEMS_c302_nrn.py")):
        print("pyannow_sibernetic: %s holds no LEMS_c302_nrn.py (generate the network first)" % a.simDir,
              file=sys.stderr)
        return 2
    run_dir = os.environ.get("SIBERNETIC_HOME", ".")
    rc = subprocess.call(["nrnivmodl", a.simDir], cwd=run_dir)
    if rc != 0:
        print("pyannow_sibernetic: nrnivmodl failed (exit %d)" % rc, file=sys.stderr)
        return rc
    rc = subprocess.call(sibernetic_argv(a), cwd=run_dir, env=sibernetic_env(a.simDir))
    if rc != 0:
        print("pyannow_sibernetic: Sibernetic failed (exit %d)" % rc, file=sys.stderr)
        return rc
    write_wcon(a, run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
