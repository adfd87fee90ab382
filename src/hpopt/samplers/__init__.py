"""Samplers: where the next configuration comes from."""

from __future__ import annotations

from hpopt.samplers.base import (
    BaseSampler,
    FinishedTrialScanner,
    IntersectionSearchSpace,
    intersection_search_space,
)
from hpopt.samplers.grid import GridSampler
from hpopt.samplers.qmc import QMCSampler
from hpopt.samplers.random import RandomSampler

__all__ = [
    "BaseSampler",
    "FinishedTrialScanner",
    "GridSampler",
    "IntersectionSearchSpace",
    "QMCSampler",
    "RandomSampler",
    "default_sampler",
    "intersection_search_space",
]


def default_sampler(seed: int | None = None) -> BaseSampler:
    """The sampler a study uses when none is given."""
    return RandomSampler(seed=seed)
