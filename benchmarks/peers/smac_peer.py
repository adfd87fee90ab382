"""SMAC3's hyperparameter-optimization facade (random forest + log EI) via ask/tell.

SMAC3 is reproducible only with ``PYTHONHASHSEED=0`` in the environment.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers.base import Space, Suggestion
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["SmacSession"]


def _smac_hyperparameter(name: str, dist: Distribution) -> Any:
    import ConfigSpace as cs

    if isinstance(dist, Categorical):
        return cs.Categorical(name, [str(i) for i in range(len(dist.choices))])
    if isinstance(dist, Int):
        return cs.Integer(name, (dist.low, dist.high), log=dist.log)
    if isinstance(dist, Float):
        return cs.Float(name, (dist.low, dist.high), log=dist.log)
    raise TypeError(f"unsupported distribution {dist!r}")


class SmacSession:
    """``HyperparameterOptimizationFacade`` with ``deterministic=True`` and
    ``n_trials=budget`` (its initial design is sized from the budget)."""

    def __init__(self, space: Space, seed: int, budget: int) -> None:
        import ConfigSpace as cs
        from smac import HyperparameterOptimizationFacade, Scenario

        self._space = space
        config_space = cs.ConfigurationSpace(seed=seed)
        config_space.add([_smac_hyperparameter(n, d) for n, d in space.items()])
        self._dir = Path(tempfile.mkdtemp(prefix="smac-bench-"))
        scenario = Scenario(
            config_space, deterministic=True, n_trials=budget, seed=seed, output_directory=self._dir
        )
        self._smac = HyperparameterOptimizationFacade(
            scenario, lambda config, seed=0: 0.0, overwrite=True, logging_level=40
        )

    def ask(self, n: int) -> list[Suggestion]:
        out: list[Suggestion] = []
        for _ in range(n):
            info = self._smac.ask()
            values = dict(info.config)
            config = {
                name: ("index", int(values[name])) if isinstance(d, Categorical) else values[name]
                for name, d in self._space.items()
            }
            out.append((info, config))
        return out

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        from smac.runhistory.dataclasses import TrialValue

        for info, value in results:
            self._smac.tell(info, TrialValue(cost=value))

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
