"""Uniform random search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.samplers.base import BaseSampler
from hpopt.space.distributions import Distribution

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["RandomSampler"]


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
        self._rng = np.random.default_rng(seed)

    def reseed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        return distribution.from_unit(float(self._rng.random()))
