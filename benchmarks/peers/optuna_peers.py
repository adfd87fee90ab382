"""Optuna samplers through ``Study.ask(fixed_distributions)`` / ``Study.tell``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.peers.base import Space, Suggestion
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["OPTUNA_SAMPLERS", "OptunaSession"]


def _optuna_distribution(dist: Distribution) -> Any:
    import optuna.distributions as od

    if isinstance(dist, Float):
        return od.FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, Int):
        return od.IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, Categorical):
        return od.CategoricalDistribution(dist.choices)
    raise TypeError(f"unsupported distribution {dist!r}")


def _tpe(**kwargs: Any) -> Callable[[int], Any]:
    def make(seed: int) -> Any:
        import optuna

        return optuna.samplers.TPESampler(seed=seed, **kwargs)

    return make


def _gp(seed: int) -> Any:
    import optuna

    return optuna.samplers.GPSampler(
        seed=seed, deterministic_objective=True, warn_independent_sampling=False
    )


def _cmaes(seed: int) -> Any:
    import optuna

    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _random(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


#: Peer name -> (sampler factory taking the seed, modules it needs, note).
OPTUNA_SAMPLERS: dict[str, tuple[Callable[[int], Any], tuple[str, ...], str]] = {
    "optuna-tpe": (_tpe(), (), "TPESampler() defaults (multivariate in Optuna 5)"),
    "optuna-tpe-univariate": (_tpe(multivariate=False), (), "TPESampler(multivariate=False)"),
    "optuna-tpe-multivariate": (
        _tpe(multivariate=True, group=True),
        (),
        "TPESampler(multivariate=True, group=True)",
    ),
    "optuna-gp": (
        _gp,
        ("torch", "greenlet"),
        "GPSampler(deterministic_objective=True)",
    ),
    "optuna-cmaes": (_cmaes, ("cmaes",), "CmaEsSampler(); categoricals sampled at random"),
    "optuna-random": (_random, (), "RandomSampler"),
}


class OptunaSession:
    """One Optuna study; a batch is ``n`` asked trials told together."""

    def __init__(self, make_sampler: Callable[[int], Any], space: Space, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._dists = {name: _optuna_distribution(d) for name, d in space.items()}
        self._study = optuna.create_study(sampler=make_sampler(seed), direction="minimize")

    def ask(self, n: int) -> list[Suggestion]:
        trials = [self._study.ask(self._dists) for _ in range(n)]
        return [(t, dict(t.params)) for t in trials]

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        for trial, value in results:
            self._study.tell(trial, value)
