"""The progress bar shown by ``optimize``: trials done, best value, elapsed time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """Tracks the best value; draws with rich on standard error when enabled.

    Shows the study name (and the timeout, if any), a bar, trials done out of ``total``
    (``?`` when only a timeout bounds the run), the best value so far and the elapsed time.
    Disabled, it only tracks the best value of the trials it is given.
    """

    def __init__(self, study: Study, total: int | None, timeout: float | None, enabled: bool):
        self.study = study
        self.best: float | None = None
        self._sign = study.directions[0].sign if len(study.directions) == 1 else None
        self._progress: Any = None
        self._task: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best: {task.fields[best]}"),
            TimeElapsedColumn(),
        ]
        self._progress = Progress(*columns, console=Console(stderr=True), transient=False)
        label = (
            study.study_name if timeout is None else f"{study.study_name} (timeout {timeout:g} s)"
        )
        # A resumed study starts from the best value of its earlier trials.
        for record in study.get_trials((TrialState.COMPLETE,)):
            self._track_best(record)
        self._task = self._progress.add_task(label, total=total, best=self._best_text())

    def _track_best(self, record: FrozenTrial) -> None:
        if (
            self._sign is not None
            and record.state is TrialState.COMPLETE
            and record.values is not None
        ):
            v = record.values[0]
            if self.best is None or self._sign * v < self._sign * self.best:
                self.best = v

    def _best_text(self) -> str:
        return "-" if self.best is None else f"{self.best:.6g}"

    def update(self, record: FrozenTrial) -> None:
        """Count one finished trial and keep the best value (single objective)."""
        self._track_best(record)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, best=self._best_text())

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def progress_bar(
    study: Study, total: int | None, timeout: float | None, show: bool | None
) -> Iterator[ProgressBar]:
    """A progress bar, shown when ``show`` is True, or when ``None`` and stderr is a TTY."""
    enabled = sys.stderr.isatty() if show is None else bool(show)
    with ProgressBar(study, total, timeout, enabled) as bar:
        yield bar
