"""Samplers: where the next configuration comes from."""

from __future__ import annotations

from hpopt.samplers.auto import AutoSampler
from hpopt.samplers.base import (
    BaseSampler,
    FinishedTrialScanner,
    IntersectionSearchSpace,
    intersection_search_space,
)
from hpopt.samplers.gp import GPSampler
from hpopt.samplers.grid import GridSampler
from hpopt.samplers.qmc import QMCSampler
from hpopt.samplers.random import RandomSampler
from hpopt.samplers.tpe import TPESampler

__all__ = [
    "AutoSampler",
    "BaseSampler",
    "FinishedTrialScanner",
    "GPSampler",
    "GridSampler",
    "IntersectionSearchSpace",
    "QMCSampler",
    "RandomSampler",
    "TPESampler",
    "default_sampler",
    "intersection_search_space",
]


def default_sampler(seed: int | None = None) -> BaseSampler:
    """The sampler a study uses when none is given: an :class:`AutoSampler`."""
    return AutoSampler(seed=seed)
