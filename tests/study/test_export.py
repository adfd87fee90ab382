"""JSON and CSV export of trials (the CLI's ``export`` and the plots read these)."""

from __future__ import annotations

import csv
import io
import json

import pytest

import hpopt
from hpopt.storage import BaseStorage
from hpopt.study.export import export_trials, study_to_dict, trials_to_csv, trials_to_json
from hpopt.trial.state import TrialState


def _multi_objective_study(storage: BaseStorage) -> hpopt.Study:
    study = hpopt.create_study(
        storage=storage, study_name="mo", directions=["minimize", "maximize"]
    )
    study.set_user_attr("note", {"why": "test", "nan": float("nan")})
    trial = study.ask()
    trial.suggest_categorical("act", ["relu", None, True, 3])
    trial.set_user_attr("curve", [1.0, float("inf"), 2])
    study.tell(trial, [1.5, 2.5])
    study.tell(study.ask(), state=TrialState.FAIL, error="RuntimeError: x")
    return study


def test_json_is_strict_and_keeps_structure(storage: BaseStorage) -> None:
    study = _multi_objective_study(storage)
    doc = json.loads(trials_to_json(study), parse_constant=lambda c: pytest.fail(c))
    assert doc["directions"] == ["minimize", "maximize"]
    assert doc["user_attrs"] == {"note": {"why": "test", "nan": None}}
    first, second = doc["trials"]
    assert first["values"] == [1.5, 2.5]
    assert first["params"] == {"act": study.trials[0].params["act"]}
    assert first["distributions"]["act"] == {
        "type": "categorical",
        "choices": ["relu", None, True, 3],
    }
    assert first["user_attrs"] == {"curve": [1.0, None, 2]}
    assert second["values"] is None and second["error"] == "RuntimeError: x"
    assert doc == study_to_dict(study)
    assert export_trials(study, "json") == trials_to_json(study) + "\n"


def test_csv_columns_for_several_objectives(storage: BaseStorage) -> None:
    study = _multi_objective_study(storage)
    rows = list(csv.DictReader(io.StringIO(trials_to_csv(study))))
    assert [r["values_0"] for r in rows] == ["1.5", ""]
    assert [r["values_1"] for r in rows] == ["2.5", ""]
    assert json.loads(rows[0]["user_attrs_curve"]) == [1.0, None, 2]
    assert rows[1]["error"] == "RuntimeError: x"
    assert export_trials(study, "csv") == trials_to_csv(study)


def test_csv_and_dataframe_share_the_column_order(storage: BaseStorage) -> None:
    pytest.importorskip("pandas")
    study = hpopt.create_study(storage=storage, sampler=hpopt.RandomSampler(seed=0))
    for i in range(6):
        trial = study.ask()
        trial.set_user_attr("i", i)
        if trial.suggest_categorical("branch", ["a", "b"]) == "a":
            trial.suggest_float("only_a", 0.0, 1.0)
        else:
            trial.suggest_int("only_b", 0, 3)
        study.tell(trial, float(i))
    header = next(csv.reader(io.StringIO(trials_to_csv(study))))
    assert list(study.trials_dataframe().columns) == header
    params = [c for c in header if c.startswith("params_")]
    assert set(params) == {"params_branch", "params_only_a", "params_only_b"}
    assert header.index(params[-1]) < header.index("user_attrs_i")


def test_unknown_format_is_a_value_error(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage)
    with pytest.raises(ValueError, match="unsupported export format 'xlsx'"):
        export_trials(study, "xlsx")


def test_an_empty_study_exports_the_fixed_header(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage, study_name="none")
    assert json.loads(trials_to_json(study))["trials"] == []
    header = "number,state,value,datetime_start,datetime_complete,duration_s\n"
    assert trials_to_csv(study) == header
