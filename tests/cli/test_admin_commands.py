"""``hpopt reap``, ``hpopt copy`` and ``hpopt storage upgrade`` on real SQLite files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import hpopt
from hpopt.cli import cli
from hpopt.exceptions import SchemaVersionError
from hpopt.storage.sql import SQLStorage

FIXTURES = Path(__file__).resolve().parents[1] / "storage" / "fixtures"


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_storage_upgrade_makes_an_old_database_usable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema_v1.db", path)
    url = f"sqlite:///{path}"
    with pytest.raises(SchemaVersionError):
        SQLStorage(url)
    out = _run("storage", "upgrade", "--storage", url)
    assert "upgraded from" in out
    SQLStorage(url).close()  # opens now
    assert "already at" in _run("storage", "upgrade", "--storage", url)


def test_reap_fails_a_trial_whose_worker_stopped_beating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = hpopt.create_study(storage=url, study_name="s", heartbeat_interval=60)
    trial = study.ask()  # its first heartbeat is written with the trial
    trial.suggest_float("x", 0, 1)
    study._heartbeat.stop(trial.trial_id)  # type: ignore[union-attr]  # the worker "dies"
    assert "no stale trials" in _run("reap", "--storage", url, "--study", "s", "--grace", "3600")
    out = _run("reap", "--storage", url, "--study", "s", "--grace", "0")
    assert "marked 1 stale trial(s) FAIL: 0" in out
    record = hpopt.load_study(study_name="s", storage=url).trials[0]
    assert record.state is hpopt.TrialState.FAIL
    assert "heartbeat" in (record.error or "")


def test_copy_moves_a_study_between_storages(tmp_path: Path) -> None:
    src, dst = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    study = hpopt.create_study(storage=src, study_name="orig", sampler=hpopt.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=5, show_progress_bar=False)
    _run("copy", "--from-storage", src, "--study", "orig", "--to-storage", dst, "--to-study", "c")
    copied = hpopt.load_study(study_name="c", storage=dst)
    assert [t.params for t in copied.trials] == [t.params for t in study.trials]
    assert [t.values for t in copied.trials] == [t.values for t in study.trials]


def test_reap_of_a_missing_study_is_one_clear_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(cli, ["reap", "--storage", url, "--study", "nope"])
    assert result.exit_code != 0
    assert "nope" in result.output and "Traceback" not in result.output
