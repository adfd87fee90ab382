"""The Tree-structured Parzen Estimator sampler."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.samplers._pruned import COMMON_FRACTION, compare_at
from hpopt.samplers.base import BaseSampler
from hpopt.samplers.tpe.history import TrialHistory, internal_value
from hpopt.samplers.tpe.multi_objective import split_multi_objective
from hpopt.samplers.tpe.parzen import (
    ModelSpace,
    ParzenEstimator,
    dim_for,
    log_density_ratio,
    model_space,
)
from hpopt.space.distributions import Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["TPESampler", "default_gamma", "default_weights"]


def default_gamma(n: int) -> int:
    """Size of the good set among ``n`` trials: ``ceil(0.1 n)``, at most 25."""
    return min(math.ceil(0.1 * n), 25)


def default_weights(n: int) -> np.ndarray:
    """Observation weights, oldest first: flat for the newest 25, a ramp down before."""
    if n < 25:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, num=n - 25), np.ones(25)])


def _smallest(values: np.ndarray, numbers: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` smallest ``values``, ties broken by the smaller trial number (the
    order of a full lexicographic sort, in linear time)."""
    if k >= len(values):
        return np.arange(len(values))
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    threshold = np.partition(values, k - 1)[k - 1]
    below = np.flatnonzero(values < threshold)
    tied = np.flatnonzero(values == threshold)
    tied = tied[np.argsort(numbers[tied], kind="stable")[: k - len(below)]]
    return np.concatenate([below, tied])


@dataclass
class _Split:
    """Rows of the history in the good and bad sets, plus the liars (running trials)."""

    good: np.ndarray  # row indices
    bad: np.ndarray
    liars: list[dict[str, float]]  # internal values of running trials' parameters


