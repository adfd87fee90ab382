"""A drop-in hyperparameter search for scikit-learn estimators.

``SearchCV`` follows scikit-learn's conventions (parameters stored in ``__init__``, fitted
attributes ending in ``_``, ``fit`` returns ``self``) and mirrors ``GridSearchCV``'s fitted
attributes, so it slots into pipelines and model-selection code unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.validation import check_is_fitted, indexable
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "hpopt.integrations.sklearn needs scikit-learn: pip install 'hpopt[sklearn]'"
    ) from e

from hpopt.exceptions import TrialPruned
from hpopt.space.search_space import SearchSpace
from hpopt.trial.state import TrialState

__all__ = ["SearchCV"]


def _estimator_has(attr: str) -> Callable[[Any], bool]:
    """Delegate ``attr`` only when the (best) estimator has it, like GridSearchCV."""

    def check(self: SearchCV) -> bool:
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
        else:
            getattr(self.estimator, attr)
        return True

    return check


class SearchCV(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """Hyperparameter search with cross-validation, driven by an hpopt study.

    Parameters
    ----------
    estimator
        A scikit-learn estimator; its parameters named in ``space`` are searched.
    space
        A declarative search space: a dict of hpopt distributions (``hpopt.Float``,
        ``hpopt.Int``, ``hpopt.Categorical``), nested conditional branches, or a
        :class:`~hpopt.SearchSpace`. Keys are ``estimator.set_params`` names
        (``"clf__C"`` in a pipeline).
    n_trials
        Number of configurations to evaluate.
    cv
        Cross-validation splitter or number of folds (as in scikit-learn; default 5).
    scoring
        Scorer name or callable (default: the estimator's ``score``). Higher is better.
    n_jobs
        Trials evaluated at once, each in its own process (``None`` or 1: sequentially).
    pruning
        Report the running mean score after each fold and stop unpromising configurations
        early (a :class:`~hpopt.schedulers.MedianScheduler` unless ``scheduler`` is given).
    refit
        Refit the best configuration on the whole data (``best_estimator_``).
    sampler, scheduler
        hpopt sampler and scheduler (defaults: the default sampler seeded with
        ``random_state``; a median rule when ``pruning``).
    storage, study_name
        Where to keep the study (default: in memory).
    timeout
        Seconds after which no new trial starts.
    random_state
        Seed of the default sampler.
    error_score
        Score of a fold whose fit fails (``"raise"`` to propagate the error).
    return_train_score
        Also compute training scores in ``cv_results_``.

    Attributes
    ----------
    best_estimator_, best_params_, best_score_, best_index_, cv_results_, scorer_,
    n_splits_, refit_time_, study_, n_features_in_, classes_

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import hpopt
    >>> from hpopt.integrations.sklearn import SearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = SearchCV(LogisticRegression(max_iter=500), {"C": hpopt.Float(1e-2, 1e2, log=True)},
    ...                   n_trials=5, cv=3, random_state=0).fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
    """

    def __init__(
        self,
        estimator: Any,
        space: Mapping[str, Any] | SearchSpace,
        *,
        n_trials: int = 10,
        cv: Any = None,
        scoring: Any = None,
        n_jobs: int | None = None,
        pruning: bool = False,
        refit: bool = True,
        sampler: Any = None,
        scheduler: Any = None,
        storage: Any = None,
        study_name: str | None = None,
        timeout: float | None = None,
        random_state: int | None = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.pruning = pruning
        self.refit = refit
        self.sampler = sampler
        self.scheduler = scheduler
        self.storage = storage
        self.study_name = study_name
        self.timeout = timeout
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> SearchCV:
        """Search the space with cross-validation, then refit the best configuration."""
        import hpopt

        if not isinstance(self.n_trials, int) or self.n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer, got {self.n_trials!r}")
        space = SearchSpace.from_dict(self.space)
        if y is None and clone(self.estimator).__sklearn_tags__().target_tags.required:
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but the target y is None"
            )
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        scheduler = self.scheduler
        if self.pruning and scheduler is None:
            from hpopt.schedulers import MedianScheduler  # type: ignore[attr-defined]

            scheduler = MedianScheduler(n_startup_trials=3, n_warmup_steps=0)
        sampler = self.sampler
        if sampler is None:
            sampler = hpopt.samplers.default_sampler(seed=self.random_state)
        study = hpopt.create_study(
            storage=self.storage,
            study_name=self.study_name,
            direction="maximize",
            sampler=sampler,
            scheduler=scheduler,
            load_if_exists=self.study_name is not None,
        )
        objective = _CVObjective(
            estimator=self.estimator,
            X=X,
            y=y,
            splits=splits,
            scorer=scorer,
            fit_params=fit_params,
            pruning=self.pruning,
            error_score=self.error_score,
            return_train_score=self.return_train_score,
        )
        study.optimize(
            objective,
            n_trials=self.n_trials,
            timeout=self.timeout,
            n_jobs=self.n_jobs or 1,
            space=space,
            catch=() if self.error_score == "raise" else (Exception,),
            # Only when every configuration fails does the last fit error propagate.
            max_consecutive_failures=self.n_trials,
            show_progress_bar=False,
        )
        self.study_ = study
        self.scorer_ = scorer
        self.n_splits_ = len(splits)
        self.multimetric_ = False
        self.cv_results_ = _cv_results(study.trials, len(splits), self.return_train_score)
        completed = [t for t in study.trials if t.state is TrialState.COMPLETE]
        if not completed:
            errors = {t.error.splitlines()[0] for t in study.trials if t.error}
            raise ValueError(
                "every configuration failed; errors: " + "; ".join(sorted(errors))[:2000]
            )
        best = study.best_trial
        self.best_index_ = int(best.number)
        self.best_params_ = dict(best.params)
        self.best_score_ = float(best.values[0])  # type: ignore[index]
        if self.refit:
            est = clone(self.estimator).set_params(**self.best_params_)
            start = time.perf_counter()
            if y is None:
                est.fit(X, **fit_params)
            else:
                est.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = est
            if hasattr(est, "n_features_in_"):
                self.n_features_in_ = est.n_features_in_
            if hasattr(est, "feature_names_in_"):
                self.feature_names_in_ = est.feature_names_in_
        return self

    # ------------------------------------------------------------------ delegation
    def _check_refit(self, method: str) -> None:
        check_is_fitted(self)
        if not self.refit:
            raise AttributeError(f"{method} is available only when refit=True")

    @available_if(_estimator_has("predict"))  # type: ignore[untyped-decorator]
    def predict(self, X: Any) -> Any:
        """Predict with the best estimator."""
        self._check_refit("predict")
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))  # type: ignore[untyped-decorator]
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the best estimator."""
        self._check_refit("predict_proba")
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))  # type: ignore[untyped-decorator]
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities from the best estimator."""
        self._check_refit("predict_log_proba")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))  # type: ignore[untyped-decorator]
    def decision_function(self, X: Any) -> Any:
        """Decision function of the best estimator."""
        self._check_refit("decision_function")
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("transform"))  # type: ignore[untyped-decorator]
    def transform(self, X: Any) -> Any:
        """Transform with the best estimator."""
        self._check_refit("transform")
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("inverse_transform"))  # type: ignore[untyped-decorator]
    def inverse_transform(self, X: Any) -> Any:
        """Inverse transform with the best estimator."""
        self._check_refit("inverse_transform")
        return self.best_estimator_.inverse_transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Score of the best estimator with the search's scorer."""
        self._check_refit("score")
        return float(self.scorer_(self.best_estimator_, X, y))

    @property
    def classes_(self) -> Any:
        """Class labels of the best estimator."""
        self._check_refit("classes_")
        return self.best_estimator_.classes_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        sub = clone(self.estimator).__sklearn_tags__()
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = sub.classifier_tags
        tags.regressor_tags = sub.regressor_tags
        tags.target_tags = sub.target_tags
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        tags.array_api_support = sub.array_api_support
        return tags


