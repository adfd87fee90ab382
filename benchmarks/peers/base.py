"""The peer interface: one optimizer driven through its own ask/tell API.

Every adapter only turns an hpopt search space into its library's space and exposes a
:class:`Session` (``ask(n)`` / ``tell(results)``); :meth:`Peer.run` owns the loop, so every
optimizer is driven, timed and batched the same way.
"""

from __future__ import annotations

import heapq
import importlib
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from benchmarks.problems.base import Problem
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["Peer", "PeerUnavailable", "RunTrace", "Session", "coerce"]

Space = Mapping[str, Distribution]
Suggestion = tuple[Any, dict[str, Any]]  # (token for tell, config)


class PeerUnavailable(RuntimeError):
    """The peer's library is not installed (or the hpopt sampler does not exist yet)."""


class Session(Protocol):
    """One optimization run of one library."""

    def ask(self, n: int) -> list[Suggestion]:
        """``n`` new configurations; with ``n > 1`` all are pending at once."""

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        """Report ``(token, loss)`` for configurations from :meth:`ask`."""


class Closable(Protocol):
    def close(self) -> None: ...


SessionFactory = Callable[[Space, int, int], Session]  # (space, seed, budget)


@dataclass
class RunTrace:
    """What one run produced: losses in evaluation order and per-evaluation timings."""

    values: list[float] = field(default_factory=list)
    optimizer_seconds: list[float] = field(default_factory=list)
    eval_seconds: float = 0.0


