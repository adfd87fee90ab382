"""Export of a study's trials: flat rows (pandas, CSV) and a nested JSON document.

The CLI's ``hpopt export`` and the plotting functions read trials through these helpers, so
a table, a CSV file and a JSON file always agree on names and values.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    import pandas as pd

    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = [
    "EXPORT_FORMATS",
    "export_trials",
    "study_to_dict",
    "trial_columns",
    "trial_rows",
    "trial_to_dict",
    "trials_dataframe",
    "trials_to_csv",
    "trials_to_json",
]

#: File formats of :func:`export_trials` and ``hpopt export``.
EXPORT_FORMATS = ("csv", "json")


def _value_columns(n_objectives: int) -> list[str]:
    return ["value"] if n_objectives == 1 else [f"values_{i}" for i in range(n_objectives)]


def trial_rows(trials: list[FrozenTrial], n_objectives: int) -> list[dict[str, Any]]:
    """One flat dict per trial: number, state, value(s), times, params_*, user_attrs_*."""
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.name}
        for i, name in enumerate(_value_columns(n_objectives)):
            row[name] = t.values[i] if t.values else None
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        row["duration_s"] = t.duration.total_seconds() if t.duration is not None else None
        for k, v in t.params.items():
            row[f"params_{k}"] = v
        for k, v in t.user_attrs.items():
            row[f"user_attrs_{k}"] = v
        if t.error is not None:
            row["error"] = t.error.strip().splitlines()[-1] if t.error.strip() else t.error
        rows.append(row)
    return rows


def trial_columns(rows: list[dict[str, Any]], n_objectives: int) -> list[str]:
    """The columns of :func:`trial_rows`: fixed ones, then params_*, user_attrs_*, error.

    Conditional parameters appear in some rows only; each group keeps first-seen order.
    The fixed columns are there even without rows.
    """
    fixed = ["number", "state", *_value_columns(n_objectives)]
    fixed += ["datetime_start", "datetime_complete", "duration_s"]
    seen: dict[str, None] = dict.fromkeys(fixed)
    for row in rows:
        seen.update(dict.fromkeys(row))

    def group(name: str) -> int:
        if name.startswith("params_"):
            return 1
        if name.startswith("user_attrs_"):
            return 2
        return 3 if name == "error" else 0

    return sorted(seen, key=group)  # stable: first-seen order within a group


def trials_dataframe(study: Study, states: Container[TrialState] | None = None) -> pd.DataFrame:
    """The study's trials as a pandas DataFrame (pandas is imported here, lazily)."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("trials_dataframe needs pandas: pip install 'hpopt[pandas]'") from e
    n_objectives = len(study.directions)
    rows = trial_rows(study.get_trials(states), n_objectives)
    return pd.DataFrame(rows, columns=trial_columns(rows, n_objectives))


def _jsonable(value: Any) -> Any:
    """``value`` as strict JSON data: ISO datetimes, lists for tuples, ``None`` for NaN/inf."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _jsonable(item())
    return str(value)


def trial_to_dict(trial: FrozenTrial) -> dict[str, Any]:
    """One trial as strict JSON data, nested (params, distributions, reports, attributes).

    Intermediate values are keyed by step as a string (JSON keys are strings); non-finite
    numbers become ``null``; the error keeps its full traceback.
    """
    return {
        "number": trial.number,
        "state": trial.state.name,
        "values": _jsonable(trial.values),
        "params": _jsonable(trial.params),
        "distributions": {k: _jsonable(d.to_json()) for k, d in trial.distributions.items()},
        "intermediate_values": _jsonable(trial.intermediate_values),
        "user_attrs": _jsonable(trial.user_attrs),
        "datetime_start": _jsonable(trial.datetime_start),
        "datetime_complete": _jsonable(trial.datetime_complete),
        "duration_s": trial.duration.total_seconds() if trial.duration is not None else None,
        "error": trial.error,
    }


def study_to_dict(study: Study, states: Container[TrialState] | None = None) -> dict[str, Any]:
    """The study (name, directions, attributes) and its trials as strict JSON data."""
    return {
        "study_name": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "user_attrs": _jsonable(study.user_attrs),
        "trials": [trial_to_dict(t) for t in study.get_trials(states)],
    }


def trials_to_json(
    study: Study, states: Container[TrialState] | None = None, *, indent: int | None = 2
) -> str:
    """The study as a JSON document (see :func:`study_to_dict`)."""
    return json.dumps(study_to_dict(study, states), indent=indent, allow_nan=False)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(_jsonable(value))
    return value


def trials_to_csv(study: Study, states: Container[TrialState] | None = None) -> str:
    """The trials as CSV, one row per trial, with the columns of :func:`trial_rows`.

    Missing cells (a conditional parameter a trial did not use) are empty; datetimes are
    ISO 8601; list- or dict-valued attributes are written as JSON.
    """
    n_objectives = len(study.directions)
    rows = trial_rows(study.get_trials(states), n_objectives)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=trial_columns(rows, n_objectives), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return out.getvalue()


def export_trials(study: Study, fmt: str, states: Container[TrialState] | None = None) -> str:
    """The trials as text in ``fmt`` (one of :data:`EXPORT_FORMATS`).

    Raises
    ------
    ValueError
        If ``fmt`` is not a supported format.
    """
    if fmt == "csv":
        return trials_to_csv(study, states)
    if fmt == "json":
        return trials_to_json(study, states) + "\n"
    raise ValueError(f"unsupported export format {fmt!r}; choose one of {EXPORT_FORMATS}")
