"""The study commands (studies, trials, best, export, delete) over an injected storage."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import hpopt
from hpopt.cli import CLIContext, cli
from hpopt.storage import BaseStorage, InMemoryStorage
from hpopt.trial.state import TrialState

WIDE = {"COLUMNS": "200"}


def invoke(store: BaseStorage, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CLIContext(storage=store), env=WIDE, input=input)


@pytest.fixture
def store() -> InMemoryStorage:
    """A storage with study ``fit``: values 0.3, 0.1, 0.2, one PRUNED and one FAIL trial."""
    store = InMemoryStorage()
    study = hpopt.create_study(
        storage=store, study_name="fit", direction="minimize", sampler=hpopt.RandomSampler(seed=0)
    )
    for value in [0.3, 0.1, 0.2]:
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        if trial.suggest_categorical("kind", ["a", "b"]) == "b":
            trial.suggest_int("n_b", 1, 5)  # a conditional parameter
        trial.set_user_attr("tag", f"t{value}")
        study.tell(trial, value)
    pruned = study.ask()
    pruned.suggest_float("x", 0.0, 1.0)
    pruned.report(float("nan"), 0)
    pruned.report(0.9, 1)
    study.tell(pruned, state=TrialState.PRUNED)
    failed = study.ask()
    study.tell(failed, state=TrialState.FAIL, error="ValueError: boom\nTraceback ...")
    hpopt.create_study(storage=store, study_name="empty", direction="maximize")
    return store


def test_studies_lists_names_sizes_and_best(store: InMemoryStorage) -> None:
    result = invoke(store, "studies")
    assert result.exit_code == 0, result.output
    fit_line = next(line for line in result.output.splitlines() if "fit" in line)
    assert "minimize" in fit_line and " 5 " in fit_line and "0.1" in fit_line
    empty_line = next(line for line in result.output.splitlines() if "empty" in line)
    assert "maximize" in empty_line and " 0 " in empty_line


def test_studies_on_an_empty_storage() -> None:
    result = invoke(InMemoryStorage(), "studies")
    assert result.exit_code == 0
    assert result.output.strip() == "no studies"


def _trial_numbers(output: str) -> list[int]:
    numbers = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if cells and cells[0].isdigit():
            numbers.append(int(cells[0]))
    return numbers


def test_trials_lists_every_trial_with_state_and_params(store: InMemoryStorage) -> None:
    result = invoke(store, "trials", "--study", "fit")
    assert result.exit_code == 0, result.output
    assert _trial_numbers(result.output) == [0, 1, 2, 3, 4]
    for state in ("COMPLETE", "PRUNED", "FAIL"):
        assert state in result.output
    assert "kind=" in result.output and "x=" in result.output


def test_trials_filters_by_state_and_limits_to_the_last(store: InMemoryStorage) -> None:
    complete = invoke(store, "trials", "--study", "fit", "--state", "complete")
    assert _trial_numbers(complete.output) == [0, 1, 2]
    two = invoke(store, "trials", "--study", "fit", "--state", "COMPLETE", "--state", "fail")
    assert _trial_numbers(two.output) == [0, 1, 2, 4]
    last = invoke(store, "trials", "--study", "fit", "--limit", "2")
    assert _trial_numbers(last.output) == [3, 4]
    assert "(2 of 5)" in last.output


def test_best_shows_the_best_trial(store: InMemoryStorage) -> None:
    result = invoke(store, "best", "--study", "fit")
    assert result.exit_code == 0, result.output
    best = hpopt.load_study(study_name="fit", storage=store).best_trial
    assert best.number == 1
    lines = result.output.splitlines()
    assert any(
        "trial" in line and line.split("│")[2].strip() == "1" for line in lines if "│" in line
    )
    assert any("value" in line and "0.1" in line for line in lines)
    assert f"{best.params['x']:.6g}" in result.output
    assert "t0.1" in result.output  # user attributes


def test_best_of_a_multi_objective_study_is_its_pareto_front() -> None:
    store = InMemoryStorage()
    study = hpopt.create_study(storage=store, study_name="mo", directions=["minimize"] * 2)
    for values in [(1.0, 3.0), (2.0, 2.0), (3.0, 3.0)]:
        study.tell(study.ask(), values)
    result = invoke(store, "best", "--study", "mo")
    assert result.exit_code == 0, result.output
    assert "Pareto front" in result.output
    assert _trial_numbers(result.output) == [0, 1]


def test_best_without_a_completed_trial_is_a_one_line_error(store: InMemoryStorage) -> None:
    result = invoke(store, "best", "--study", "empty")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: study 'empty' has no completed trial yet"]


@pytest.mark.parametrize(
    "args",
    [
        ["trials", "--study", "nope"],
        ["best", "--study", "nope"],
        ["export", "--study", "nope"],
        ["delete", "--study", "nope", "--yes"],
    ],
)
def test_a_missing_study_is_a_one_line_error(store: InMemoryStorage, args: list[str]) -> None:
    result = invoke(store, *args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines() == ["Error: no study named 'nope'"]


def test_export_json_is_strict_json_with_iso_datetimes(store: InMemoryStorage) -> None:
    result = invoke(store, "export", "--study", "fit", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert doc["study_name"] == "fit" and doc["directions"] == ["minimize"]
    trials = doc["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3, 4]
    assert [t["state"] for t in trials] == ["COMPLETE"] * 3 + ["PRUNED", "FAIL"]
    assert [t["values"] for t in trials[:3]] == [[0.3], [0.1], [0.2]]
    assert trials[3]["intermediate_values"] == {"0": None, "1": 0.9}  # NaN -> null
    assert trials[3]["values"] == [0.9]
    assert trials[4]["error"].startswith("ValueError: boom")
    assert trials[0]["user_attrs"] == {"tag": "t0.3"}
    assert trials[0]["distributions"]["x"]["type"] == "float"
    for t in trials:
        start = dt.datetime.fromisoformat(t["datetime_start"])
        end = dt.datetime.fromisoformat(t["datetime_complete"])
        assert end >= start
        assert math.isclose(t["duration_s"], (end - start).total_seconds())


def test_export_csv_has_one_row_per_trial_and_the_union_of_columns(
    store: InMemoryStorage,
) -> None:
    result = invoke(store, "export", "--study", "fit", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    study = hpopt.load_study(study_name="fit", storage=store)
    assert [int(r["number"]) for r in rows] == [t.number for t in study.trials]
    header = list(rows[0])
    assert header[:6] == [
        "number",
        "state",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration_s",
    ]
    assert header.index("params_x") < header.index("user_attrs_tag") < header.index("error")
    for row, trial in zip(rows, study.trials):
        assert row["state"] == trial.state.name
        assert row["value"] == ("" if trial.value is None else repr(trial.value))
        assert row["params_x"] == ("" if "x" not in trial.params else repr(trial.params["x"]))
        assert row["params_n_b"] == str(trial.params.get("n_b", ""))
        assert dt.datetime.fromisoformat(row["datetime_start"]) == trial.datetime_start
    assert {r["params_kind"] for r in rows[:3]} == {"a", "b"}  # n_b is set in some rows only
    assert rows[4]["error"] == "Traceback ..."  # the last line of the stored error


def test_export_state_filter_and_output_file(store: InMemoryStorage, tmp_path: Path) -> None:
    out = tmp_path / "best.json"
    args = ["export", "--study", "fit", "--format", "json", "--state", "complete", "-o", str(out)]
    result = invoke(store, *args)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [t["number"] for t in doc["trials"]] == [0, 1, 2]


def test_export_rejects_an_unknown_format(store: InMemoryStorage) -> None:
    result = invoke(store, "export", "--study", "fit", "--format", "xml")
    assert result.exit_code == 2
    assert "'xml' is not one of 'csv', 'json'" in result.output


def test_delete_asks_first_and_yes_skips_the_question(store: InMemoryStorage) -> None:
    declined = invoke(store, "delete", "--study", "fit", input="n\n")
    assert declined.exit_code == 1 and "Delete study 'fit' and its 5 trials?" in declined.output
    assert store.get_study_id_from_name("fit") is not None
    accepted = invoke(store, "delete", "--study", "fit", input="y\n")
    assert accepted.exit_code == 0 and "deleted study 'fit'" in accepted.output
    names = [s.study_name for s in store.get_all_studies()]
    assert names == ["empty"]
    assert invoke(store, "delete", "--study", "empty", "--yes").exit_code == 0
    assert store.get_all_studies() == []


def test_demo_refuses_to_continue_a_study_of_another_kind(store: InMemoryStorage) -> None:
    result = invoke(store, "demo", "--study-name", "fit", "--n-trials", "1", "--no-progress")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: study 'fit' exists and is not a demo study (it has directions ['minimize']); "
        "choose another --study-name"
    ]
    assert len(hpopt.load_study(study_name="fit", storage=store).trials) == 5
