"""Tree-structured Parzen Estimator sampling (univariate, multivariate and MOTPE)."""

from __future__ import annotations

from hpopt.samplers.tpe.sampler import TPESampler, default_gamma, default_weights

__all__ = ["TPESampler", "default_gamma", "default_weights"]
