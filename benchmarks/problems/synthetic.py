"""Classic black-box test functions with known optima (all minimized)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from benchmarks.problems.base import Problem
from hpopt.space.distributions import Categorical, Distribution, Float, Int
from hpopt.testing.functions import branin, hartmann6

__all__ = ["SYNTHETIC_PROBLEMS"]


def _vector(config: Mapping[str, Any], dim: int) -> np.ndarray:
    return np.array([config[f"x{i}"] for i in range(dim)], dtype=float)


def _box(dim: int, low: float, high: float) -> dict[str, Distribution]:
    return {f"x{i}": Float(low, high) for i in range(dim)}


def _vector_problem(
    name: str, fn: Callable[[np.ndarray], float], dim: int, low: float, high: float, f_opt: float
) -> Problem:
    return Problem(name, _box(dim, low, high), lambda c: fn(_vector(c, dim)), f_opt)


def rosenbrock(x: np.ndarray) -> float:
    """Rosenbrock; minimum 0 at x = 1."""
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


def ackley(x: np.ndarray) -> float:
    """Ackley; minimum 0 at x = 0."""
    d = len(x)
    return float(
        -20 * math.exp(-0.2 * math.sqrt((x**2).sum() / d))
        - math.exp(np.cos(2 * math.pi * x).sum() / d)
        + 20
        + math.e
    )


def levy(x: np.ndarray) -> float:
    """Levy; minimum 0 at x = 1."""
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


#: Per category: (offset, x centre, log10(lr) centre, k centre). Category "b" holds the global
#: minimum 0; the others are local minima 0.35 and 0.8 far from it in every coordinate.
_MIXED_BOWLS: dict[str, tuple[float, float, float, int]] = {
    "a": (0.35, -2.0, -3.0, 5),
    "b": (0.0, 1.5, -2.0, 12),
    "c": (0.8, 3.0, -4.0, 18),
}


def mixed(config: Mapping[str, Any]) -> float:
    """A bowl per category over a float, a log-float and an int, with a float/log coupling.

    Minimum 0 at ``x = 1.5, lr = 1e-2, k = 12, c = "b"``.
    """
    offset, x0, l0, k0 = _MIXED_BOWLS[config["c"]]
    u = (config["x"] - x0) / 4
    v = (math.log10(config["lr"]) - l0) / 2.5
    w = (config["k"] - k0) / 8
    # u^2 + v^2 + 0.5 uv is positive definite, so each bowl's minimum is its offset.
    return float(offset + u * u + v * v + 0.5 * u * v + w * w)


_MIXED_SPACE: dict[str, Distribution] = {
    "x": Float(-5.0, 5.0),
    "lr": Float(1e-5, 1.0, log=True),
    "k": Int(0, 20),
    "c": Categorical(("a", "b", "c")),
}

SYNTHETIC_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "branin": lambda: Problem(
        "branin",
        {"x0": Float(-5.0, 10.0), "x1": Float(0.0, 15.0)},
        lambda c: branin(_vector(c, 2)),
        0.397887,
    ),
    "hartmann6": lambda: _vector_problem("hartmann6", hartmann6, 6, 0.0, 1.0, -3.32237),
    "rosenbrock4": lambda: _vector_problem("rosenbrock4", rosenbrock, 4, -5.0, 10.0, 0.0),
    # [-5, 10] as in the TuRBO paper keeps the optimum off the centre of the box.
    "ackley5": lambda: _vector_problem("ackley5", ackley, 5, -5.0, 10.0, 0.0),
    "levy4": lambda: _vector_problem("levy4", levy, 4, -10.0, 10.0, 0.0),
    "mixed": lambda: Problem("mixed", _MIXED_SPACE, mixed, 0.0),
}
