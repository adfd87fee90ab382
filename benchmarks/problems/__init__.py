"""The problem registry: synthetic functions and scikit-learn tuning problems.

Names are matched case-insensitively. Group names expand to several problems:
``synthetic``, ``sklearn``, ``public`` (the list in ``BENCHMARKS.md``) and ``all``.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.problems.base import Problem
from benchmarks.problems.sklearn_tuning import SKLEARN_PROBLEMS
from benchmarks.problems.synthetic import SYNTHETIC_PROBLEMS

__all__ = ["PROBLEMS", "Problem", "get_problem", "resolve_problems"]

PROBLEMS: dict[str, Callable[[], Problem]] = {**SYNTHETIC_PROBLEMS, **SKLEARN_PROBLEMS}

_GROUPS: dict[str, list[str]] = {
    "synthetic": list(SYNTHETIC_PROBLEMS),
    "sklearn": list(SKLEARN_PROBLEMS),
    "public": [
        "branin",
        "hartmann6",
        "rosenbrock4",
        "mixed",
        "MLP-adam_digits",
        "SVM_wine",
        "RF_breast",
    ],
    "all": list(PROBLEMS),
}
_BY_LOWER = {name.lower(): name for name in PROBLEMS}


def canonical_name(name: str) -> str:
    """The registry spelling of ``name`` (case-insensitive)."""
    try:
        return _BY_LOWER[name.lower()]
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; see `python -m benchmarks list`") from None


def get_problem(name: str) -> Problem:
    """Build the problem called ``name`` (case-insensitive)."""
    return PROBLEMS[canonical_name(name)]()


def resolve_problems(spec: str) -> list[str]:
    """Expand a comma-separated list of problem and group names, keeping order, no repeats."""
    names: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        expanded = _GROUPS.get(item.lower(), [item])
        names.extend(canonical_name(n) for n in expanded)
    return list(dict.fromkeys(names))
