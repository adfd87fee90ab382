"""Hyperopt TPE driven step by step with ``tpe.suggest`` over a ``Trials`` object.

This is what ``fmin`` does internally, minus the loop, so batches (several pending trials,
as with ``max_queue_len``) work too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.peers.base import Space, Suggestion
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["HyperoptSession"]


def _hyperopt_expr(name: str, dist: Distribution) -> Any:
    from hyperopt import hp

    if isinstance(dist, Categorical):
        return hp.choice(name, list(range(len(dist.choices))))
    if isinstance(dist, Int):
        low, high = dist.low - 0.5, dist.high + 0.5  # every integer gets an equal share
        if dist.log:
            return hp.qloguniform(name, math.log(low), math.log(high), dist.step)
        return hp.quniform(name, low, high, dist.step)
    if isinstance(dist, Float):
        if dist.log:
            return hp.loguniform(name, math.log(dist.low), math.log(dist.high))
        return hp.uniform(name, dist.low, dist.high)
    raise TypeError(f"unsupported distribution {dist!r}")


class HyperoptSession:
    """``hyperopt.tpe.suggest`` with default settings (20 random startup trials)."""

    def __init__(self, space: Space, seed: int, budget: int) -> None:
        import hyperopt

        self._hyperopt = hyperopt
        self._space = space
        self._domain = hyperopt.Domain(
            lambda _: 0.0, {n: _hyperopt_expr(n, d) for n, d in space.items()}
        )
        self._trials = hyperopt.Trials()
        self._rng = np.random.default_rng(seed)
        self._docs: dict[int, dict[str, Any]] = {}

    def ask(self, n: int) -> list[Suggestion]:
        from hyperopt import tpe

        ids = self._trials.new_trial_ids(n)
        self._trials.refresh()
        docs = tpe.suggest(ids, self._domain, self._trials, int(self._rng.integers(2**31 - 1)))
        self._trials.insert_trial_docs(docs)
        self._trials.refresh()
        out: list[Suggestion] = []
        for doc in docs:
            vals = {k: v[0] for k, v in doc["misc"]["vals"].items() if len(v)}
            config = {
                name: ("index", vals[name]) if isinstance(d, Categorical) else vals[name]
                for name, d in self._space.items()
            }
            out.append((doc["tid"], config))
        return out

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        hyperopt = self._hyperopt
        by_tid = {doc["tid"]: doc for doc in self._trials._dynamic_trials}
        for tid, value in results:
            doc = by_tid[tid]
            doc["state"] = hyperopt.JOB_STATE_DONE
            doc["result"] = {"loss": value, "status": hyperopt.STATUS_OK}
        self._trials.refresh()
