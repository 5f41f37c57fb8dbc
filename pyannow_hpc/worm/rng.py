"""The counter-based Gaussian noise of the C surrogate (native/src/pw_rng.h),
in JAX and in NumPy, so all three backends draw the very same noise.

    k  = splitmix64(seed),  p = counter >> 1  (counters 2p, 2p+1 share one draw)
    a  = splitmix64(k + 2*p),  b = splitmix64(k + 2*p + 1)
    u1 = 2 - f(a) in (0, 1],  u2 = f(b) - 1 in [0, 1),  f(x) = the double with exponent 0 and
         mantissa x >> 12, in [1, 2)  (bit patterns: exact, and the same in C, XLA and NumPy)
    z  = sqrt(-2 ln u1) * (cos(2 pi u2) for an even counter, sin(2 pi u2) for an odd one)

Both outputs of each Box-Muller draw are used: half the hashing, logs and
square roots per normal (the noise was 23% of the C kernel).

The integer part is exact in uint64 arithmetic (wrapping multiplication) in C,
XLA and NumPy; ``log``/``cos``/``sqrt`` differ by at most an ulp or two
between libm, XLA and the C library's own vectorised versions.  The surrogate
draws ``z(seed, step*96 + muscle)`` for each muscle at each step
(:func:`normal_row`: the 48 draws of a step, each giving two muscles' normals).

The JAX functions need 64-bit types: call them inside
``with jax.enable_x64(True):`` (the JAX surrogate does).
"""
from __future__ import annotations

import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_PI = 6.283185307179586476925286766559
_ONE_BITS = 0x3FF0000000000000  # exponent of 1.0: OR in 52 mantissa bits for [1, 2)


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
    c = np.asarray(counter, dtype=np.uint64)
    c2 = c & ~np.uint64(1)  # 2p
    with np.errstate(over="ignore"):
        a = splitmix64_np(key + c2)
        b = splitmix64_np(key + c2 + np.uint64(1))
    u1 = 2.0 - ((a >> np.uint64(12)) | np.uint64(_ONE_BITS)).view(np.float64)
    u2 = ((b >> np.uint64(12)) | np.uint64(_ONE_BITS)).view(np.float64) - 1.0
    r = np.sqrt(-2.0 * np.log(u1))
    return np.where(c & np.uint64(1), r * np.sin(_TWO_PI * u2), r * np.cos(_TWO_PI * u2))


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

    c = counter.astype(jnp.uint64)
    r, u2 = _draw(k, c & ~jnp.uint64(1))
    return jnp.where(c & jnp.uint64(1), r * jnp.sin(_TWO_PI * u2), r * jnp.cos(_TWO_PI * u2))


def _draw(k, c2):
    """(sqrt(-2 ln u1), u2) of the Box-Muller draws at even counters ``c2``."""
    import jax
    import jax.numpy as jnp

    def one_to_two(x):
        return jax.lax.bitcast_convert_type((x >> jnp.uint64(12)) | jnp.uint64(_ONE_BITS), jnp.float64)

    a = splitmix64(k + c2)
    b = splitmix64(k + c2 + jnp.uint64(1))
    return jnp.sqrt(-2.0 * jnp.log(2.0 - one_to_two(a))), one_to_two(b) - 1.0


def normal_row(k, base, n: int):
    """The ``n`` normals at counters ``base .. base+n-1`` (``base`` even, ``n``
    even): n/2 draws, each giving its cosine and sine half, interleaved --
    what :func:`normal` gives for those counters, at half the work."""
    import jax.numpy as jnp

    c2 = jnp.asarray(base, jnp.uint64) + jnp.uint64(2) * jnp.arange(n // 2, dtype=jnp.uint64)
    r, u2 = _draw(k, c2)
    return jnp.stack([r * jnp.cos(_TWO_PI * u2), r * jnp.sin(_TWO_PI * u2)], axis=-1).reshape(n)
