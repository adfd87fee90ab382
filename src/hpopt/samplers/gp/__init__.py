"""Gaussian-process Bayesian optimization (numpy and scipy only)."""

from __future__ import annotations

from hpopt.samplers.gp.sampler import GPSampler

__all__ = ["GPSampler"]
