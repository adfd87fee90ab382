"""Matern 5/2 kernel with automatic relevance determination over mixed inputs.

Inputs are rows of an encoded matrix (see :mod:`hpopt.samplers.gp.encoding`): numeric
columns hold unit-cube coordinates, categorical columns hold the choice index. The squared
distance is

    r^2 = sum_j rho_j * d_j(x, y),   d_j = (x_j - y_j)^2 (numeric) or [x_j != y_j] (categorical),

with ``rho_j = 1 / lengthscale_j^2``, so a categorical parameter contributes a Hamming-type term
with its own relevance. The kernel is ``k = s2 * (1 + sqrt(5) r + 5/3 r^2) exp(-sqrt(5) r)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["matern52", "matern52_dr2", "sq_dist", "sq_dist_weighted_sum"]

_SQRT5 = float(np.sqrt(5.0))
Array = NDArray[np.float64]


def sq_dist(a: Array, b: Array, rho: Array, is_cat: NDArray[np.bool_]) -> Array:
    """Weighted squared distances ``r^2`` between the rows of ``a`` and ``b``."""
    num = ~is_cat
    r2 = np.zeros((a.shape[0], b.shape[0]))
    if num.any():
        sa = a[:, num] * np.sqrt(rho[num])
        sb = b[:, num] * np.sqrt(rho[num])
        r2 += (sa * sa).sum(1)[:, None] + (sb * sb).sum(1)[None, :] - 2.0 * sa @ sb.T
        np.maximum(r2, 0.0, out=r2)
    for j in np.flatnonzero(is_cat):
        r2 += rho[j] * (a[:, j, None] != b[None, :, j])
    return r2


def matern52(r2: Array) -> Array:
    """The unit-variance Matern 5/2 kernel as a function of the squared distance."""
    r = np.sqrt(r2)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)


def matern52_dr2(r2: Array) -> Array:
    """Derivative of :func:`matern52` with respect to ``r^2`` (smooth at ``r = 0``)."""
    r = np.sqrt(r2)
    return -(5.0 / 6.0) * (1.0 + _SQRT5 * r) * np.exp(-_SQRT5 * r)


def sq_dist_weighted_sum(m: Array, x: Array, is_cat: NDArray[np.bool_]) -> Array:
    """For a symmetric ``m``: ``sum_ab m_ab d_j(x_a, x_b)`` for every column ``j``.

    This is the contraction the marginal-likelihood gradient needs, computed without building
    one distance matrix per dimension.
    """
    out = np.empty(x.shape[1])
    num = ~is_cat
    if num.any():
        xn = x[:, num]
        out[num] = 2.0 * (m.sum(1) @ (xn * xn)) - 2.0 * np.einsum("ij,ij->j", xn, m @ xn)
    for j in np.flatnonzero(is_cat):
        out[j] = float((m * (x[:, j, None] != x[None, :, j])).sum())
    return out
