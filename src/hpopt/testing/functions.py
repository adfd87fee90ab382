"""Classic test functions for black-box optimizers (numpy arrays in, float out).

Used by the samplers' statistical tests and by the benchmark problems, so each is written once.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BRANIN_MIN", "HARTMANN6_MIN", "branin", "hartmann6"]

#: Known minima.
BRANIN_MIN = 0.397887
HARTMANN6_MIN = -3.32237

_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def branin(x: np.ndarray) -> float:
    """Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]; three minima of 0.397887."""
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)


def hartmann6(x: np.ndarray) -> float:
    """Hartmann 6-D on [0, 1]^6; minimum -3.32237."""
    return float(-_H6_ALPHA @ np.exp(-(_H6_A * (np.asarray(x) - _H6_P) ** 2).sum(axis=1)))
