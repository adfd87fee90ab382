"""Rich tables for the CLI: studies, trials, the best trial, the demo report."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table

from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.demo import DemoResult
    from hpopt.storage.base import StudySummary
    from hpopt.study.direction import StudyDirection
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = [
    "best_report",
    "demo_report",
    "format_value",
    "state_counts",
    "studies_table",
    "trials_table",
]

_STATE_STYLE = {
    TrialState.COMPLETE: "green",
    TrialState.PRUNED: "yellow",
    TrialState.FAIL: "red",
    TrialState.RUNNING: "cyan",
    TrialState.WAITING: "dim",
}


def format_value(value: Any) -> str:
    """A compact cell: floats with 6 significant digits, ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def _values(values: Sequence[float] | None) -> str:
    return "-" if values is None else ", ".join(format_value(v) for v in values)


def _directions(directions: Sequence[StudyDirection]) -> str:
    return ", ".join(d.name.lower() for d in directions)


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items())


def _state(state: TrialState) -> str:
    return f"[{_STATE_STYLE[state]}]{state.name}[/]"


def studies_table(summaries: Sequence[StudySummary]) -> Table:
    """One row per study: name, directions, number of trials, best value(s), start."""
    table = Table(title="Studies")
    table.add_column("name", overflow="fold")
    table.add_column("direction")
    table.add_column("trials", justify="right")
    table.add_column("best", justify="right")
    table.add_column("started")
    for s in summaries:
        table.add_row(
            s.study_name,
            _directions(s.directions),
            str(s.n_trials),
            _values(s.best_values),
            format_value(s.datetime_start),
        )
    return table


def trials_table(trials: Sequence[FrozenTrial], title: str) -> Table:
    """One row per trial: number, state, value(s), duration, parameters."""
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("state")
    table.add_column("value", justify="right")
    table.add_column("duration (s)", justify="right")
    table.add_column("params", overflow="fold")
    for t in trials:
        duration = t.duration.total_seconds() if t.duration is not None else None
        table.add_row(
            str(t.number),
            _state(t.state),
            _values(t.values),
            "-" if duration is None else f"{duration:.2f}",
            _params(t.params),
        )
    return table


def _key_value_table(title: str, rows: Mapping[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", min_width=len(title))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows.items():
        table.add_row(key, value if isinstance(value, str) else format_value(value))
    return table


def best_report(study: Study) -> RenderableType:
    """The best trial (one objective) or the Pareto front (several).

    Raises
    ------
    ValueError
        If no trial has completed.
    """
    if len(study.directions) > 1:
        front = study.best_trials
        if not front:
            raise ValueError(f"study {study.study_name!r} has no completed trial yet")
        return trials_table(front, f"Pareto front of {study.study_name} ({len(front)} trials)")
    best = study.best_trial
    summary = _key_value_table(
        f"Best trial of {study.study_name}",
        {
            "trial": str(best.number),
            "value": best.value,
            "direction": _directions(study.directions),
        },
    )
    parts: list[RenderableType] = [summary, _key_value_table("Parameters", best.params)]
    if best.user_attrs:
        parts.append(_key_value_table("User attributes", best.user_attrs))
    return Group(*parts)


def state_counts(counts: Mapping[TrialState, int]) -> str:
    """``"40 complete, 2 pruned"``: the non-zero counts in life-cycle order."""
    order = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING]
    order.append(TrialState.WAITING)
    return ", ".join(f"{counts[s]} {s.name.lower()}" for s in order if counts.get(s))


def _epochs_line(result: DemoResult) -> str:
    """``"412 of 1000 (early stopping saved 588, 59%)"``."""
    full = result.epochs_full_budget
    if full == 0:
        return "0"
    saved = result.epochs_saved
    return (
        f"{result.epochs_trained} of {full} "
        f"(early stopping saved {saved}, {100 * saved / full:.0f}%)"
    )


def demo_report(result: DemoResult, storage_label: str) -> RenderableType:
    """What ``hpopt demo`` prints at the end."""
    best = result.best_trial
    rows: dict[str, Any] = {
        "study": result.study.study_name,
        "stored in": storage_label,
        "best trial": str(best.number),
        "validation accuracy": f"{result.val_accuracy:.4f}",
        "test accuracy": f"{result.test_accuracy:.4f}",
        "trials": state_counts(result.state_counts),
        "search time": f"{result.search_seconds:.1f} s",
        "epochs trained": _epochs_line(result),
        "final evaluation": f"{result.evaluation_seconds:.1f} s (retrain best config, test once)",
    }
    if result.retrained_val_accuracy != result.val_accuracy:
        rows["retrained validation accuracy"] = f"{result.retrained_val_accuracy:.4f}"
    return Group(
        _key_value_table("Best configuration", best.params),
        _key_value_table("hpopt demo: MLP on scikit-learn digits", rows),
    )