class _CVObjective:
    """Cross-validates one configuration; picklable so trials can run in other processes."""

    def __init__(
        self,
        *,
        estimator: Any,
        X: Any,
        y: Any,
        splits: list[tuple[np.ndarray, np.ndarray]],
        scorer: Any,
        fit_params: dict[str, Any],
        pruning: bool,
        error_score: Any,
        return_train_score: bool,
    ) -> None:
        self.estimator = estimator
        self.X, self.y = X, y
        self.splits = splits
        self.scorer = scorer
        self.fit_params = fit_params
        self.pruning = pruning
        self.error_score = error_score
        self.return_train_score = return_train_score

    def __call__(self, config: dict[str, Any], trial: Any) -> float:
        from sklearn.utils._indexing import _safe_indexing

        scores: list[float] = []
        first_error: Exception | None = None
        for i, (train, test) in enumerate(self.splits):
            est = clone(self.estimator).set_params(**config)
            X_train, X_test = _safe_indexing(self.X, train), _safe_indexing(self.X, test)
            y_train = None if self.y is None else _safe_indexing(self.y, train)
            y_test = None if self.y is None else _safe_indexing(self.y, test)
            start = time.perf_counter()
            try:
                if y_train is None:
                    est.fit(X_train, **self.fit_params)
                else:
                    est.fit(X_train, y_train, **self.fit_params)
                fit_time = time.perf_counter() - start
                start = time.perf_counter()
                score = float(self.scorer(est, X_test, y_test))
                score_time = time.perf_counter() - start
                train_score = (
                    float(self.scorer(est, X_train, y_train)) if self.return_train_score else None
                )
            except Exception as e:
                if self.error_score == "raise":
                    raise
                first_error = first_error or e
                fit_time, score_time = time.perf_counter() - start, 0.0
                score = float(self.error_score)
                train_score = float(self.error_score) if self.return_train_score else None
            scores.append(score)
            trial.set_user_attr(f"split{i}_test_score", score)
            trial.set_user_attr(f"split{i}_fit_time", fit_time)
            trial.set_user_attr(f"split{i}_score_time", score_time)
            if train_score is not None:
                trial.set_user_attr(f"split{i}_train_score", train_score)
            if self.pruning and i < len(self.splits) - 1:
                trial.report(float(np.mean(scores)), step=i)
                if trial.should_prune():
                    raise TrialPruned()
        mean = float(np.mean(scores))
        if not np.isfinite(mean):
            if first_error is not None:
                raise first_error
            raise ValueError(f"cross-validation score is {mean}")
        return mean


