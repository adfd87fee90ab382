"""Schedulers (pruners): stop, pause or continue running trials.

Every scheduler decides from the study's records only (learning curves and system
attributes), so workers sharing one storage agree. See ``docs/schedulers.md``.
"""

from __future__ import annotations

from hpopt.schedulers.asha import ASHAScheduler, SuccessiveHalvingScheduler
from hpopt.schedulers.base import BaseScheduler, Decision, NopScheduler
from hpopt.schedulers.bohb import BOHBScheduler, bohb
from hpopt.schedulers.hyperband import HyperbandScheduler
from hpopt.schedulers.median import MedianScheduler
from hpopt.schedulers.patient import PatientScheduler
from hpopt.schedulers.percentile import PercentileScheduler
from hpopt.schedulers.threshold import ThresholdScheduler

__all__ = [
    "ASHAScheduler",
    "BOHBScheduler",
    "BaseScheduler",
    "Decision",
    "HyperbandScheduler",
    "MedianScheduler",
    "NopScheduler",
    "PatientScheduler",
    "PercentileScheduler",
    "SuccessiveHalvingScheduler",
    "ThresholdScheduler",
    "bohb",
]
