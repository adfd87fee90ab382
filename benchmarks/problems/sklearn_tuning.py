"""scikit-learn tuning problems in the style of Bayesmark (NeurIPS 2020 BBO challenge).

Search spaces follow Bayesmark's ``sklearn_funcs.py``; its "logit" scale becomes a linear
float here (hpopt has no logit scale). Each dataset is split once 80/20 with
``random_state=0``; the loss is 3-fold cross-validation on the 80 %: negative accuracy for
classification, mean squared error for regression (``diabetes``). Every model that takes a
``random_state`` gets 0, so an evaluation is deterministic.

Differences from Bayesmark, all to fit today's scikit-learn or a 2-core budget: MLPs stop
after ``max_iter=10`` epochs; ``SVC`` drops ``probability=True`` (only needed for log-loss);
the lasso/linear classifiers are ``OneVsRestClassifier(LogisticRegression(liblinear))``
(Bayesmark's ``multi_class="ovr"``, removed from scikit-learn); ``normalize`` is gone from
``Lasso``/``Ridge``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from benchmarks.problems.base import Problem
from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["CLASSIFICATION_DATASETS", "MODELS", "REGRESSION_DATASETS", "SKLEARN_PROBLEMS"]

CLASSIFICATION_DATASETS = ("digits", "wine", "breast", "iris")
REGRESSION_DATASETS = ("diabetes",)
_CV_FOLDS = 3
_MLP_MAX_ITER = 10


def _log(low: float, high: float) -> Float:
    return Float(low, high, log=True)


_BOOL = Categorical((True, False))

_KNN: dict[str, Distribution] = {"n_neighbors": Int(1, 25), "p": Int(1, 4)}
_SVM: dict[str, Distribution] = {
    "C": _log(1.0, 1e3),
    "gamma": _log(1e-4, 1e-3),
    "tol": _log(1e-5, 1e-1),
}
_TREE: dict[str, Distribution] = {
    "max_depth": Int(1, 15),
    "min_samples_split": Float(0.01, 0.99),
    "min_samples_leaf": Float(0.01, 0.49),
    "min_weight_fraction_leaf": Float(0.01, 0.49),
    "max_features": Float(0.01, 0.99),
    "min_impurity_decrease": Float(0.0, 0.5),
}
_MLP_COMMON: dict[str, Distribution] = {
    "hidden_layer_sizes": Int(50, 200),
    "alpha": _log(1e-5, 1e1),
    "batch_size": Int(10, 250),
    "learning_rate_init": _log(1e-5, 1e-1),
    "tol": _log(1e-5, 1e-1),
    "validation_fraction": Float(0.1, 0.9),
}
_MLP_ADAM: dict[str, Distribution] = {
    **_MLP_COMMON,
    "beta_1": Float(0.5, 0.99),
    "beta_2": Float(0.9, 1.0 - 1e-6),
    "epsilon": _log(1e-9, 1e-6),
}
_MLP_SGD: dict[str, Distribution] = {
    **_MLP_COMMON,
    "power_t": Float(0.1, 0.9),
    "momentum": Float(0.001, 0.999),
}
_ADA: dict[str, Distribution] = {"n_estimators": Int(10, 100), "learning_rate": _log(1e-4, 1e1)}
_LOGISTIC: dict[str, Distribution] = {"C": _log(1e-2, 1e2), "intercept_scaling": _log(1e-2, 1e2)}
_LASSO_REG: dict[str, Distribution] = {
    "alpha": _log(1e-2, 1e2),
    "fit_intercept": _BOOL,
    "max_iter": Int(10, 5000, log=True),
    "tol": _log(1e-5, 1e-1),
    "positive": _BOOL,
}
_RIDGE_REG: dict[str, Distribution] = {
    "alpha": _log(1e-2, 1e2),
    "fit_intercept": _BOOL,
    "max_iter": Int(10, 5000, log=True),
    "tol": _log(1e-4, 1e-1),
}

Estimator = Any
Builder = Callable[[dict[str, Any]], Estimator]


def _mlp_params(params: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    out = dict(params, **fixed, early_stopping=True, max_iter=_MLP_MAX_ITER)
    out["hidden_layer_sizes"] = (int(params["hidden_layer_sizes"]),)
    return out


def _classifier(model: str) -> Builder:
    from sklearn import ensemble, linear_model, multiclass, neighbors, neural_network, svm, tree

    def logistic(l1_ratio: float) -> Builder:
        return lambda p: multiclass.OneVsRestClassifier(
            linear_model.LogisticRegression(
                **p, l1_ratio=l1_ratio, solver="liblinear", random_state=0
            )
        )

    builders: dict[str, Builder] = {
        "kNN": lambda p: neighbors.KNeighborsClassifier(**p),
        "SVM": lambda p: svm.SVC(**p, kernel="rbf", random_state=0),
        "DT": lambda p: tree.DecisionTreeClassifier(**p, random_state=0),
        "RF": lambda p: ensemble.RandomForestClassifier(**p, n_estimators=10, random_state=0),
        "MLP-adam": lambda p: neural_network.MLPClassifier(
            **_mlp_params(p, solver="adam"), random_state=0
        ),
        "MLP-sgd": lambda p: neural_network.MLPClassifier(
            **_mlp_params(p, solver="sgd", learning_rate="invscaling", nesterovs_momentum=True),
            random_state=0,
        ),
        "ada": lambda p: ensemble.AdaBoostClassifier(**p, random_state=0),
        "lasso": logistic(1.0),
        "linear": logistic(0.0),
    }
    return builders[model]


def _regressor(model: str) -> Builder:
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm, tree

    builders: dict[str, Builder] = {
        "kNN": lambda p: neighbors.KNeighborsRegressor(**p),
        "SVM": lambda p: svm.SVR(**p, kernel="rbf"),
        "DT": lambda p: tree.DecisionTreeRegressor(**p, random_state=0),
        "RF": lambda p: ensemble.RandomForestRegressor(**p, n_estimators=10, random_state=0),
        "MLP-adam": lambda p: neural_network.MLPRegressor(
            **_mlp_params(p, solver="adam"), random_state=0
        ),
        "MLP-sgd": lambda p: neural_network.MLPRegressor(
            **_mlp_params(
                p,
                activation="tanh",
                solver="sgd",
                learning_rate="invscaling",
                nesterovs_momentum=True,
            ),
            random_state=0,
        ),
        "ada": lambda p: ensemble.AdaBoostRegressor(**p, random_state=0),
        "lasso": lambda p: linear_model.Lasso(**p, random_state=0),
        "linear": lambda p: linear_model.Ridge(**p, solver="auto", random_state=0),
    }
    return builders[model]


#: Model name -> (classification space, regression space), as in Bayesmark.
MODELS: dict[str, tuple[dict[str, Distribution], dict[str, Distribution]]] = {
    "kNN": (_KNN, _KNN),
    "SVM": (_SVM, _SVM),
    "DT": (_TREE, _TREE),
    "RF": (_TREE, _TREE),
    "MLP-adam": (_MLP_ADAM, _MLP_ADAM),
    "MLP-sgd": (_MLP_SGD, _MLP_SGD),
    "ada": (_ADA, _ADA),
    "lasso": (_LOGISTIC, _LASSO_REG),
    "linear": (_LOGISTIC, _RIDGE_REG),
}


@functools.cache
def _train_split(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The 80 % training part of a bundled dataset (loaded once per process)."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loaders = {
        "digits": datasets.load_digits,
        "wine": datasets.load_wine,
        "breast": datasets.load_breast_cancer,
        "iris": datasets.load_iris,
        "diabetes": datasets.load_diabetes,
    }
    x, y = loaders[dataset](return_X_y=True)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=0, shuffle=True)
    return np.asarray(x_train, dtype=float), np.asarray(y_train)


def _cv_loss(model: str, dataset: str, params: Mapping[str, Any]) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import cross_val_score

    x, y = _train_split(dataset)
    regression = dataset in REGRESSION_DATASETS
    build = _regressor(model) if regression else _classifier(model)
    estimator = build(dict(params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = cross_val_score(
            estimator,
            x,
            y,
            cv=_CV_FOLDS,
            scoring="neg_mean_squared_error" if regression else "accuracy",
            error_score=np.nan,
        )
    loss = -float(np.mean(scores))
    if not regression:
        return loss if np.isfinite(loss) else 0.0  # a failed fit counts as accuracy 0
    # Diverging regressors: cap at 10x the loss of predicting 0, so one blow-up neither
    # crashes a peer nor sets the scale of the problem.
    cap = 10.0 * float(np.mean(y.astype(float) ** 2))
    return min(loss, cap) if np.isfinite(loss) else cap


def _make(model: str, dataset: str) -> Callable[[], Problem]:
    clf_space, reg_space = MODELS[model]
    space = reg_space if dataset in REGRESSION_DATASETS else clf_space

    def build() -> Problem:
        return Problem(
            f"{model}_{dataset}",
            space,
            functools.partial(_cv_loss, model, dataset),
            None,
            kind="sklearn",
        )

    return build


SKLEARN_PROBLEMS: dict[str, Callable[[], Problem]] = {
    f"{model}_{dataset}": _make(model, dataset)
    for model in MODELS
    for dataset in CLASSIFICATION_DATASETS + REGRESSION_DATASETS
}