def _cv_results(trials: list[Any], n_splits: int, train: bool) -> dict[str, Any]:
    """``cv_results_`` in scikit-learn's layout (one entry per trial; missing folds = NaN)."""
    n = len(trials)
    names: list[str] = []
    for t in trials:
        for k in t.params:
            if k not in names:
                names.append(k)
    results: dict[str, Any] = {}
    for k in names:
        col = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, t in enumerate(trials):
            if k in t.params:
                col[i] = t.params[k]
        results[f"param_{k}"] = col
    results["params"] = [dict(t.params) for t in trials]
    kinds = ["test"] + (["train"] if train else [])
    for kind in kinds:
        splits = np.full((n, n_splits), np.nan)
        for i, t in enumerate(trials):
            for s in range(n_splits):
                v = t.user_attrs.get(f"split{s}_{kind}_score")
                if v is not None:
                    splits[i, s] = v
        for s in range(n_splits):
            results[f"split{s}_{kind}_score"] = splits[:, s]
        mean = splits.mean(axis=1)  # NaN for trials pruned before their last fold
        results[f"mean_{kind}_score"] = mean
        results[f"std_{kind}_score"] = splits.std(axis=1)
        if kind == "test":
            order = np.where(np.isnan(mean), -np.inf, mean)
            ranks = np.empty(n, dtype=np.int32)
            ranks[np.argsort(-order, kind="stable")] = np.arange(1, n + 1)
            results["rank_test_score"] = ranks
    for what in ("fit", "score"):
        times = np.full((n, n_splits), np.nan)
        for i, t in enumerate(trials):
            for s in range(n_splits):
                v = t.user_attrs.get(f"split{s}_{what}_time")
                if v is not None:
                    times[i, s] = v
        with np.errstate(all="ignore"):
            results[f"mean_{what}_time"] = np.nanmean(times, axis=1) if n else np.array([])
            results[f"std_{what}_time"] = np.nanstd(times, axis=1) if n else np.array([])
    results["state"] = np.array([t.state.name for t in trials])
    return results
