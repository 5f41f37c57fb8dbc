"""The seed-cell surrogate on whatever device JAX sees, against one native CPU core.

Run by ``scripts/device_check.sh`` (which installs jax[cuda12] on a GPU
machine first); usable alone:

    python benchmarks/device_surrogate.py --batches 256,1024,4096,8192 --duration-s 10 --json-out out.json

Measured, all in this one process:

- one native C core: the cost of one parameter set (``--duration-s`` of the
  96-muscle worm, dt 0.5 ms), best of a few runs -- the baseline;
- ``jit(vmap)`` of the JAX surrogate over B parameter sets for every B in
  ``--batches`` (compile timed apart): worm-seconds simulated per wall second,
  the cost per set, and that cost against the native core (goal >= 10x a
  core; >= 1e5 worm-s/s on an H200);
- float64 agreement of the device's batch with C, set by set (goal <= 1e-9,
  the relative error of tests/worm/test_backends_agree.py);
- one gradient-mode optimiser iteration: :data:`OPTIMISER_HOOK` when the
  gradient optimiser is installed, else ``jax.value_and_grad`` of a scalar
  loss of one ``--duration-s`` run through the surrogate (what one gradient
  iteration has to compute); the JSON says which one was timed.

V is recorded at ``--sample-rate-hz`` (default 50 Hz, the rate the feature
and onset stages read) so that 8192 sets x 10 s fit in device memory (8192 x
501 x 96 float64 = 3.2 GB); the integration still runs every 0.5 ms step.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

#: "module:function" of the gradient-mode optimiser's single iteration, written on branch `opt`.
#: Called as fn(duration_s=..., seed=...) -> anything blockable; absent -> the value_and_grad stand-in is timed.
OPTIMISER_HOOK = "pyannow_hpc.optimize.gradient:device_check_iteration"
#: the parameters varied across sets (the seed's search space, SCIENCE.md section 1)
SEARCH_NAMES = ("g_egl19", "v_half_ca_mV", "tau_ca_ms", "g_exp2")


def param_sets(n_sets: int, seed: int = 0) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(n_sets, 4)`` uniform draws inside the search bounds of :data:`SEARCH_NAMES`."""
    from pyannow_hpc.params import space

    lo, hi = space("pyannow").bounds(SEARCH_NAMES).T
    rng = np.random.default_rng(seed)
    return lo + (hi - lo) * rng.random((n_sets, len(SEARCH_NAMES))), SEARCH_NAMES


def _spec(row, duration_s: float, sample_rate_hz: float, seed: int):
    from pyannow_hpc.worm import make_spec

    return make_spec(dict(zip(SEARCH_NAMES, map(float, row))), model="pyannow", duration_s=duration_s, seed=seed,
                     sample_rate_hz=sample_rate_hz, float32=False)


def native_core(duration_s: float, sample_rate_hz: float, repeats: int = 3) -> dict:
    """Seconds of one parameter set on one native C core (best of ``repeats``, 3 sets)."""
    from pyannow_hpc.worm import native

    pm, _ = param_sets(3, seed=1)
    native.simulate(_spec(pm[0], 0.1, sample_rate_hz, 0))  # load the library outside the timing
    best = []
    for row in pm:
        spec = _spec(row, duration_s, sample_rate_hz, 0)
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            native.simulate(spec)
            ts.append(time.perf_counter() - t0)
        best.append(min(ts))
    per_set = float(np.median(best))
    return {"per_set_s": per_set, "worm_s_per_s": duration_s / per_set}


def _batched_fn(duration_s: float, sample_rate_hz: float):
    """jit(vmap) over (theta dict of (B,) arrays, (B,) seeds) -> V (B, n_samples, 96)."""
    import jax

    from pyannow_hpc.worm import jax_surrogate

    spec = _spec(param_sets(1)[0][0], duration_s, sample_rate_hz, 0)
    fn = jax_surrogate.make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, "exponential")
    return jax.jit(jax.vmap(lambda th, s: fn(th, s)["v"])), spec


def _theta(pm: np.ndarray):
    import jax.numpy as jnp

    from pyannow_hpc.params import space

    base = space("pyannow").defaults()
    cols = dict(zip(SEARCH_NAMES, pm.T))
    from pyannow_hpc.worm.jax_surrogate import THETA_NAMES

    return {k: jnp.asarray(cols[k] if k in cols else np.full(len(pm), base[k]), jnp.float64) for k in THETA_NAMES}


def jax_batches(batches: list[int], duration_s: float, sample_rate_hz: float, repeats: int = 2) -> list[dict]:
    import jax
    import jax.numpy as jnp

    out = []
    with jax.enable_x64(True):
        fn, _ = _batched_fn(duration_s, sample_rate_hz)
        for b in batches:
            pm, _ = param_sets(b, seed=b)
            theta, seeds = _theta(pm), jnp.zeros(b, jnp.uint64)
            t0 = time.perf_counter()
            jax.block_until_ready(fn(theta, seeds))
            first = time.perf_counter() - t0
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                jax.block_until_ready(fn(theta, seeds))
                ts.append(time.perf_counter() - t0)
            t = min(ts)
            out.append({"batch": b, "wall_s": t, "compile_and_first_s": first, "per_set_s": t / b,
                        "worm_s_per_s": b * duration_s / t})
    return out


