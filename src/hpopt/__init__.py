"""hpopt: hyperparameter optimization for neural networks and other models.

Importing ``hpopt`` loads only the standard library and numpy; storages, integrations and
plots load their dependencies when first used.
"""

from __future__ import annotations

from hpopt._version import __version__
from hpopt.exceptions import SpaceExhausted, TrialPruned

# The study package goes first: lower layers import its submodules (direction, view).
from hpopt.study import (  # isort: skip
    Study,
    StudyDirection,
    create_study,
    create_trial,
    delete_study,
    get_all_study_summaries,
    load_study,
)
from hpopt.samplers import GridSampler, QMCSampler, RandomSampler
from hpopt.schedulers import Decision
from hpopt.space import Categorical, Condition, Float, Int, SearchSpace
from hpopt.storage import InMemoryStorage
from hpopt.trial import FrozenTrial, Trial, TrialState

__all__ = [
    "Categorical",
    "Condition",
    "Decision",
    "Float",
    "FrozenTrial",
    "GridSampler",
    "InMemoryStorage",
    "Int",
    "QMCSampler",
    "RandomSampler",
    "SearchSpace",
    "SpaceExhausted",
    "Study",
    "StudyDirection",
    "Trial",
    "TrialPruned",
    "TrialState",
    "__version__",
    "create_study",
    "create_trial",
    "delete_study",
    "get_all_study_summaries",
    "load_study",
]
