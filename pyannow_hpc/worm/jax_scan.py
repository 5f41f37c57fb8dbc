"""The time loop every JAX surrogate cell shares: a scan over windows of
``record_every`` steps that records the state at the end of each window
(sample 0 = the initial state, as in C) and, optionally, the per-step spike
mask -- including the steps after the last full window, which still count for
spikes.  Written for the boyle2008 cell (boyle2008_jax.py) with the seed
cell's conventions (jax_surrogate.py), so both can use it.
"""
from __future__ import annotations

from typing import Callable


def windowed_scan(inner: Callable, carry0, n_steps: int, record_every: int, record: Callable, spikes: bool):
    """Run ``inner(carry, step_index) -> (carry, spike_row)`` for ``n_steps`` steps.

    Returns ``(recorded, mask)``: ``recorded`` is ``record(carry)`` (a tuple of
    arrays) stacked over samples with the initial state first; ``mask`` is the
    ``(n_steps, ...)`` spike mask when ``spikes`` (row r = after step r + 1), else None.
    """
    import jax
    import jax.numpy as jnp

    n_windows, tail = divmod(n_steps, record_every)

    def window(c, i):
        c, spk = jax.lax.scan(inner, c, i * record_every + jnp.arange(record_every))
        return c, (record(c), spk if spikes else None)

    carry, (recs, spk) = jax.lax.scan(window, carry0, jnp.arange(n_windows))
    recorded = tuple(jnp.concatenate([x0[None], xs], 0) for x0, xs in zip(record(carry0), recs))
    if not spikes:
        return recorded, None
    mask = spk.reshape((n_windows * record_every,) + spk.shape[2:])
    if tail:
        _, spk_tail = jax.lax.scan(inner, carry, n_windows * record_every + jnp.arange(tail))
        mask = jnp.concatenate([mask, spk_tail], 0)
    return recorded, mask
