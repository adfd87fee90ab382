"""Search spaces: distribution types and declarative (dict / YAML) spaces."""

from __future__ import annotations

from hpopt.space.distributions import (
    Categorical,
    CategoricalChoice,
    Distribution,
    Float,
    Int,
    check_compatible,
    distribution_from_json,
)
from hpopt.space.search_space import Condition, SearchSpace, as_search_space

__all__ = [
    "Categorical",
    "CategoricalChoice",
    "Condition",
    "Distribution",
    "Float",
    "Int",
    "SearchSpace",
    "as_search_space",
    "check_compatible",
    "distribution_from_json",
]
