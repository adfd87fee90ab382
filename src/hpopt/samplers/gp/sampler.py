"""The Gaussian-process sampler."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hpopt.samplers._pruned import COMMON_FRACTION, compare_at, curve
from hpopt.samplers.base import BaseSampler, intersection_search_space
from hpopt.samplers.gp.encoding import SpaceEncoding
from hpopt.samplers.gp.model import fit_gp
from hpopt.samplers.gp.optimize_acqf import optimize_log_ei
from hpopt.samplers.gp.targets import ranked_targets, scalarize, warp_targets
from hpopt.space.distributions import Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["GPSampler", "modelled_trials"]


def modelled_trials(view: StudyView) -> list[FrozenTrial]:
    """The trials the GP learns from: COMPLETE ones and, with one objective, PRUNED ones
    that reported a value (a pruned trial without one tells nothing about its parameters)."""
    if view.n_objectives > 1:
        return view.completed()
    return [
        t
        for t in view.get_trials((TrialState.COMPLETE, TrialState.PRUNED))
        if t.state is TrialState.COMPLETE or t.intermediate_values
    ]


Array = NDArray[np.float64]

#: Dimensions of the startup Sobol sequence; parameters met later are drawn at random.
_SOBOL_DIMS = 32
#: How many of the best observed points seed local candidates.
_N_INCUMBENTS = 5
#: Random restarts of the hyperparameter fit on a cold start / every few asks.
_COLD_RESTARTS = 2
_RESTART_EVERY = 5
#: Stalls: after ``_STALL_WINDOW`` trials without an improvement of the best target by
#: ``_STALL_MARGIN`` (standardized units), every ``_STALL_PERIOD``-th ask EI asks for one.
_STALL_WINDOW = 5
_STALL_MARGIN = 0.01
_STALL_PERIOD = 3


_controller: Any = None


def _single_threaded_blas() -> Any:
    """Limit BLAS to one thread: the GP issues many small linear-algebra calls, for which
    thread start-up and contention with other processes cost far more than they save."""
    global _controller
    if _controller is None:
        # The controller only sees libraries loaded when it is built: load scipy's BLAS first.
        import scipy.linalg
        import scipy.optimize  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


class GPSampler(BaseSampler):
    """Bayesian optimization with a Gaussian process and log expected improvement.

    The model is a GP with a Matern 5/2 kernel with one lengthscale per parameter, on the
    unit cube of the search space (log parameters on a log scale), plus a second, rough
    Matern term with proportionally shorter lengthscales for small-scale structure (see
    :mod:`hpopt.samplers.gp.model`). Integers and stepped floats are modelled on the
    continuum and proposed on their grid; categoricals have a Hamming-type kernel term and
    are optimized by enumerating their choices, never by rounding a float. Hyperparameters
    (lengthscales, signal, rough and noise variances, the rough lengthscale ratio) are fitted
    by maximum a posteriori with a few restarts and warm-started from the previous ask.
    Objective values are standardized and Gaussianized by a fitted Yeo-Johnson transform, so
    heavy-tailed losses do not swamp the model. The next point maximizes log expected
    improvement, found by a multi-start L-BFGS-B from the best of a Sobol pool and
    perturbations of the best trials, followed by a discrete local search.

    * **Startup**: the first ``n_startup_trials`` trials come from a scrambled Sobol sequence
      (with parallel workers, running trials count towards it once half of it finished).
    * **Pruned trials** (single objective): trials a scheduler stopped are modelled too,
      all finished trials compared at the largest step that enough of them reached, those
      that stopped earlier ranked after by step, then last value (see
      :mod:`hpopt.samplers._pruned`); the GP models the normal scores of that ranking
      (:func:`~hpopt.samplers.gp.targets.ranked_targets`). They count towards
      ``n_startup_trials``. Without pruned trials nothing changes.
    * **Spaces**: parameters present in every completed trial are sampled jointly; any other
      parameter (e.g. in a conditional branch) is drawn uniformly at random.
    * **Stalls**: once 5 trials in a row brought no improvement of the best (standardized)
      target by at least 0.01, every third ask, the first at once, asks EI for an
      improvement of at least 0.01, until one comes. Otherwise near-copies of the
      incumbent, each better by a hair, can outbid an untried region for the rest of the
      budget (a categorical branch on a plateau, as in Lasso tuning).
    * **Parallel workers**: RUNNING trials are added to the model at their posterior mean,
      floored at the best value observed (kriging believer), which removes their expected
      improvement, so concurrent asks propose different points.
    * **Several objectives**: each ask minimizes a random augmented-Chebyshev scalarization of
      the normalized objectives (ParEGO).
    * **Scale**: the fit and the posterior use at most ``max_fit_trials`` trials, the best
      third of them plus an evenly spread random sample of the rest, which bounds the cubic
      cost; a study of 1,000 trials stays well under a second per ask.

    Parameters
    ----------
    seed
        Seed of the random stream; sequential runs with the same seed are reproducible.
    n_startup_trials
        Number of finished trials (complete, or pruned with a reported value) before the
        model is used.
    max_fit_trials
        Largest number of trials the GP is fitted on.
    warp_outputs
        Whether to Gaussianize the objective values (Yeo-Johnson) before modelling.
    min_noise
        Lower bound of the noise variance (of the standardized objective).
    deterministic_objective
        Whether the objective returns the same value for the same parameters (a fixed-seed
        function or cross-validation). The noise variance is then not fitted but fixed at
        ``min_noise``, so the GP interpolates the observations. Leave it off for noisy
        objectives such as training runs with random seeds, where interpolating the noise
        overfits; with the rough kernel term the default fit already resolves the ripples
        of a deterministic function near the best points (``docs/benchmarks.md``).
    rough_kernel
        Whether the kernel has the rough term. Without it a fitted noise explains the
        small-scale structure of a rugged function away and the search stops refining near
        the best point (Ackley 5-D, 64 trials: score 68 without it, 83 with it).

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, n_startup_trials=3))
    >>> study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=6)
    >>> len(study.trials)
    6
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        max_fit_trials: int = 300,
        warp_outputs: bool = True,
        min_noise: float = 1e-6,
        deterministic_objective: bool = False,
        rough_kernel: bool = True,
    ) -> None:
        if n_startup_trials < 1:
            raise ValueError(f"n_startup_trials must be >= 1, got {n_startup_trials}")
        if max_fit_trials < 10:
            raise ValueError(f"max_fit_trials must be >= 10, got {max_fit_trials}")
        if not min_noise > 0:
            raise ValueError(f"min_noise must be > 0, got {min_noise}")
        self._n_startup = n_startup_trials
        self._max_fit = max_fit_trials
        self._warp = warp_outputs
        self._min_noise = min_noise
        self._fit_noise = not deterministic_objective
        self._rough = rough_kernel
        self._lock = threading.RLock()
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._sobol: Array | None = None
        self._sobol_dims: dict[str, int] = {}
        self._theta: dict[tuple[Any, ...], Array] = {}
        self._proposals: dict[int, dict[str, Any]] = {}
        self._n_fits = 0

    # ------------------------------------------------------------------ sampler interface
    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        trials = modelled_trials(view)
        if self._in_startup(view, trial, len(trials)):
            return {}
        return intersection_search_space(trials)

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock, _single_threaded_blas():
            params = self._propose(view, search_space)
            self._proposals[trial.number] = params
            return params

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        with self._lock:
            if self._in_startup(view, trial, len(modelled_trials(view))):
                u = self._sobol_coordinate(trial.number, name)
            else:
                u = float(self._rng.random())
            return distribution.from_unit(u)

    # ------------------------------------------------------------------ internals
    def _in_startup(self, view: StudyView, trial: Trial, n_finished: int) -> bool:
        """Whether ``trial`` is a startup (Sobol) trial.

        Startup ends once ``n_startup_trials`` trials were asked before this one (finished or
        still running), at least half of them finished: sequentially that is after
        ``n_startup_trials`` finished trials; with k workers the model starts at the same
        trial number instead of k - 1 trials later, with k - 1 of them as fantasies.
        """
        if n_finished < max(1, self._n_startup // 2):
            return True
        others = sum(1 for t in view.running() if t.number != trial.number)
        return n_finished + others < self._n_startup

    def _sobol_coordinate(self, index: int, name: str) -> float:
        dim = self._sobol_dims.setdefault(name, len(self._sobol_dims))
        if dim >= _SOBOL_DIMS:
            return float(self._rng.random())
        if self._sobol is None or index >= len(self._sobol):
            from scipy.stats import qmc

            n = 1 << max(6, int(index).bit_length() + 1)
            self._sobol = qmc.Sobol(_SOBOL_DIMS, scramble=True, seed=self._seed).random(n)
        return float(self._sobol[index, dim])

    def _propose(self, view: StudyView, space: Mapping[str, Distribution]) -> dict[str, Any]:
        enc = SpaceEncoding(space)
        trials = modelled_trials(view)
        x = np.array([enc.encode(t.params) for t in trials])
        tried = x
        targets = self._targets(view, trials, len(space))
        y = targets(np.arange(len(trials)))
        margin = self._margin(y)
        if len(y) > self._max_fit:
            keep = self._subset(y)
            x, y = x[keep], targets(keep)

        key = tuple((n, d) for n, d in space.items())
        warm = self._theta.get(key)
        if warm is None:
            restarts = _COLD_RESTARTS
        else:
            restarts = 1 if self._n_fits % _RESTART_EVERY == 0 else 0
        self._n_fits += 1
        model = fit_gp(
            x,
            y,
            enc.is_cat,
            rng=self._rng,
            warm_start=warm,
            n_restarts=restarts,
            min_noise=self._min_noise,
            fit_noise=self._fit_noise,
            rough=self._rough,
        )
        self._theta[key] = model.theta

        pending = self._pending_rows(view, enc)
        model = model.with_fantasies(pending)
        order = np.argsort(y)
        # Fantasies are floored at the best real value, so it stays the incumbent.
        incumbent = float(model.y.min())
        best_row = optimize_log_ei(
            model,
            enc,
            incumbent - margin,
            x[order[:_N_INCUMBENTS]],
            self._rng,
            exclude=np.vstack([tried, pending]),
        )
        return enc.decode(best_row)

    def _margin(self, y: Array) -> float:
        """The improvement EI asks for: 0, or ``_STALL_MARGIN`` on every ``_STALL_PERIOD``-th
        ask once the last ``_STALL_WINDOW`` trials (in trial order) brought no improvement of
        the best target by at least that much."""
        if len(y) < self._n_startup + _STALL_WINDOW:
            return 0.0
        best_before = np.minimum.accumulate(y)[:-1]
        improved = np.flatnonzero(y[1:] <= best_before - _STALL_MARGIN)
        stall = len(y) - 2 - int(improved[-1]) if len(improved) else len(y) - 1
        if stall >= _STALL_WINDOW and (stall - _STALL_WINDOW) % _STALL_PERIOD == 0:
            return _STALL_MARGIN
        return 0.0

    def _targets(
        self, view: StudyView, trials: list[FrozenTrial], n_params: int
    ) -> Callable[[NDArray[np.intp]], Array]:
        """The GP targets of a subset of ``trials`` (rows), smaller is better."""
        signs = np.array(view.signs)
        complete = [i for i, t in enumerate(trials) if t.state is TrialState.COMPLETE]
        if len(complete) == len(trials):
            values = np.array([t.values for t in trials], dtype=float) * signs
            raw = values[:, 0] if values.shape[1] == 1 else scalarize(values, self._rng)
            return lambda rows: warp_targets(raw[rows], warp=self._warp)
        # Single objective with pruned trials (see modelled_trials): rank them all together.
        curves = [curve(t, float(signs[0])) for t in trials]
        n_min = max(n_params + 2, math.ceil(len(trials) * COMMON_FRACTION))
        steps, values = compare_at(curves, n_min)

        def ranked(rows: NDArray[np.intp]) -> Array:
            return ranked_targets(steps[rows], values[rows])

        return ranked

    def _subset(self, y: Array) -> NDArray[np.intp]:
        """Indices of the best third of ``max_fit_trials`` plus a random spread of the rest."""
        n_best = self._max_fit // 3
        order = np.argsort(y)
        rest = order[n_best:]
        spread = self._rng.choice(rest, size=self._max_fit - n_best, replace=False)
        return np.sort(np.concatenate([order[:n_best], spread]))

    def _pending_rows(self, view: StudyView, enc: SpaceEncoding) -> Array:
        rows = []
        running = view.running()
        live = {t.number for t in running}
        for number in [n for n in self._proposals if n not in live]:
            del self._proposals[number]
        for t in running:
            params: Mapping[str, Any] = t.params
            if not all(n in params for n in enc.names):
                params = self._proposals.get(t.number, {})
            if all(n in params for n in enc.names) and all(
                d.contains(params[n]) for n, d in zip(enc.names, enc.dists)
            ):
                rows.append(enc.encode(params))
        return np.array(rows) if rows else np.empty((0, enc.dim))
