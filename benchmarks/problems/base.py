"""The problem type shared by synthetic functions and model-tuning problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpopt.space.distributions import Distribution

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """A black-box function to minimize over a declarative hpopt search space.

    Parameters
    ----------
    name
        Registry name, e.g. ``"branin"`` or ``"SVM_wine"``.
    space
        Parameter name to hpopt distribution, in a fixed order.
    objective
        ``objective(config) -> float``; deterministic.
    f_opt
        The known global minimum, or ``None`` when it is unknown (then scoring uses the best
        value any run found).
    kind
        ``"synthetic"`` or ``"sklearn"``.
    """

    name: str
    space: Mapping[str, Distribution]
    objective: Callable[[Mapping[str, Any]], float]
    f_opt: float | None = None
    kind: str = "synthetic"

    def evaluate(self, config: Mapping[str, Any]) -> float:
        """The loss at ``config`` (a dict with one external value per parameter)."""
        return float(self.objective(config))

    @property
    def dim(self) -> int:
        return len(self.space)
