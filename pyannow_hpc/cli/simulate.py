"""Simulate the worm's 96 body-wall muscles once and write the traces to HDF5.

examples:
  pyannow-hpc simulate --duration-s 10 --out run.h5
  pyannow-hpc simulate -p g_egl19=12 -p tau_ca_ms=30 --duration-s 229 --out full.h5
  pyannow-hpc simulate --integrator seed_euler --gates --sample-rate-hz 2000 --out seed.h5
  pyannow-hpc simulate --list-params            # names, units, defaults, bounds

The file holds (plain h5py): /t_ms (n,), /v_mV (n, 96) [float32 unless
--float64], /m and /n with --gates, /spike_times_ms + /spike_muscle (spikes at
full integration resolution: upward crossings of --spike-thresh-mv with
--refractory-ms), /muscle_names; attributes: every parameter (group /params),
the run settings and provenance (version, git hash, host, time).  It is
written to a temporary file first and renamed, so it is never half-written.
"""
from __future__ import annotations

HELP = "simulate the 96-muscle worm once (parameters on the command line) and write HDF5"


def add_arguments(p) -> None:
    from ._common import add_burn_in_argument, add_simulation_arguments, finite_float

    add_simulation_arguments(p)
    add_burn_in_argument(p)
    p.add_argument("--duration-s", type=finite_float, default=10.0, help="simulated time, s (default: %(default)s)")
    p.add_argument("--sample-rate-hz", type=finite_float, default=None,
                   help="rate of the stored traces (default: the library's, 1000 Hz; see make_spec)")
    p.add_argument("--gates", action="store_true", help="also store the gates m and n")
    p.add_argument("--float64", action="store_true", help="store traces as float64 (default float32: half the memory)")
    p.add_argument("--spike-thresh-mv", type=finite_float, default=-10.0, help="spike threshold, mV (default: %(default)s)")
    p.add_argument("--refractory-ms", type=finite_float, default=50.0, help="minimum time between spikes (default: %(default)s)")
    p.add_argument("--out", "-o", metavar="RESULT.h5", help="output file (required unless --list-params)")
    p.add_argument("--list-params", action="store_true", help="print the model's parameters and exit")


def _write(path, act, spec, args, burn_in_s: float = 0.0) -> None:
    import h5py
    import numpy as np

    from ..store.atomic import atomic_bytes
    from ..store.provenance import provenance

    with atomic_bytes(path, what="traces") as buf, h5py.File(buf, "w") as f:
        f["t_ms"] = act.t_ms
        f.create_dataset("v_mV", data=act.v_mV, chunks=(min(len(act.t_ms), 4096), act.v_mV.shape[1]))
        for name, trace in act.traces.items():
            f.create_dataset(name, data=trace, chunks=(min(len(act.t_ms), 4096), trace.shape[1]))
        f["spike_times_ms"] = act.spike_times_ms
        f["spike_muscle"] = act.spike_muscle
        f["muscle_names"] = np.array(act.muscle_names, dtype="S4")
        g = f.create_group("params")
        for k, v in act.params.items():
            g.attrs[k] = v
        settings = dict(model=spec.model, backend=act.backend, integrator=spec.integrator, dt_ms=spec.dt_ms,
                        duration_ms=spec.duration_ms - burn_in_s * 1000.0, burn_in_s=burn_in_s, seed=spec.seed, sample_rate_hz=spec.sample_rate_hz,
                        spike_thresh_mV=spec.spike_thresh_mV, refractory_ms=spec.refractory_ms)
        for k, v in {**provenance(), **settings}.items():
            f.attrs[k] = v


def run(args) -> int:
    import sys
    import time

    from ..errors import ConfigError
    from ..params import space
    from ..worm import backend_module, make_spec
    from ..pipeline import discard_burn_in
    from ._common import check_burn_in, parse_param_overrides

    if args.list_params:
        print(space(args.model).describe())
        return 0
    if not args.out:
        raise ConfigError("--out RESULT.h5 is required (or use --list-params)")
    from ..limits import check_simulation, finite
    from ..store.atomic import check_output_file

    check_output_file(args.out)  # before the simulation, not after it
    # bounded up front: 1e308 s would overflow, 1e5 s would not fit in memory
    check_simulation(args.duration_s, args.dt_ms, args.sample_rate_hz, gates=args.gates, float32=not args.float64)
    finite("--refractory-ms", args.refractory_ms, lo=0.0, hi=args.duration_s * 1000.0, unit="ms")
    # the sample rate is passed only when given, so the library's default applies otherwise
    rate = {} if args.sample_rate_hz is None else {"sample_rate_hz": args.sample_rate_hz}
    burn_in_s = check_burn_in(args.burn_in_s)
    if not (args.duration_s > 0 and args.duration_s != float("inf")):  # before burn-in is added to it
        raise ConfigError(f"duration_s must be a finite number > 0, got {args.duration_s!r}")
    spec = make_spec(parse_param_overrides(args.param), model=args.model, duration_s=args.duration_s + burn_in_s,
                     dt_ms=args.dt_ms, seed=args.seed, integrator=args.integrator, record_gates=args.gates,
                     float32=not args.float64, spike_thresh_mV=args.spike_thresh_mv,
                     refractory_ms=args.refractory_ms, record_traces=True, **rate)  # the file keeps [Ca] (boyle2008)
    backend = backend_module(args.backend)
    from tqdm import tqdm

    # two stages; the bar appears only on a terminal and only if they take > 1 s
    with tqdm(total=2, desc="simulate", file=sys.stderr, delay=1.0, disable=not sys.stderr.isatty(),
              bar_format="{desc}: {n}/{total} stages [{elapsed}]") as bar:
        t0 = time.perf_counter()
        act = discard_burn_in(backend.simulate(spec), burn_in_s)  # the stored clock starts after burn-in
        wall = time.perf_counter() - t0
        bar.set_description("write HDF5")
        bar.update()
        _write(args.out, act, spec, args, burn_in_s)
        bar.update()
    print(f"simulated {args.duration_s:g} s (after {burn_in_s:g} s burn-in) of {act.n_muscles} muscles ({args.backend}, {spec.integrator}, "
          f"dt {spec.dt_ms:g} ms) in {wall:.2f} s; {len(act.spike_times_ms)} spikes; wrote {args.out}")
    return 0
