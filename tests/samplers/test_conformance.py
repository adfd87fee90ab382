"""Every sampler against the public conformance kit (``hpopt.testing.samplers``).

To cover a new sampler, add one line to ``SAMPLER_FACTORIES`` (and, if it handles only one
objective, its name to ``SINGLE_OBJECTIVE_ONLY``).
"""

from __future__ import annotations

import pytest

from hpopt.samplers import (
    AutoSampler,
    GPSampler,
    GridSampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
)
from hpopt.testing.samplers import CHECKS, SamplerFactory, SamplerTraits, seeded

#: name -> factory(seed, space). Samplers that need no space up front use ``seeded``.
SAMPLER_FACTORIES: dict[str, SamplerFactory] = {
    "random": seeded(RandomSampler),
    "grid": lambda seed, space: GridSampler(space, seed=seed, n_points_per_float=4),
    "qmc-sobol": seeded(QMCSampler, qmc_type="sobol"),
    "qmc-halton": seeded(QMCSampler, qmc_type="halton"),
    "tpe": seeded(TPESampler),
    "tpe-univariate": seeded(TPESampler, multivariate=False),
    "gp": seeded(GPSampler),
    "auto": seeded(AutoSampler),
}

#: Samplers that refuse multi-objective studies (the kit checks that they refuse clearly).
SINGLE_OBJECTIVE_ONLY: frozenset[str] = frozenset()


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("sampler", list(SAMPLER_FACTORIES))
def test_sampler_conformance(sampler: str, check: str) -> None:
    traits = SamplerTraits(supports_multi_objective=sampler not in SINGLE_OBJECTIVE_ONLY)
    CHECKS[check](SAMPLER_FACTORIES[sampler], traits)
