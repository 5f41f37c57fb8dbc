"""The native kernels' roofline: instruction mix x per-op cost measured on this core.

Per cell-step operation counts are counted by hand from the code (update them
with the kernels): ``exp`` = calls of pw_vexp, ``div`` = divisions and square
roots (vdivpd/vsqrtpd, one unit), ``fp`` = other floating-point operations
(add, mul, FMA, compare/select each one), ``int`` = 64-bit integer and
bit-pattern operations of the noise hash and conversions (counted at an FMA's
cost: one vector slot each).  The per-op costs come from ``pw_bench_op_ns``
(native/src/bench_ops.c) in the same run, in CPU time, so load on a shared
machine matters less than for wall times.

Two figures: ``serial`` adds everything (as if nothing overlapped);
``roofline`` lets the divider run beside the FMA ports, as the hardware does:
max(div time, exp + fp + int time).  The kernel cannot beat the latter.

The exp cost is pessimistic: pw_bench_op_ns's exp loop (x = -exp(x) over 96
doubles) is partly bound by the latency of one exp, so it charges each exp
more than its port time and both figures come out high; the kernels, split
into loops of independent exps (surrogate.c, boyle2008.c), overlap more.
"""
from __future__ import annotations

import ctypes

#: per cell-step, exponential integrator, noise on (the default run)
MIXES = {
    # 4 exp: m_inf, n_inf, tau_n's Gaussian, V's decay (m's decay is a per-run constant;
    #   n's decay |dt/tau_n| <= 1/16 is pw_vexp_small, 10 fp, when dt/tau_n_min allows)
    # 4 div: m_inf and n_inf share one (1/(a b) times b and a), I/G, dt/tau_n, and half a
    #   Box-Muller draw's two (the log's (m-1)/(m+1) and the sqrt): each draw serves two cells
    # fp: 38 in the cell update + 10 (n's decay) + 23.5 per normal (a draw: log polynomial
    #   and scaling 15, sin+cos of one range reduction 27, Box-Muller's products and the
    #   uniforms 5; the polynomials are even/odd Horner pairs, pw_vmath.h's pw_eo11/pw_eo12)
    # int: half a draw's 2 splitmix64 hashes (18), counters (2), uniforms' bit patterns (4),
    #   the log's exponent bits (3): 13.5
    "pyannow": {"exp": 4, "div": 4, "fp": 71.5, "int": 13.5},
    # 8 exp: 5 gate sigmoids, h([Ca]), the synapse's decay, V's decay
    # 9 div: 5 sigmoids, h, k dt/(1 - s_inf), I/G, half a draw's two
    # fp: 74 in the cell update + 23.5 per normal; int as above
    "boyle2008": {"exp": 8, "div": 9, "fp": 97.5, "int": 13.5},
}

#: the noise's share of each mix above: half a Box-Muller draw per cell-step (one
#: normal); without it a mix is the model's own arithmetic, the floor that no
#: cheaper normal generator can take a kernel below
NOISE = {"exp": 0, "div": 1, "fp": 23.5, "int": 13.5}


def op_costs_ns(n_iter: int = 200_000, repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` CPU ns per element of pw_vexp, a division and an FMA on this core."""
    from pyannow_hpc import _native

    f = _native.load().pw_bench_op_ns
    f.restype, f.argtypes = ctypes.c_double, [ctypes.c_int32, ctypes.c_int64]
    return {name: min(f(op, n_iter) for _ in range(repeat)) for op, name in enumerate(("exp", "div", "fma"))}


def roofline_ns(model: str, costs: dict[str, float], noise: bool = True) -> tuple[float, float]:
    """(roofline, serial) ns per cell-step of ``model``'s kernel from its mix and ``costs``;
    ``noise=False``: the mix less one normal per cell-step (``NOISE``)."""
    m = MIXES[model] if noise else {k: v - NOISE[k] for k, v in MIXES[model].items()}
    ports = m["exp"] * costs["exp"] + (m["fp"] + m["int"]) * costs["fma"]
    div = m["div"] * costs["div"]
    return max(ports, div), ports + div
