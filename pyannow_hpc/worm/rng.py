"""The counter-based Gaussian noise of the C surrogate (native/src/pw_rng.h),
in JAX and in NumPy, so all three backends draw the very same noise.

    k  = splitmix64(seed)
    a  = splitmix64(k + 2*counter),  b = splitmix64(k + 2*counter + 1)
    u1 = ((a >> 11) + 1) * 2^-53  in (0, 1],   u2 = (b >> 11) * 2^-53  in [0, 1)
    z  = sqrt(-2 ln u1) * cos(2 pi u2)

The integer part is exact in uint64 arithmetic (wrapping multiplication) in C,
XLA and NumPy; ``log``/``cos``/``sqrt`` differ by at most an ulp or two
between libm, XLA and the C library's own vectorised versions.  The surrogate
draws ``z(seed, step*96 + muscle)`` for each muscle at each step.

The JAX functions need 64-bit types: call them inside
``with jax.enable_x64(True):`` (the JAX surrogate does).
"""
from __future__ import annotations

import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_PI = 6.283185307179586476925286766559
_INV53 = 1.0 / 9007199254740992.0


# ----------------------------------------------------------------- NumPy
def splitmix64_np(x: np.ndarray) -> np.ndarray:
    """splitmix64 of a uint64 array (wrapping arithmetic, no overflow warnings)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(_GOLDEN)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(_M1)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(_M2)
    return x ^ (x >> np.uint64(31))


def key_np(seed: int) -> np.uint64:
    return splitmix64_np(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]


def normal_np(key: np.uint64, counter: np.ndarray) -> np.ndarray:
    """Standard normals for ``counter`` (uint64 array) under ``key = key_np(seed)``."""
    c2 = np.asarray(counter, dtype=np.uint64) * np.uint64(2)
    with np.errstate(over="ignore"):
        a = splitmix64_np(key + c2)
        b = splitmix64_np(key + c2 + np.uint64(1))
    u1 = ((a >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * _INV53
    u2 = (b >> np.uint64(11)).astype(np.float64) * _INV53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


# ------------------------------------------------------------------- JAX
def splitmix64(x):
    """splitmix64 of a uint64 JAX array (XLA integer ops wrap like C's)."""
    import jax.numpy as jnp

    x = x + jnp.uint64(_GOLDEN)
    x = (x ^ (x >> jnp.uint64(30))) * jnp.uint64(_M1)
    x = (x ^ (x >> jnp.uint64(27))) * jnp.uint64(_M2)
    return x ^ (x >> jnp.uint64(31))


def key(seed):
    """The stream key of ``seed`` (a Python int or a uint64 JAX scalar)."""
    import jax.numpy as jnp

    if isinstance(seed, int):
        seed = jnp.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    return splitmix64(jnp.asarray(seed, dtype=jnp.uint64))


def normal(k, counter):
    """Standard normals for uint64 ``counter`` under ``k = key(seed)``."""
    import jax.numpy as jnp

    c2 = counter.astype(jnp.uint64) * jnp.uint64(2)
    a = splitmix64(k + c2)
    b = splitmix64(k + c2 + jnp.uint64(1))
    u1 = ((a >> jnp.uint64(11)) + jnp.uint64(1)).astype(jnp.float64) * _INV53
    u2 = (b >> jnp.uint64(11)).astype(jnp.float64) * _INV53
    return jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos(_TWO_PI * u2)
