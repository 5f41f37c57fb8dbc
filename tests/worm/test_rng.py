"""worm/rng.py reproduces the C noise stream (pw_normal in native/src/pw_rng.h)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pyannow_hpc import _native
from pyannow_hpc.worm import rng

SEEDS = (0, 1, 2**63 + 12345, 2**64 - 1)
COUNTERS = np.concatenate([np.arange(2000, dtype=np.uint64),
                           np.array([2**32, 2**40 + 7, 2**62, 2**63 - 1], dtype=np.uint64)])


def test_integer_part_identical_in_jax_and_numpy():
    with jax.enable_x64(True):
        for seed in SEEDS:
            k_np = rng.key_np(seed)
            k_jax = rng.key(seed)
            assert int(k_jax) == int(k_np)
            x = COUNTERS * np.uint64(2) + k_np
            assert np.array_equal(np.asarray(rng.splitmix64(jnp.asarray(x))), rng.splitmix64_np(x))


def test_normals_match_pw_normal_to_an_ulp():
    lib = _native.load()
    for seed in SEEDS:
        ref = np.array([lib.pw_normal(seed, int(c)) for c in COUNTERS])
        with jax.enable_x64(True):
            z_jax = np.asarray(rng.normal(rng.key(seed), jnp.asarray(COUNTERS)))
        z_np = rng.normal_np(rng.key_np(seed), COUNTERS)
        # log/cos/sqrt may differ by an ulp or two between libm, XLA and NumPy
        np.testing.assert_allclose(z_jax, ref, rtol=0, atol=8 * np.spacing(np.abs(ref)).max())
        np.testing.assert_allclose(z_np, ref, rtol=0, atol=8 * np.spacing(np.abs(ref)).max())
        assert np.max(np.abs(z_jax - ref) / np.spacing(np.maximum(np.abs(ref), 1e-3))) <= 8


def test_stream_is_standard_normal():
    z = rng.normal_np(rng.key_np(42), np.arange(200_000, dtype=np.uint64))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    from scipy import stats

    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_the_two_halves_of_a_draw_are_independent_normals():
    """Counters 2p and 2p+1 share one Box-Muller draw (cosine and sine halves):
    each half is N(0, 1) and the two are uncorrelated; normal_row = normal."""
    z = rng.normal_np(rng.key_np(7), np.arange(400_000, dtype=np.uint64))
    even, odd = z[0::2], z[1::2]
    from scipy import stats

    assert stats.kstest(even, "norm").pvalue > 1e-3 and stats.kstest(odd, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(even, odd)[0, 1]) < 0.01
    assert abs(np.corrcoef(even ** 2, odd ** 2)[0, 1]) < 0.01  # r^2 is shared, but cos^2 and sin^2 cancel it
    with jax.enable_x64(True):
        k = rng.key(7)
        row = np.asarray(rng.normal_row(k, jnp.uint64(96 * 31), 96))
        ref = np.asarray(rng.normal(k, jnp.arange(96 * 31, 96 * 32, dtype=jnp.uint64)))
    np.testing.assert_allclose(row, ref, rtol=0, atol=1e-15)
