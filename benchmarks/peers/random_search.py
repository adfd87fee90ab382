"""Plain uniform random search: the reference every score is measured against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.peers.base import Space, Suggestion

__all__ = ["RandomSearchSession"]


class RandomSearchSession:
    """Each parameter uniform in its unit-cube representation (log-uniform for log
    parameters, uniform over integers and categories), independent of hpopt's samplers."""

    def __init__(self, space: Space, seed: int, budget: int) -> None:
        self._space = space
        self._rng = np.random.default_rng(seed)

    def ask(self, n: int) -> list[Suggestion]:
        return [
            (
                None,
                {name: d.from_unit(float(self._rng.random())) for name, d in self._space.items()},
            )
            for _ in range(n)
        ]

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        pass
