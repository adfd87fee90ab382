"""Uniform random search."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.samplers.base import BaseSampler
from hpopt.space.distributions import Distribution

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["RandomSampler"]

_BLOCK = 256


class RandomSampler(BaseSampler):
    """Draws each parameter uniformly in its unit-cube representation (so log parameters
    are log-uniform, integers and categoricals uniform over their values).

    Parameters
    ----------
    seed
        Seed of the random stream; the same seed gives the same sequence.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._lock = threading.RLock()
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = np.random.default_rng(seed)
            self._buffer: list[float] = []

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        # Draws come in blocks (the same stream as one draw at a time, far fewer calls).
        with self._lock:
            if not self._buffer:
                self._buffer = self._rng.random(_BLOCK).tolist()[::-1]
            u = self._buffer.pop()
        return distribution.from_unit(u)
