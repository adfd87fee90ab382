from __future__ import annotations

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import hpopt  # noqa: E402
from hpopt.integrations.sklearn import SearchCV  # noqa: E402


def _logreg_search(**kw: object) -> SearchCV:
    return SearchCV(
        LogisticRegression(max_iter=200),
        {"C": hpopt.Float(1e-2, 1e2, log=True)},
        n_trials=3,
        cv=3,
        random_state=0,
        **kw,  # type: ignore[arg-type]
    )


def _ridge_search() -> SearchCV:
    return SearchCV(
        Ridge(), {"alpha": hpopt.Float(1e-3, 10.0, log=True)}, n_trials=3, cv=3, random_state=0
    )


@parametrize_with_checks([_logreg_search(), _ridge_search()])
def test_sklearn_estimator_checks(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def test_fitted_attributes_match_sklearn_conventions() -> None:
    X, y = load_iris(return_X_y=True)
    search = SearchCV(
        make_pipeline(StandardScaler(), SVC()),
        {
            "svc__C": hpopt.Float(1e-2, 1e3, log=True),
            "svc__kernel": hpopt.Categorical(["rbf", "linear"]),
        },
        n_trials=8,
        cv=StratifiedKFold(4, shuffle=True, random_state=0),
        random_state=1,
    ).fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 8
    for key in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split3_test_score",
        "mean_fit_time",
        "param_svc__C",
    ):
        assert len(res[key]) == 8, key
    # The best score is the best mean over the folds, and rank 1 points at it.
    best = int(np.argmax(res["mean_test_score"]))
    assert search.best_index_ == best
    assert res["rank_test_score"][best] == 1
    assert search.best_score_ == pytest.approx(res["mean_test_score"][best])
    assert search.best_params_ == res["params"][best]
    # Refit and delegation.
    assert search.best_estimator_.get_params()["svc__C"] == search.best_params_["svc__C"]
    assert list(search.classes_) == [0, 1, 2]
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    assert not hasattr(search, "predict_proba")  # SVC without probability=True has none


def test_scores_agree_with_grid_search_on_the_same_points() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    Cs = [0.01, 0.1, 1.0]
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    ours = SearchCV(
        est,
        {"logisticregression__C": hpopt.Categorical(Cs)},
        n_trials=3,
        cv=3,
        sampler=hpopt.GridSampler({"logisticregression__C": Cs}),
        random_state=0,
    )
    ours.fit(X, y)
    ref = GridSearchCV(est, {"logisticregression__C": Cs}, cv=3).fit(X, y)
    got = {
        p["logisticregression__C"]: s
        for p, s in zip(ours.cv_results_["params"], ours.cv_results_["mean_test_score"])
    }
    want = {
        p["logisticregression__C"]: s
        for p, s in zip(ref.cv_results_["params"], ref.cv_results_["mean_test_score"])
    }
    assert got == pytest.approx(want)
    assert ours.best_params_ == ref.best_params_


def test_regression_with_scoring_and_no_refit() -> None:
    X, y = load_diabetes(return_X_y=True)
    search = SearchCV(
        Ridge(),
        {"alpha": hpopt.Float(1e-3, 1e2, log=True)},
        n_trials=6,
        cv=3,
        scoring="neg_mean_squared_error",
        refit=False,
        random_state=0,
    ).fit(X, y)
    assert search.best_score_ < 0  # negative MSE, maximized
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError, match="refit"):
        search.predict(X)


def test_failing_fits_get_error_score_and_the_search_goes_on() -> None:
    X, y = load_iris(return_X_y=True)
    # liblinear does not support the elasticnet penalty: those fits fail.
    search = SearchCV(
        LogisticRegression(max_iter=200),
        {
            "solver": hpopt.Categorical(["lbfgs", "liblinear"]),
            "penalty": hpopt.Categorical(["l2", "elasticnet"]),
        },
        n_trials=12,
        cv=3,
        random_state=0,
    ).fit(X, y)
    states = set(search.cv_results_["state"])
    assert "FAIL" in states and "COMPLETE" in states
    assert search.best_params_["penalty"] == "l2"
    with pytest.raises(ValueError):
        SearchCV(
            LogisticRegression(),
            {"penalty": hpopt.Categorical(["elasticnet"])},
            n_trials=2,
            cv=3,
            error_score="raise",
        ).fit(X, y)


def test_same_random_state_same_search() -> None:
    X, y = load_iris(return_X_y=True)
    a = _logreg_search().fit(X, y).cv_results_["params"]
    b = _logreg_search().fit(X, y).cv_results_["params"]
    assert a == b


def test_invalid_space_is_reported_with_the_parameter_name() -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="'C'"):
        SearchCV(
            LogisticRegression(), {"C": {"type": "float", "low": 1.0, "high": 0.1}}, n_trials=2
        ).fit(X, y)
