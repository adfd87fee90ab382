"""Grid search: every point of a grid once, in a seeded random order."""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.samplers.base import BaseSampler, FinishedTrialScanner
from hpopt.space.distributions import Categorical, Distribution, Float, Int
from hpopt.space.search_space import SearchSpace

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.frozen import FrozenTrial
    from hpopt.trial.trial import Trial

__all__ = ["GridSampler"]

#: System attribute of a trial: ``[grid fingerprint, point index]``.
GRID_POINT_KEY = "grid_point"

#: Largest grid the sampler enumerates (its visiting order is an array of this many ints).
MAX_GRID_POINTS = 10_000_000


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps ``True``, ``1`` and ``"1"`` apart but lets ``1 == 1.0``."""
    if isinstance(a, (bool, str)) or a is None or isinstance(b, (bool, str)) or b is None:
        return type(a) is type(b) and a == b
    return bool(a == b)


def _value_key(v: Any) -> tuple[str, Any]:
    if v is None or isinstance(v, (bool, str)):
        return (type(v).__name__, v)
    return ("number", float(v))


@dataclass
class _Axis:
    """The values one parameter takes in a sub-grid."""

    values: Sequence[Any]
    _positions: dict[tuple[str, Any], int] | None = field(default=None, repr=False)

    def position(self, value: Any) -> int | None:
        if isinstance(self.values, range):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            if isinstance(value, float) and not value.is_integer():
                return None
            return self.values.index(int(value)) if int(value) in self.values else None
        if self._positions is None:
            self._positions = {_value_key(v): i for i, v in enumerate(self.values)}
        return self._positions.get(_value_key(value))


@dataclass(frozen=True)
class _SubGrid:
    """A full product over ``names``; a conditional space is a union of these."""

    names: tuple[str, ...]
    axes: tuple[_Axis, ...]
    size: int


class GridSampler(BaseSampler):
    """Tries every point of a grid once, in a seeded random order.

    Parameters
    ----------
    search_space
        Either a dict of parameter name to the list of values to try (the objective then
        suggests those names with any distribution that contains the values), or a
        declarative space: a dict of distributions, nested branches, or a
        :class:`~hpopt.space.SearchSpace`. ``Int`` and ``Categorical`` parameters enumerate
        all their values, a stepped ``Float`` its grid. A conditional space gives only the
        points of its tree: a point holds just the parameters active in it.
    seed
        Seed of the visiting order; the same seed visits the points in the same order.
    n_points_per_float
        Evenly spaced points (in the unit representation, so log-spaced for ``log=True``)
        to use for a ``Float`` without a step. Without it such a parameter raises
        ``ValueError``.

    Notes
    -----
    Each trial records its point in the system attribute ``grid_point``, so workers that
    share a storage skip points already finished or running. When every remaining point
    is running, a worker proposes a running one again rather than wait. Once every point
    has a finished trial, :meth:`is_exhausted` is true, ``study.optimize`` stops and
    ``study.ask()`` raises :class:`~hpopt.exceptions.SpaceExhausted`.

    Examples
    --------
    >>> import hpopt
    >>> sampler = hpopt.GridSampler({"x": [-1, 0, 1], "act": ["relu", "tanh"]}, seed=0)
    >>> study = hpopt.create_study(sampler=sampler)
    >>> study.optimize(
    ...     lambda t: t.suggest_float("x", -1, 1) ** 2 + (t.suggest_categorical("act", ["relu", "tanh"]) == "relu"),
    ...     show_progress_bar=False,
    ... )
    >>> len(study.trials), study.best_params
    (6, {'x': 0.0, 'act': 'tanh'})
    """  # noqa: E501

    def __init__(
        self,
        search_space: Mapping[str, Any] | SearchSpace,
        *,
        seed: int | None = None,
        n_points_per_float: int | None = None,
    ) -> None:
        if n_points_per_float is not None and (
            isinstance(n_points_per_float, bool)
            or not isinstance(n_points_per_float, int)
            or n_points_per_float < 1
        ):
            raise ValueError(
                f"n_points_per_float must be a positive integer, got {n_points_per_float!r}"
            )
        self._space = SearchSpace.from_dict(_plain_lists(search_space))
        if len(self._space) == 0:
            raise ValueError("GridSampler needs at least one parameter")
        self._seed = seed
        values = {
            name: _grid_values(name, dist, n_points_per_float) for name, dist in self._space.items()
        }
        self._subgrids = _subgrids(self._space, values)
        self._offsets: list[int] = []
        total = 0
        for sub in self._subgrids:
            self._offsets.append(total)
            total += sub.size
        self._n_points = total
        self._by_names: dict[frozenset[str], list[int]] = {}
        for i, sub in enumerate(self._subgrids):
            self._by_names.setdefault(frozenset(sub.names), []).append(i)
        spec = json.dumps(
            [self._space.to_dict(), n_points_per_float], sort_keys=True, default=repr
        ).encode()
        self._fingerprint = hashlib.sha1(spec).hexdigest()[:16]
        self._lock = threading.RLock()
        self.reseed(seed)

    # ------------------------------------------------------------------ public facts
    @property
    def n_points(self) -> int:
        """Number of points in the grid."""
        return self._n_points

    @property
    def search_space(self) -> SearchSpace:
        """The grid as a declarative space."""
        return self._space

    def point(self, index: int) -> dict[str, Any]:
        """The parameters of point ``index`` (in enumeration order, not visiting order)."""
        if not 0 <= index < self._n_points:
            raise IndexError(f"grid point {index} out of range (the grid has {self._n_points})")
        s = bisect.bisect_right(self._offsets, index) - 1
        sub, rest = self._subgrids[s], index - self._offsets[s]
        digits: dict[str, Any] = {}
        for name, axis in zip(reversed(sub.names), reversed(sub.axes)):
            rest, r = divmod(rest, len(axis.values))
            digits[name] = axis.values[r]
        return {name: digits[name] for name in sub.names}

    def index_of(self, params: Mapping[str, Any]) -> int | None:
        """The index of the point equal to ``params`` (restricted to grid names), if any."""
        names = {n: v for n, v in params.items() if n in self._space}
        for s in self._by_names.get(frozenset(names), ()):
            sub = self._subgrids[s]
            index = 0
            for name, axis in zip(sub.names, sub.axes):
                pos = axis.position(names[name])
                if pos is None:
                    break
                index = index * len(axis.values) + pos
            else:
                return self._offsets[s] + index
        return None

    # ------------------------------------------------------------------ sampler protocol
    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = np.random.default_rng(seed)
            self._order = self._rng.permutation(self._n_points)
            self._reset_progress()

    def _reset_progress(self) -> None:
        self._scanner = FinishedTrialScanner()
        self._visited: set[int] = set()
        self._next_free = 0  # positions in _order before this are visited, running or handed out
        self._next_unvisited = 0  # positions in _order before this are visited

    def is_exhausted(self, view: StudyView) -> bool:
        """Whether every grid point has a finished trial."""
        with self._lock:
            self._update(view)
            return len(self._visited) >= self._n_points

    def before_trial(self, view: StudyView, trial: Trial) -> None:
        with self._lock:
            running = self._update(view)
            index = self._choose(running)
        fixed = {n: v for n, v in trial.fixed_params.items() if n in self._space}
        if fixed:  # an enqueued trial: the grid point that agrees with it, if there is one
            match = self.index_of({**self.point(index), **fixed})
            index = match if match is not None else index
        trial.set_system_attr(GRID_POINT_KEY, [self._fingerprint, index])
        trial.flush()  # let other workers see this point as running

    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        return dict(self._space)

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        return self._trial_point(trial)

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        if name not in self._space:
            raise ValueError(
                f"parameter {name!r} is not in the grid of GridSampler "
                f"(grid parameters: {', '.join(sorted(self._space))})"
            )
        point = self._trial_point(trial)
        if name not in point:
            raise ValueError(
                f"parameter {name!r} is not active at this grid point ({point}); its "
                f"condition {self._space.conditions.get(name)} does not hold"
            )
        value = point[name]
        if not distribution.contains(value):
            raise ValueError(
                f"parameter {name!r}: the grid value {value!r} is outside the distribution "
                f"the objective suggests ({distribution.to_json()})"
            )
        if isinstance(distribution, Categorical):
            value = distribution.choices[distribution.index(value)]
        return value

    # ------------------------------------------------------------------ internals
    def _trial_point(self, trial: Trial) -> dict[str, Any]:
        attr = trial.system_attrs.get(GRID_POINT_KEY)
        index = self._own_index(attr)
        if index is None:
            raise RuntimeError(
                f"trial {trial.number} has no grid point; GridSampler.before_trial was not called"
            )
        return self.point(index)

    def _own_index(self, attr: Any) -> int | None:
        if (
            isinstance(attr, (list, tuple))
            and len(attr) == 2
            and attr[0] == self._fingerprint
            and isinstance(attr[1], int)
            and 0 <= attr[1] < self._n_points
        ):
            return attr[1]
        return None

    def _visited_index(self, t: FrozenTrial) -> int | None:
        """The point a finished trial evaluated: its recorded point if its params agree
        with it (an enqueued value may have overridden it), else the point equal to its
        params."""
        index = self._own_index(t.system_attrs.get(GRID_POINT_KEY))
        if index is not None:
            point = self.point(index)
            if all(_same(t.params[n], v) for n, v in point.items() if n in t.params):
                return index
        return self.index_of(t.params)

    def _update(self, view: StudyView) -> set[int]:
        """Fold newly finished trials into the visited set; return the running points."""
        finished, unfinished, reset = self._scanner.scan(view)
        if reset:
            self._visited = set()
            self._next_free = self._next_unvisited = 0
        for t in finished:
            index = self._visited_index(t)
            if index is not None:
                self._visited.add(index)
        running: set[int] = set()
        for t in unfinished:
            index = self._own_index(t.system_attrs.get(GRID_POINT_KEY))
            if index is not None:
                running.add(index)
        return running

    def _choose(self, running: set[int]) -> int:
        order, n = self._order, self._n_points
        while self._next_free < n and (
            int(order[self._next_free]) in self._visited or int(order[self._next_free]) in running
        ):
            self._next_free += 1
        if self._next_free < n:
            index = int(order[self._next_free])
            self._next_free += 1  # handed out: its trial will be running, then finished
            return index
        while self._next_unvisited < n and int(order[self._next_unvisited]) in self._visited:
            self._next_unvisited += 1
        if self._next_unvisited < n:  # all remaining points are running: join one
            return int(order[self._next_unvisited])
        return int(order[int(self._rng.integers(n))])  # exhausted (an enqueued trial, a race)


def _plain_lists(space: Mapping[str, Any] | SearchSpace) -> Mapping[str, Any] | SearchSpace:
    """Accept ``range`` objects and numpy arrays as lists of grid values."""
    if isinstance(space, SearchSpace) or not isinstance(space, Mapping):
        return space
    out: dict[str, Any] = {}
    for name, value in space.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, range):
            value = list(value)
        out[name] = value
    return out


def _grid_values(name: str, dist: Distribution, n_points_per_float: int | None) -> Sequence[Any]:
    if isinstance(dist, Categorical):
        return dist.choices
    if isinstance(dist, Int):
        values: Sequence[Any] = range(dist.low, dist.high + 1, dist.step)
    elif isinstance(dist, Float):
        if dist.step is not None:
            n = round((dist.high - dist.low) / dist.step) + 1
            _check_size(name, n)
            return [min(dist.low + k * dist.step, dist.high) for k in range(n)]
        if dist.single():
            return [dist.low]
        if n_points_per_float is None:
            raise ValueError(
                f"parameter {name!r}: GridSampler cannot enumerate Float({dist.low}, "
                f"{dist.high}) without a step; give it a step, or pass n_points_per_float= "
                "to use evenly spaced points"
            )
        if n_points_per_float == 1:
            units = [0.5]
        else:
            units = [i / (n_points_per_float - 1) for i in range(n_points_per_float)]
        return list(dict.fromkeys(dist.from_unit(u) for u in units))
    else:
        raise TypeError(f"parameter {name!r}: unsupported distribution {type(dist).__name__}")
    _check_size(name, len(values))
    return values


def _check_size(name: str | None, n: int) -> None:
    if n > MAX_GRID_POINTS:
        where = f"parameter {name!r} has" if name else "the grid has"
        raise ValueError(
            f"{where} {n:,} points; GridSampler enumerates at most {MAX_GRID_POINTS:,} "
            "(use a coarser step, or a sampler for large spaces)"
        )


def _subgrids(space: SearchSpace, values: Mapping[str, Sequence[Any]]) -> list[_SubGrid]:
    """Split a (conditional) space into full products: the parameters other parameters
    depend on are branched value by value, every other active parameter spans its values."""
    parents = {c.parent for c in space.conditions.values()}
    order = list(space)
    shared = {name: _Axis(values[name]) for name in order}
    out: list[_SubGrid] = []
    total = 0

    def visit(i: int, config: dict[str, Any], names: list[str], axes: list[_Axis]) -> None:
        nonlocal total
        if i == len(order):
            size = math.prod(len(a.values) for a in axes)
            total += size
            _check_size(None, total)
            out.append(_SubGrid(tuple(names), tuple(axes), size))
            return
        name = order[i]
        if not space.is_active(name, config):
            visit(i + 1, config, names, axes)
        elif name in parents:
            for v in values[name]:
                visit(i + 1, {**config, name: v}, [*names, name], [*axes, _Axis([v])])
        else:
            visit(i + 1, config, [*names, name], [*axes, shared[name]])

    visit(0, {}, [], [])
    return out
