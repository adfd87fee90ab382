"""The sampler conformance kit catches broken samplers (it is not a rubber stamp)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpopt.samplers import RandomSampler
from hpopt.samplers.base import BaseSampler
from hpopt.space.distributions import Categorical, Distribution, Float
from hpopt.study.view import StudyView
from hpopt.testing.samplers import (
    SamplerTraits,
    check_bounds,
    check_conditional,
    check_multi_objective,
    check_reproducible,
    seeded,
)
from hpopt.trial import Trial


class _Seeded(BaseSampler):
    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)


class OverTheTop(_Seeded):
    """Proposes floats above the upper bound."""

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        if isinstance(distribution, Float):
            return distribution.high + 1.0
        return distribution.from_unit(float(self.rng.random()))


class FloatChoices(_Seeded):
    """Returns numeric categorical choices as floats (1 becomes 1.0)."""

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        value = distribution.from_unit(float(self.rng.random()))
        if isinstance(distribution, Categorical) and isinstance(value, int):
            return float(value)
        return value


class Constant(_Seeded):
    """Always the middle of the range."""

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        return distribution.from_unit(0.5)


class Unseeded(_Seeded):
    """Ignores its seed."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(None)

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        return distribution.from_unit(float(self.rng.random()))


class AssumesFixedSpace(RandomSampler):
    """Breaks when a parameter of earlier trials is missing (no conditional support)."""

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        for t in view.completed():
            _ = t.params["alpha"]
        return super().sample_independent(view, trial, name, distribution)


TRAITS = SamplerTraits()


@pytest.mark.parametrize("broken", [OverTheTop, FloatChoices, Constant])
def test_bounds_check_catches(broken: type[BaseSampler]) -> None:
    with pytest.raises(AssertionError):
        check_bounds(seeded(broken), TRAITS)


@pytest.mark.parametrize("broken", [Unseeded, Constant])
def test_reproducibility_check_catches(broken: type[BaseSampler]) -> None:
    with pytest.raises(AssertionError):
        check_reproducible(seeded(broken), TRAITS)


def test_conditional_check_catches() -> None:
    with pytest.raises(AssertionError):
        check_conditional(seeded(AssumesFixedSpace), TRAITS)


def test_a_sampler_that_claims_no_multi_objective_must_refuse() -> None:
    with pytest.raises(AssertionError, match="does not support multi-objective"):
        check_multi_objective(seeded(RandomSampler), SamplerTraits(supports_multi_objective=False))
