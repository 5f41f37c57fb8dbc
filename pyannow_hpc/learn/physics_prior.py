"""The Bayesian prior on a PINN's physical parameters (SCIENCE.md §3).

    L = L_data + λ_p L_phys + λ_s (θ − θ̄)ᵀ Σ⁻¹ (θ − θ̄)

θ are the learned physical parameters -- the ODE's damping γ and frequency ω,
the PDE's ρ, μ, γ -- in the prior file's search coordinates: log10 of the
value, since they are positive scale parameters that the nets learn as logs.
The file format and the penalty are the optimiser's
(:mod:`pyannow_hpc.optimize.prior`: ``/prior`` with ``mean``, ``cov`` and
attribute ``names``); a prior names any subset of a net's physical
parameters, e.g. one fitted over many trained nets, or a hand-made one
(:func:`~pyannow_hpc.optimize.prior.write_prior`).

The training loss is a sum over ranks of each rank's share
(:func:`pyannow_hpc.learn.optim.fit` allreduces it), so each rank adds
1/size of the penalty and the reduced loss carries it exactly once.
"""
from __future__ import annotations

import math
from typing import Callable

#: physical parameter (as a prior names it) -> the net's log-parameter
PHYSICAL = {
    "ode": {"gamma_per_s": "log_gamma", "omega_rad_s": "log_omega"},
    "pde": {"rho": "log_rho", "mu": "log_mu", "gamma_per_s": "log_gamma"},
}


def physical_coords(net: str, params, xp=None):
    """The search coordinates (log10 values) of ``net``'s physical parameters, in PHYSICAL order."""
    import jax.numpy as jnp

    xp = xp or jnp
    return xp.stack([xp.asarray(params[log_name]) / math.log(10.0) for log_name in PHYSICAL[net].values()])


def load_physics_prior(net: str, path: str, weight: float):
    """The :class:`~pyannow_hpc.optimize.prior.Prior` of ``path`` over ``net``'s physical parameters."""
    from ..errors import ConfigError
    from ..optimize.prior import load_prior

    if net not in PHYSICAL:
        raise ConfigError(f"--prior applies to the PINNs (ode, pde), not to --net {net}")
    if not (weight >= 0 and math.isfinite(weight)):
        raise ConfigError(f"--prior-weight must be a finite number >= 0, got {weight!r}")
    return load_prior(path, tuple(PHYSICAL[net]), weight)


def with_prior(local_loss: Callable, net: str, prior, size: int) -> Callable:
    """``local_loss`` plus this rank's 1/size share of the prior's penalty."""
    if prior is None:
        return local_loss

    def loss(params, *shard):
        return local_loss(params, *shard) + prior.penalty(physical_coords(net, params)) / size

    return loss


def prior_report(net: str, prior, params) -> dict:
    """Where the learned parameters sit: Mahalanobis distance from θ̄, inside the 95% region?"""
    import numpy as np

    if prior is None:
        return {}
    return prior.report(np.asarray(physical_coords(net, params, np), float))
