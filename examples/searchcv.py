"""``SearchCV``: a drop-in replacement for scikit-learn's GridSearchCV / RandomizedSearchCV.

Run:  python examples/searchcv.py [--n-trials 30]
"""

from __future__ import annotations

import argparse

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

import hpopt
from hpopt.integrations.sklearn import SearchCV

SPACE = {
    "learning_rate": hpopt.Float(1e-3, 0.5, log=True),
    "n_estimators": hpopt.Int(20, 200, log=True),
    "max_depth": hpopt.Int(1, 6),
    "subsample": hpopt.Float(0.5, 1.0),
}


def main(n_trials: int) -> SearchCV:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    search = SearchCV(
        GradientBoostingClassifier(random_state=0),
        SPACE,
        n_trials=n_trials,
        cv=3,
        pruning=True,
        random_state=0,
    )
    search.fit(X_train, y_train)
    print(f"best CV accuracy {search.best_score_:.4f} with {search.best_params_}")
    print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.4f}")
    return search


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=30)
    main(parser.parse_args().n_trials)