@dataclass(frozen=True)
class Peer:
    """A named optimizer configuration.

    Parameters
    ----------
    name
        Registry name, e.g. ``"optuna-tpe"``.
    start
        ``start(space, seed, budget) -> Session``; imports its library lazily and raises
        :class:`PeerUnavailable` when it cannot.
    requires
        Modules whose absence makes the peer unavailable (checked by :meth:`unavailable`).
    batch
        Whether the library can hold several pending proposals (``ask(n)``).
    asynchronous
        Whether a proposal asked while others are pending takes them into account, and
        pending proposals may be told one at a time in any order (asynchronous workers).
    note
        A short description for listings.
    package
        The distribution whose version results record (e.g. ``"optuna"``).
    """

    name: str
    start: SessionFactory
    requires: tuple[str, ...] = ()
    batch: bool = True
    asynchronous: bool = False
    note: str = ""
    package: str = ""

    def unavailable(self) -> str | None:
        """Why the peer cannot run here, or ``None`` if it can."""
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError as e:
                return f"{module} not importable ({e})"
        return None

    def run(
        self,
        problem: Problem,
        budget: int,
        seed: int,
        batch: int | None = None,
        *,
        workers: int | None = None,
    ) -> list[float]:
        """Minimize ``problem`` with ``budget`` evaluations; the losses in the order told.

        With ``batch``, proposals come in rounds of ``batch`` pending configurations, all
        told before the next round (``budget`` is the total number of evaluations). With
        ``workers``, ``workers`` asynchronous workers are emulated (see :meth:`trace`).
        """
        return self.trace(problem, budget, seed, batch, workers=workers).values

    def trace(
        self,
        problem: Problem,
        budget: int,
        seed: int,
        batch: int | None = None,
        *,
        time_limit: float | None = None,
        workers: int | None = None,
    ) -> RunTrace:
        """Like :meth:`run`, also timing ask + tell per evaluation.

        ``time_limit`` (seconds of optimizer time) ends the run early; used by timing.

        ``workers=k`` emulates k asynchronous workers on a simulated clock: k proposals
        are pending from the start; each gets a duration drawn from a log-normal
        distribution (median 1, sigma 0.5) by a generator seeded with ``seed``, independent
        of the configuration and of the library; the pending proposal that finishes first
        on the clock is told alone and one new proposal is asked at that moment, until
        ``budget`` proposals were asked and all are told. The library therefore sees exactly
        what it would see with k real workers whose trials take those durations: k - 1
        proposals pending at every ask once the run is under way. ``workers=1`` is the
        sequential loop.
        """
        if workers is not None:
            if batch is not None:
                raise ValueError("batch and workers are exclusive")
            if workers < 1:
                raise ValueError(f"workers must be >= 1, got {workers}")
            if workers > 1 and not self.asynchronous:
                raise ValueError(f"{self.name} does not support asynchronous workers")
            return self._trace_async(problem, budget, seed, workers)
        step = batch or 1
        if budget % step:
            raise ValueError(f"budget {budget} is not a multiple of batch {step}")
        if batch and not self.batch:
            raise ValueError(f"{self.name} does not support batch proposals")
        out = RunTrace()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = self.start(problem.space, seed, budget)
            try:
                spent = 0.0
                while len(out.values) < budget:
                    t0 = time.perf_counter()
                    proposals = session.ask(step)
                    ask_s = time.perf_counter() - t0
                    results = []
                    for token, config in proposals:
                        t1 = time.perf_counter()
                        value = problem.evaluate(coerce_config(problem.space, config))
                        out.eval_seconds += time.perf_counter() - t1
                        results.append((token, value))
                    t2 = time.perf_counter()
                    session.tell(results)
                    per_eval = (ask_s + time.perf_counter() - t2) / step
                    out.values.extend(v for _, v in results)
                    out.optimizer_seconds.extend([per_eval] * step)
                    spent += per_eval * step
                    if time_limit is not None and spent > time_limit:
                        break
            finally:
                close = getattr(session, "close", None)
                if callable(close):
                    close()
        return out

    def _trace_async(self, problem: Problem, budget: int, seed: int, workers: int) -> RunTrace:
        out = RunTrace()
        durations = np.random.default_rng([seed, 0x5EED]).lognormal(0.0, 0.5, size=budget)
        # (finish time, ask order, token, value): the ask order breaks ties deterministically.
        running: list[tuple[float, int, Any, float]] = []
        asked = 0

        def launch(now: float) -> None:
            nonlocal asked
            t0 = time.perf_counter()
            ((token, config),) = session.ask(1)
            out.optimizer_seconds.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            value = problem.evaluate(coerce_config(problem.space, config))
            out.eval_seconds += time.perf_counter() - t1
            heapq.heappush(running, (now + float(durations[asked]), asked, token, value))
            asked += 1

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = self.start(problem.space, seed, budget)
            try:
                while asked < min(workers, budget):
                    launch(0.0)
                while running:
                    now, order, token, value = heapq.heappop(running)
                    t2 = time.perf_counter()
                    session.tell([(token, value)])
                    out.optimizer_seconds[order] += time.perf_counter() - t2
                    out.values.append(value)
                    if asked < budget:
                        launch(now)
            finally:
                close = getattr(session, "close", None)
                if callable(close):
                    close()
        return out


def coerce(dist: Distribution, value: Any) -> Any:
    """Map a library's value (numpy scalar, rounded float, category index) to a valid
    external value of ``dist``: numbers are clipped to the bounds, ints rounded.

    Categorical values may come as the choice itself or, from index-encoding adapters, as
    ``("index", i)``.
    """
    if isinstance(dist, Categorical):
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "index":
            return dist.choices[int(value[1])]
        return dist.choices[dist.index(value)]
    if isinstance(dist, (Int, Float)):
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"non-finite proposal {value!r}")
        x = min(max(x, dist.low), dist.high)
        if isinstance(dist, Float) and dist.step is None:
            return x
        return dist.from_unit(dist.to_unit(x))  # snaps to the integer / step grid
    raise TypeError(f"unsupported distribution {dist!r}")


def coerce_config(space: Space, config: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`coerce` every parameter of ``config``."""
    return {name: coerce(dist, config[name]) for name, dist in space.items()}
