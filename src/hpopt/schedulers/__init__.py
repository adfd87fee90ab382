"""Schedulers (pruners): stop, pause or continue running trials."""

from __future__ import annotations

from hpopt.schedulers.base import BaseScheduler, Decision, NopScheduler

__all__ = ["BaseScheduler", "Decision", "NopScheduler"]
