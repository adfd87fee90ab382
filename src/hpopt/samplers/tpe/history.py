"""Incremental per-study arrays of finished trials, built once per trial.

A sampler asks for the history on every proposal. Rebuilding arrays from thousands of
records each time would dominate the cost of a proposal, so :class:`TrialHistory` keeps one
growable column per parameter and ingests only the trials that finished since the last call.
Finished records never change, so everything before the first unfinished trial is final.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hpopt.samplers._pruned import Curve, curve
from hpopt.space.distributions import Categorical, Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView

__all__ = ["TrialHistory", "internal_value"]

#: Rank groups: complete trials first, then pruned ones with a last value, then the rest.
COMPLETE, PRUNED_WITH_VALUE, PRUNED_WITHOUT_VALUE = 0, 1, 2


def internal_value(dist: Distribution, value: object) -> float:
    """The float a parameter value is stored as (choice index for categoricals)."""
    if isinstance(dist, Categorical):
        return float(dist.index(value))
    return float(value)  # type: ignore[arg-type]


class _Column:
    """A float array that grows by doubling; missing entries are NaN."""

    __slots__ = ("data",)

    def __init__(self, capacity: int) -> None:
        self.data = np.full(max(capacity, 16), np.nan)

    def set(self, i: int, value: float) -> None:
        if i >= len(self.data):
            grown = np.full(2 * i + 16, np.nan)
            grown[: len(self.data)] = self.data
            self.data = grown
        self.data[i] = value


class TrialHistory:
    """The usable (COMPLETE and PRUNED) trials of one study as arrays.

    Attributes
    ----------
    n
        Number of usable trials ingested.
    numbers
        Trial numbers, one per row (rows are in ingestion order).
    signed_values
        ``(n, n_objectives)`` values times the direction signs (smaller is better); NaN for
        pruned rows.
    rank_group, rank_step, rank_value
        Group (complete, pruned with a reported value, pruned without), the negated last
        step, and the signed last value (used with several objectives).
    curves
        With one objective, each row's learning curve (:func:`hpopt.samplers._pruned.curve`).
    distributions
        The latest distribution seen for each parameter.
    groups
        Parameter sets that always occur together (the group decomposition of the trials'
        parameter sets); each can be modelled jointly.
    intersection
        Parameters present in every usable trial.
    """

    def __init__(self, signs: Sequence[float]) -> None:
        self.signs = np.asarray(signs, dtype=float)
        self.n = 0
        self._capacity = 64
        self._numbers = np.zeros(self._capacity, dtype=np.int64)
        self._values = np.full((self._capacity, len(signs)), np.nan)
        self._rank = np.zeros((self._capacity, 3))
        #: Learning curves of the rows (single objective), see :mod:`hpopt.samplers._pruned`.
        self.curves: list[Curve] = []
        self.columns: dict[str, _Column] = {}
        self.distributions: dict[str, Distribution] = {}
        self.groups: list[frozenset[str]] = []
        self.intersection: set[str] | None = None
        self.frontier = 0  # trials[:frontier] are all finished and ingested
        self._frontier_number = -1
        self._seen_beyond: set[int] = set()
        self.running: list[FrozenTrial] = []

    # ------------------------------------------------------------------ views of the arrays
    @property
    def numbers(self) -> np.ndarray:
        return self._numbers[: self.n]

    @property
    def signed_values(self) -> np.ndarray:
        return self._values[: self.n]

    @property
    def rank_keys(self) -> np.ndarray:
        """``(n, 3)``: group, negated last step, signed last value (pruned rows)."""
        return self._rank[: self.n]

    def column(self, name: str) -> np.ndarray:
        """Internal values of ``name`` per row (NaN where the trial lacks it)."""
        col = self.columns.get(name)
        if col is None:
            return np.full(self.n, np.nan)
        data = col.data[: self.n]
        if len(data) < self.n:
            data = np.concatenate([data, np.full(self.n - len(data), np.nan)])
        return data

    # ------------------------------------------------------------------ updating
    def sync(self, view: StudyView) -> bool:
        """Ingest newly finished trials of ``view``; False if the view does not extend what
        was ingested (the caller then starts a fresh history)."""
        trials = view.get_trials()
        f = self.frontier
        if f > len(trials) or (f > 0 and trials[f - 1].number != self._frontier_number):
            return False
        tail = trials[f:]
        finished_seen = sum(
            1 for t in tail if t.state.is_finished() and t.number in self._seen_beyond
        )
        if finished_seen != len(self._seen_beyond):
            return False
        running = []
        for t in tail:
            if t.state.is_finished():
                if t.number not in self._seen_beyond:
                    self._ingest(t)
                    self._seen_beyond.add(t.number)
            elif t.state is TrialState.RUNNING:
                running.append(t)
        self.running = running
        while f < len(trials) and trials[f].state.is_finished():
            self._seen_beyond.discard(trials[f].number)
            f += 1
        if f != self.frontier:
            self.frontier = f
            self._frontier_number = trials[f - 1].number
        return True

    def _ingest(self, t: FrozenTrial) -> None:
        rank = _rank_key(t, self.signs)
        if rank is None:
            return
        i = self.n
        if i >= self._capacity:
            self._capacity *= 2
            self._numbers = np.resize(self._numbers, self._capacity)
            values = np.full((self._capacity, len(self.signs)), np.nan)
            values[:i] = self._values[:i]
            self._values = values
            ranks = np.zeros((self._capacity, 3))
            ranks[:i] = self._rank[:i]
            self._rank = ranks
        self._numbers[i] = t.number
        if t.state is TrialState.COMPLETE and t.values is not None:
            self._values[i] = np.asarray(t.values, dtype=float) * self.signs
        self._rank[i] = rank
        if len(self.signs) == 1:
            self.curves.append(curve(t, float(self.signs[0])))
        names = set()
        for name, value in t.params.items():
            dist = t.distributions.get(name)
            if dist is None or dist.single():
                continue
            col = self.columns.get(name)
            if col is None:
                col = self.columns[name] = _Column(self._capacity)
            col.set(i, internal_value(dist, value))
            self.distributions[name] = dist
            names.add(name)
        self.n = i + 1
        self._update_groups(names)

    def _update_groups(self, names: set[str]) -> None:
        if self.intersection is None:
            self.intersection = set(names)
        else:
            self.intersection &= names
        if not names:
            return
        groups: list[frozenset[str]] = []
        rest = set(names)
        for g in self.groups:
            both = g & rest
            if both:
                groups.append(frozenset(both))
                if g - both:
                    groups.append(g - both)
                rest -= both
            else:
                groups.append(g)
        if rest:
            groups.append(frozenset(rest))
        self.groups = groups


def _rank_key(t: FrozenTrial, signs: np.ndarray) -> tuple[float, float, float] | None:
    """Ranking key of a finished trial, or ``None`` if it is not usable (FAIL)."""
    if t.state is TrialState.COMPLETE:
        return (COMPLETE, 0.0, 0.0) if t.values is not None else None
    if t.state is not TrialState.PRUNED:
        return None
    if len(signs) == 1 and t.intermediate_values:
        step = max(t.intermediate_values)
        value = float(t.intermediate_values[step]) * float(signs[0])
        if math.isnan(value):
            value = math.inf
        return (PRUNED_WITH_VALUE, -float(step), value)
    return (PRUNED_WITHOUT_VALUE, 0.0, 0.0)
