"""Log expected improvement, numerically stable far into the tail.

For minimization with posterior mean ``mu``, standard deviation ``sd`` and incumbent ``best``,
``EI = sd * h(z)`` with ``z = (best - mu) / sd`` and ``h(z) = phi(z) + z Phi(z)``. ``log h`` is
computed piecewise as in Ament et al. (2023), "Unexpected improvements to expected improvement
for Bayesian optimization", so that the acquisition keeps a useful gradient where plain EI
underflows to zero. ``d log h / dz = Phi(z) / h(z)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from hpopt.samplers.gp.model import GPModel

__all__ = ["log_ei", "log_ei_with_grad", "log_h"]

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_C1 = 0.5 * math.log(2.0 * math.pi)
_C2 = 0.5 * math.log(0.5 * math.pi)
_TAIL = -1.0 / math.sqrt(np.finfo(float).eps)


def _log1mexp(x: Array) -> Array:
    """``log(1 - exp(x))`` for ``x < 0``, accurate on both sides of ``-log 2``."""
    return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_h(z: Array) -> Array:
    """``log(phi(z) + z Phi(z))``, stable for very negative ``z``."""
    from scipy.special import erfcx, log_ndtr

    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu * zu - _C1) + zu * np.exp(log_ndtr(zu)))
    mid = (~upper) & (z > _TAIL)
    zm = z[mid]
    out[mid] = (
        -0.5 * zm * zm - _C1 + _log1mexp(np.log(erfcx(-zm / math.sqrt(2.0)) * np.abs(zm)) + _C2)
    )
    far = z <= _TAIL
    zf = z[far]
    out[far] = -0.5 * zf * zf - _C1 - 2.0 * np.log(np.abs(zf))
    return out


def log_ei(model: GPModel, xs: Array, best: float) -> Array:
    """Log expected improvement below ``best`` at the rows of ``xs``."""
    mu, var = model.predict(xs)
    sd = np.sqrt(var)
    return log_h((best - mu) / sd) + np.log(sd)


def log_ei_with_grad(model: GPModel, xs: Array, best: float, num: BoolArray) -> tuple[Array, Array]:
    """Log expected improvement and its gradient along the numeric columns ``num``."""
    from scipy.special import log_ndtr

    mu, var, dmu, dvar = model.predict_with_grad(xs, num)
    sd = np.sqrt(var)
    z = (best - mu) / sd
    lh = log_h(z)
    dlh_dz = np.exp(log_ndtr(z) - lh)
    dsd = dvar / (2.0 * sd[:, None])
    dz = (-dmu - z[:, None] * dsd) / sd[:, None]
    grad = dlh_dz[:, None] * dz + dsd / sd[:, None]
    return lh + np.log(sd), grad