def agreement(duration_s: float, sample_rate_hz: float, n_sets: int = 4) -> dict:
    """Max relative error |V_jax - V_C| / max(|V_C|, 1) over ``n_sets`` sets of one batch (float64)."""
    import jax
    import jax.numpy as jnp

    from pyannow_hpc.worm import native

    pm, _ = param_sets(n_sets, seed=7)
    seeds = np.arange(n_sets, dtype=np.uint64) + 3
    with jax.enable_x64(True):
        fn, _ = _batched_fn(duration_s, sample_rate_hz)
        v_dev = np.asarray(fn(_theta(pm), jnp.asarray(seeds)))
    worst = 0.0
    for i, row in enumerate(pm):
        c = native.simulate(_spec(row, duration_s, sample_rate_hz, int(seeds[i]))).v_mV
        worst = max(worst, float(np.max(np.abs(v_dev[i] - c) / np.maximum(np.abs(c), 1.0))))
    return {"sets": n_sets, "max_rel_err": worst, "tolerance": 1e-9, "ok": worst <= 1e-9}


def _hook():
    mod_name, fn_name = OPTIMISER_HOOK.split(":")
    try:
        return getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError):
        return None


def gradient_iteration(duration_s: float, repeats: int = 2) -> dict:
    """Wall seconds of one gradient-mode optimiser iteration (compile timed apart)."""
    import jax
    import jax.numpy as jnp

    hook = _hook()
    if hook is not None:
        what = OPTIMISER_HOOK
        call = lambda: hook(duration_s=duration_s, seed=0)  # noqa: E731
    else:
        from pyannow_hpc.worm import jax_surrogate

        what = "jax.value_and_grad(mean V^2 of one run) -- stand-in: the gradient optimiser is not installed"
        spec = _spec(param_sets(1)[0][0], duration_s, 50.0, 0)
        fn = jax_surrogate.make_simulator(spec.n_steps, spec.dt_ms, spec.record_every, "exponential")
        with jax.enable_x64(True):
            theta0 = {k: v[0] for k, v in _theta(param_sets(1)[0]).items()}
        vg = jax.jit(jax.value_and_grad(lambda th: jnp.mean(fn(th, jnp.uint64(0))["v"] ** 2)))

        def call():
            with jax.enable_x64(True):
                return vg(theta0)

    t0 = time.perf_counter()
    jax.block_until_ready(call())
    first = time.perf_counter() - t0
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        ts.append(time.perf_counter() - t0)
    return {"timed": what, "iteration_s": min(ts), "compile_and_first_s": first, "duration_s": duration_s}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", default="256,1024,4096,8192", help="comma-separated batch sizes (default: %(default)s)")
    ap.add_argument("--duration-s", type=float, default=10.0, help="simulated seconds per set (default: %(default)s)")
    ap.add_argument("--sample-rate-hz", type=float, default=50.0, help="V recording rate (default: %(default)s)")
    ap.add_argument("--agree-s", type=float, default=None, help="seconds of the C-vs-device check (default: --duration-s)")
    ap.add_argument("--json-out", default=None, metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args(argv)
    try:
        batches = [int(b) for b in args.batches.split(",") if b.strip()]
    except ValueError:
        print(f"device_surrogate: error: --batches must be integers, got {args.batches!r}", file=sys.stderr)
        return 2
    if not batches or min(batches) < 1 or not args.duration_s > 0:
        print("device_surrogate: error: --batches must be >= 1 and --duration-s > 0", file=sys.stderr)
        return 2
    import jax

    res = {"device": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
           "jax": jax.__version__, "duration_s": args.duration_s, "sample_rate_hz": args.sample_rate_hz,
           "cpu_affinity": len(os.sched_getaffinity(0))}
    res["native_core"] = core = native_core(args.duration_s, args.sample_rate_hz)
    print(f"# native C, one core: {core['per_set_s'] * 1e3:.1f} ms per set of {args.duration_s:g} s "
          f"= {core['worm_s_per_s']:.0f} worm-s/s", flush=True)
    res["jax_vmap"] = []
    for row in jax_batches(batches, args.duration_s, args.sample_rate_hz):
        row["x_native_core"] = core["per_set_s"] / row["per_set_s"]
        row["goal_10x_core_met"] = row["x_native_core"] >= 10.0
        res["jax_vmap"].append(row)
        print(f"# jit(vmap) B={row['batch']:>5}: {row['wall_s']:.3f} s, {row['worm_s_per_s']:.3g} worm-s/s, "
              f"{row['per_set_s'] * 1e3:.3f} ms/set = {row['x_native_core']:.2f}x a native core "
              f"(compile+first {row['compile_and_first_s']:.1f} s)", flush=True)
    best = max(r["worm_s_per_s"] for r in res["jax_vmap"])
    res["best_worm_s_per_s"] = best
    res["goal_1e5_worm_s_per_s_met"] = best >= 1e5
    res["agreement"] = agree = agreement(args.agree_s or args.duration_s, args.sample_rate_hz)
    print(f"# float64 device vs C over {agree['sets']} sets: max rel err {agree['max_rel_err']:.2e} "
          f"({'ok' if agree['ok'] else 'FAILS'} <= 1e-9)", flush=True)
    res["gradient_iteration"] = g = gradient_iteration(args.duration_s)
    print(f"# gradient iteration: {g['iteration_s']:.3f} s ({g['timed']})", flush=True)
    line = json.dumps(res)
    print(line)
    if args.json_out:
        path = Path(args.json_out)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(res, indent=1))
        os.replace(tmp, path)  # never a half-written results file
    return 0 if agree["ok"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
