"""scikit-optimize's GP, set up as ``gp_minimize`` does but driven by ``Optimizer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.peers.base import Space, Suggestion
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["SkoptSession"]


def _skopt_dimension(name: str, dist: Distribution) -> Any:
    from skopt.space import Categorical as SkCategorical
    from skopt.space import Integer, Real

    prior = "log-uniform" if getattr(dist, "log", False) else "uniform"
    if isinstance(dist, Categorical):
        return SkCategorical(list(range(len(dist.choices))), name=name)
    if isinstance(dist, Int):
        return Integer(dist.low, dist.high, prior=prior, name=name)
    if isinstance(dist, Float):
        return Real(dist.low, dist.high, prior=prior, name=name)
    raise TypeError(f"unsupported distribution {dist!r}")


class SkoptSession:
    """``gp_minimize`` defaults: Matern GP with Gaussian noise, ``gp_hedge``, L-BFGS
    acquisition search, 10 random initial points; batches by constant liar (``cl_min``)."""

    def __init__(self, space: Space, seed: int, budget: int) -> None:
        from skopt import Optimizer
        from skopt.space import Space as SkSpace
        from skopt.utils import cook_estimator

        self._space = space
        dims = [_skopt_dimension(n, d) for n, d in space.items()]
        rng = np.random.RandomState(seed)
        estimator = cook_estimator(
            "GP",
            space=SkSpace(dims),
            random_state=rng.randint(0, np.iinfo(np.int32).max),
            noise="gaussian",
        )
        self._opt = Optimizer(
            dims,
            estimator,
            n_initial_points=10,
            acq_func="gp_hedge",
            acq_optimizer="lbfgs",
            random_state=rng,
        )

    def ask(self, n: int) -> list[Suggestion]:
        points = [self._opt.ask()] if n == 1 else self._opt.ask(n_points=n, strategy="cl_min")
        return [(list(p), self._config(p)) for p in points]

    def _config(self, point: Sequence[Any]) -> dict[str, Any]:
        return {
            name: ("index", v) if isinstance(d, Categorical) else v
            for (name, d), v in zip(self._space.items(), point)
        }

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        self._opt.tell([p for p, _ in results], [float(v) for _, v in results])
