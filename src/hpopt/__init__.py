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
    copy_study,
    create_study,
    create_trial,
    delete_study,
    get_all_study_summaries,
    load_study,
)
from hpopt.samplers import (
    AutoSampler,
    GPSampler,
    GridSampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
)
from hpopt.schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    Decision,
    HyperbandScheduler,
    MedianScheduler,
    PatientScheduler,
    PercentileScheduler,
    SuccessiveHalvingScheduler,
    ThresholdScheduler,
    bohb,
)
from hpopt.space import Categorical, Condition, Float, Int, SearchSpace
from hpopt.storage import InMemoryStorage
from hpopt.trial import FrozenTrial, Trial, TrialState

__all__ = [
    "ASHAScheduler",
    "AutoSampler",
    "BOHBScheduler",
    "Categorical",
    "Condition",
    "Decision",
    "Float",
    "FrozenTrial",
    "HyperbandScheduler",
    "GPSampler",
    "InMemoryStorage",
    "Int",
    "MedianScheduler",
    "PatientScheduler",
    "PercentileScheduler",
    "GridSampler",
    "QMCSampler",
    "RandomSampler",
    "SearchSpace",
    "SpaceExhausted",
    "Study",
    "SuccessiveHalvingScheduler",
    "ThresholdScheduler",
    "StudyDirection",
    "TPESampler",
    "Trial",
    "TrialPruned",
    "TrialState",
    "__version__",
    "bohb",
    "copy_study",
    "create_study",
    "create_trial",
    "delete_study",
    "get_all_study_summaries",
    "load_study",
]

_LAZY = {
    "DaskExecutor": "hpopt.execution",
    "ProcessExecutor": "hpopt.execution",
    "RayExecutor": "hpopt.execution",
    "ThreadExecutor": "hpopt.execution",
}


def __getattr__(name: str) -> object:
    # Executors pull in cloudpickle; load them only when asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hpopt' has no attribute {name!r}")
