"""``hpopt demo`` in-process, writing into an injected storage."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import hpopt
from hpopt.cli import CLIContext, cli
from hpopt.storage import InMemoryStorage
from hpopt.trial.state import TrialState

pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_demo_stores_its_study_where_it_is_told_and_reports_it() -> None:
    store = InMemoryStorage()
    args = [
        "demo",
        "--n-trials",
        "2",
        "--epochs",
        "2",
        "--study-name",
        "d",
        "--no-progress",
        "--no-pruning",
    ]
    result = CliRunner().invoke(cli, args, obj=CLIContext(storage=store), env={"COLUMNS": "150"})
    assert result.exit_code == 0, result.output
    study = hpopt.load_study(study_name="d", storage=store)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert re.search(rf"│ best trial\s+│ {study.best_trial.number}\s", result.output)
    assert re.search(rf"│ validation accuracy\s+│ {study.best_value:.4f}\s", result.output)
    assert "InMemoryStorage (given by the caller)" in result.output
    assert "2 complete" in result.output
    assert "hpopt trials" not in result.output  # no URL to point at
