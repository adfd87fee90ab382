"""Trials: states, immutable records and the handle an objective receives."""

from __future__ import annotations

from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState
from hpopt.trial.trial import Trial

__all__ = ["FrozenTrial", "Trial", "TrialState"]
