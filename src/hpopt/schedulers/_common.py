"""Small helpers shared by the schedulers: signed values, argument checks, percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hpopt.study.view import StudyView

__all__ = [
    "check_int",
    "linear_percentile",
    "loss",
    "objective_sign",
]


def objective_sign(view: StudyView) -> float:
    """+1 if the study minimizes, -1 if it maximizes (schedulers need one objective).

    Raises
    ------
    ValueError
        If the study has several objectives.
    """
    if view.n_objectives != 1:
        raise ValueError(
            f"schedulers need a single-objective study; this one has {view.n_objectives}"
        )
    return view.signs[0]


def loss(value: float, sign: float) -> float:
    """``sign * value`` (smaller is better); NaN and infinities count as the worst value."""
    v = sign * value
    return v if math.isfinite(v) else math.inf


def check_int(name: str, value: int, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def linear_percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ascending values, interpolating linearly.

    Same as ``numpy.percentile`` for finite values, but well defined with ``inf`` (an
    interpolation that touches ``inf`` gives ``inf``).
    """
    n = len(sorted_values)
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    a, b = sorted_values[lo], sorted_values[hi]
    frac = pos - lo
    if frac == 0.0 or a == b:
        return a
    return a + frac * (b - a)