class TPESampler(BaseSampler):
    """Tree-structured Parzen Estimator (TPE) sampler.

    After ``n_startup_trials`` quasi-random trials, finished trials are split into a *good*
    set (the best ``gamma(n)``) and a *bad* set; each is modelled by a Parzen estimator
    ``l(x)`` and ``g(x)``. ``n_ei_candidates`` draws from ``l`` are scored by
    ``log l(x) - log g(x)`` (proportional to expected improvement) and the best one is
    proposed.

    Parameters
    ----------
    n_startup_trials
        Trials drawn from a scrambled Sobol sequence before the model is used.
    n_ei_candidates
        Candidates drawn from ``l(x)`` per proposal.
    multivariate
        Model parameters jointly (product kernels) rather than one at a time.
    group
        With ``multivariate``, split the space into groups of parameters that always occur
        together (conditional / define-by-run spaces) and model each group jointly.
        Otherwise only the parameters common to all trials are joint.
    gamma
        ``gamma(n)``: how many of ``n`` trials form the good set.
    prior_weight
        Weight of the prior kernel relative to one observation.
    consider_endpoints
        Let the range ends widen the outermost kernels.
    constant_liar
        Treat RUNNING trials as bad observations, so parallel workers spread out.
    seed
        Seed of the random stream.
    startup
        ``"sobol"`` (scrambled Sobol points, one dimension per parameter in order of first
        appearance) or ``"random"``.
    weights
        ``weights(n)``: observation weights, oldest first.

    Notes
    -----
    PRUNED trials are used through their learning curves (one objective): trials are
    compared at the largest step that at least a quarter of them reached, by their first
    value reported there (a complete trial's final value if that is the end); trials that
    stopped before rank after, by the step they reached, then their last value (see
    :mod:`hpopt.samplers._pruned`). With enough complete trials this is Optuna's order:
    complete trials first, pruned ones after. With several objectives pruned trials rank
    after complete ones by step, then last value of the first objective.
    Trials that failed are ignored. Running trials are seen through the parameters that
    are stored, and, for proposals this sampler made itself, through those proposals.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(sampler=hpopt.TPESampler(seed=0))
    >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=20)
    >>> len(study.trials)
    20
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = True,
        group: bool = True,
        gamma: Callable[[int], int] = default_gamma,
        prior_weight: float = 2.0,
        consider_endpoints: bool = False,
        constant_liar: bool = True,
        seed: int | None = None,
        startup: str = "sobol",
        weights: Callable[[int], np.ndarray] = default_weights,
        bandwidth: str = "neighbor",
    ) -> None:
        if n_startup_trials < 0:
            raise ValueError(f"n_startup_trials must be >= 0, got {n_startup_trials}")
        if n_ei_candidates < 1:
            raise ValueError(f"n_ei_candidates must be >= 1, got {n_ei_candidates}")
        if prior_weight <= 0:
            raise ValueError(f"prior_weight must be > 0, got {prior_weight}")
        if startup not in ("sobol", "random"):
            raise ValueError(f"startup must be 'sobol' or 'random', got {startup!r}")
        if bandwidth not in ("neighbor", "scott"):
            raise ValueError(f"bandwidth must be 'neighbor' or 'scott', got {bandwidth!r}")
        self.n_startup_trials = n_startup_trials
        self.n_ei_candidates = n_ei_candidates
        self.multivariate = multivariate
        self.group = group
        self.gamma = gamma
        self.prior_weight = prior_weight
        self.consider_endpoints = consider_endpoints
        self.constant_liar = constant_liar
        self.startup = startup
        self.weights = weights
        self.bandwidth = bandwidth
        self._lock = threading.RLock()
        self._histories: dict[str, TrialHistory] = {}
        self._splits: dict[str, tuple[Any, _Split]] = {}
        self._pending: dict[tuple[str, int], dict[str, float]] = {}
        self._param_order: dict[str, int] = {}
        self._model_spaces: dict[tuple[Distribution, ...], ModelSpace] = {}
        self._sobol: np.ndarray | None = None
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = np.random.default_rng(seed)
            self._sobol_seed = int(self._rng.integers(2**31))
            self._sobol = None

    # ------------------------------------------------------------------ history
    def _history(self, view: StudyView) -> TrialHistory:
        hist = self._histories.get(view.study_name)
        if hist is None or not hist.sync(view):
            hist = TrialHistory(view.signs)
            hist.sync(view)
            self._histories[view.study_name] = hist
        for name in hist.distributions:
            self._param_order.setdefault(name, len(self._param_order))
        return hist

    def _ordered(self, names: Any) -> list[str]:
        return sorted(names, key=lambda n: self._param_order.get(n, len(self._param_order)))

    def _split(self, view: StudyView, trial: Trial) -> tuple[TrialHistory, _Split]:
        """The good/bad split for ``trial`` (cached per view version and trial)."""
        hist = self._history(view)
        key = (view.version, trial.number, hist.n)
        cached = self._splits.get(view.study_name)
        if cached is not None and cached[0] == key:
            return hist, cached[1]
        n_good = self.gamma(hist.n)
        rows = np.arange(hist.n)
        keys = hist.rank_keys
        complete = keys[:, 0] == 0
        good = np.zeros(hist.n, dtype=bool)
        values = hist.signed_values[:, 0]
        if len(view.directions) == 1 and complete.all() and not np.isnan(values).any():
            good[_smallest(values, hist.numbers, n_good)] = True
        elif len(view.directions) == 1:
            steps, at = compare_at(hist.curves, math.ceil(hist.n * COMMON_FRACTION))
            order = np.lexsort((hist.numbers, at, -steps))
            good[order[:n_good]] = True
        else:
            done = rows[complete]
            good[done] = split_multi_objective(hist.signed_values[done], n_good)
            short = n_good - int(good.sum())
            if short > 0:
                rest = rows[~complete]
                order = np.lexsort((keys[rest, 2], keys[rest, 1], keys[rest, 0]))
                good[rest[order[:short]]] = True
        liars = []
        if self.constant_liar:
            for t in hist.running:
                if t.number == trial.number:
                    continue
                params = dict(self._pending.get((view.study_name, t.number), {}))
                for name, value in t.params.items():
                    dist = t.distributions.get(name)
                    if dist is not None and not dist.single():
                        params[name] = internal_value(dist, value)
                if params:
                    liars.append(params)
        split = _Split(rows[good], rows[~good], liars)
        self._splits[view.study_name] = (key, split)
        return hist, split

    # ------------------------------------------------------------------ sampler API
    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        if not self.multivariate:
            return {}
        with self._lock:
            hist = self._history(view)
            if hist.n < max(self.n_startup_trials, 1):
                return {}
            if self.group:
                names = [n for g in hist.groups if len(g) for n in g]
            else:
                names = list(hist.intersection or ())
            return {n: hist.distributions[n] for n in self._ordered(names)}

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock:
            hist, split = self._split(view, trial)
            groups = hist.groups if self.group else [frozenset(search_space)]
            out: dict[str, Any] = {}
            for g in groups:
                names = self._ordered(n for n in g if n in search_space)
                if names:
                    out.update(self._sample_joint(hist, split, names, search_space))
            self._remember(view, trial, out, search_space)
            return out

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        with self._lock:
            self._param_order.setdefault(name, len(self._param_order))
            hist = self._history(view)
            if hist.n < max(self.n_startup_trials, 1):
                value = self._startup_value(trial.number, name, distribution)
            else:
                _, split = self._split(view, trial)
                value = self._sample_joint(hist, split, [name], {name: distribution})[name]
            self._remember(view, trial, {name: value}, {name: distribution})
            return value

    def after_trial(
        self,
        view: StudyView,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        with self._lock:
            self._pending.pop((view.study_name, trial.number), None)

    # ------------------------------------------------------------------ internals
    def _remember(
        self, view: StudyView, trial: Trial, values: dict[str, Any], dists: dict[str, Distribution]
    ) -> None:
        if self.constant_liar and values:
            slot = self._pending.setdefault((view.study_name, trial.number), {})
            for name, value in values.items():
                slot[name] = internal_value(dists[name], value)

    def _startup_value(self, number: int, name: str, dist: Distribution) -> Any:
        if self.startup == "random":
            return dist.from_unit(float(self._rng.random()))
        dim = self._param_order[name]
        table = self._sobol
        if table is None or number >= table.shape[0] or dim >= table.shape[1]:
            from scipy.stats import qmc

            rows = 1 << max(4, int(number).bit_length())
            cols = max(8, 1 << int(dim).bit_length())
            engine = qmc.Sobol(d=cols, scramble=True, seed=self._sobol_seed)
            table = self._sobol = engine.random_base2(int(math.log2(rows)))
        return dist.from_unit(float(table[number, dim]))

    def _sample_joint(
        self,
        hist: TrialHistory,
        split: _Split,
        names: list[str],
        space: dict[str, Distribution],
    ) -> dict[str, Any]:
        dists = [space[n] for n in names]
        model = self._model_space(dists)
        cols = np.column_stack([hist.column(n) for n in names])
        present = ~np.isnan(cols).any(axis=1)
        good = split.good[present[split.good]]
        bad = split.bad[present[split.bad]]
        x_good = model.to_model(cols[good])
        x_bad = model.to_model(cols[bad])
        w_good = self.weights(len(good))
        w_bad = self.weights(len(bad))
        liars = [r for r in split.liars if all(n in r for n in names)]
        if liars:
            lied = np.array([[r[n] for n in names] for r in liars])
            x_bad = np.vstack([x_bad, model.to_model(lied)])
            w_bad = np.append(w_bad, np.ones(len(liars)))
        kw = dict(
            prior_weight=self.prior_weight,
            consider_endpoints=self.consider_endpoints,
            bandwidth=self.bandwidth,
        )
        l_est = ParzenEstimator(model, x_good, w_good, **kw)  # type: ignore[arg-type]
        g_est = ParzenEstimator(model, x_bad, w_bad, **kw)  # type: ignore[arg-type]
        candidates = l_est.sample(self._rng, self.n_ei_candidates)
        score = log_density_ratio(l_est, g_est, candidates)
        best = model.from_model_row(candidates[int(np.argmax(score))])
        return {name: d.to_external(v) for name, d, v in zip(names, dists, best)}

    def _model_space(self, dists: list[Distribution]) -> ModelSpace:
        key = tuple(dists)
        model = self._model_spaces.get(key)
        if model is None:
            if len(self._model_spaces) >= 256:  # spaces whose ranges keep changing
                self._model_spaces.clear()
            model = self._model_spaces[key] = model_space(tuple(dim_for(d) for d in dists))
        return model
