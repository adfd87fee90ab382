"""Tabular export of a study's trials."""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING, Any

from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    import pandas as pd

    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = ["trial_rows", "trials_dataframe"]


def trial_rows(trials: list[FrozenTrial], n_objectives: int) -> list[dict[str, Any]]:
    """One flat dict per trial: number, state, value(s), times, params_*, user_attrs_*."""
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.name}
        if n_objectives == 1:
            row["value"] = t.values[0] if t.values else None
        else:
            for i in range(n_objectives):
                row[f"values_{i}"] = t.values[i] if t.values else None
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


def trials_dataframe(study: Study, states: Container[TrialState] | None = None) -> pd.DataFrame:
    """The study's trials as a pandas DataFrame (pandas is imported here, lazily)."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("trials_dataframe needs pandas: pip install 'hpopt[pandas]'") from e
    rows = trial_rows(study.get_trials(states), len(study.directions))
    return pd.DataFrame(rows)
