"""The optimize loop: ask, run the objective, tell; repeat."""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpopt.exceptions import SpaceExhausted, TrialPruned
from hpopt.space.search_space import SearchSpace
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.study import Study
    from hpopt.trial.trial import Trial

__all__ = [
    "FailurePolicy",
    "ObjectiveFailedError",
    "TrialOutcome",
    "call_objective",
    "check_outcome",
    "run_optimize",
    "run_trial",
    "validate_n_jobs",
]


def validate_n_jobs(n_jobs: int) -> int:
    """Resolve ``n_jobs`` (``-1``: one per CPU); raise ``ValueError`` for 0 or < -1."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int):
        raise ValueError(f"n_jobs must be an integer, got {n_jobs!r}")
    if n_jobs == -1:
        import os

        return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs}")
    return n_jobs


def call_objective(objective: Callable[..., Any], trial: Trial, space: SearchSpace | None) -> Any:
    """Call a define-by-run objective with the trial, or a config objective with its config."""
    if space is None:
        return objective(trial)
    assert trial.config is not None
    if _positional_arity(objective) >= 2:
        return objective(trial.config, trial)
    return objective(trial.config)


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 1
    n = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
        elif p.kind is p.VAR_POSITIONAL:
            return 2
    return n


def format_error(exc: BaseException) -> str:
    """``Type: message`` followed by the traceback, as stored on a FAIL trial."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{type(exc).__name__}: {exc}\n{tb}"


@dataclass(frozen=True)
class TrialOutcome:
    """How one trial ended: its record, the exception it raised (if any), and whether that
    exception must stop ``optimize`` at once (not in ``catch``, or a KeyboardInterrupt)."""

    record: FrozenTrial
    exception: BaseException | None = None
    fatal: bool = False


def run_trial(
    study: Study,
    trial: Trial,
    objective: Callable[..., Any],
    space: SearchSpace | None,
    catch: tuple[type[BaseException], ...],
) -> TrialOutcome:
    """Run one trial to its end and tell the study. The trial is never left RUNNING."""
    try:
        value = call_objective(objective, trial, space)
    except TrialPruned:
        return TrialOutcome(study.tell(trial, state=TrialState.PRUNED))
    except KeyboardInterrupt as e:
        record = study.tell(trial, state=TrialState.FAIL, error="interrupted (KeyboardInterrupt)")
        return TrialOutcome(record, e, fatal=True)
    except BaseException as e:
        record = study.tell(trial, state=TrialState.FAIL, error=format_error(e))
        return TrialOutcome(record, e, fatal=not isinstance(e, catch))
    return TrialOutcome(study.tell(trial, value))


@dataclass
class FailurePolicy:
    """Counts failures in a row and says when to give up."""

    limit: int | None
    in_a_row: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"max_consecutive_failures must be >= 1 or None, got {self.limit}")

    def record(self, record: FrozenTrial) -> bool:
        """Note a finished trial; True when the limit of failures in a row is reached."""
        if record.state is TrialState.FAIL:
            self.in_a_row += 1
        else:
            self.in_a_row = 0
        return self.limit is not None and self.in_a_row >= self.limit


class ObjectiveFailedError(RuntimeError):
    """Raised after too many failed trials in a row when the last one raised nothing (it
    returned NaN, None, ...)."""


def check_outcome(outcome: TrialOutcome, policy: FailurePolicy) -> None:
    """Raise what must stop ``optimize`` after ``outcome``, if anything."""
    if outcome.fatal and outcome.exception is not None:
        raise outcome.exception
    if policy.record(outcome.record):
        if outcome.exception is not None:
            raise outcome.exception
        reason = (outcome.record.error or "unknown reason").splitlines()[0]
        raise ObjectiveFailedError(
            f"{policy.in_a_row} trials failed in a row; the last one "
            f"(trial {outcome.record.number}) failed: {reason}"
        )


def run_optimize(
    study: Study,
    objective: Callable[..., Any],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    space: SearchSpace | None,
    catch: tuple[type[BaseException], ...],
    max_consecutive_failures: int | None,
    callbacks: list[Callable[[Study, FrozenTrial], None]],
    show_progress_bar: bool | None,
    executor: Any,
) -> None:
    """Implementation of :meth:`Study.optimize`."""
    n_jobs = validate_n_jobs(n_jobs)
    if n_trials is not None and (isinstance(n_trials, bool) or n_trials < 0):
        raise ValueError(f"n_trials must be >= 0 or None, got {n_trials}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 or None, got {timeout}")
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    policy = FailurePolicy(max_consecutive_failures)
    if n_jobs != 1 or executor is not None:
        from hpopt.execution import run_parallel  # type: ignore[attr-defined]

        run_parallel(
            study,
            objective,
            n_trials=n_trials,
            timeout=timeout,
            n_jobs=n_jobs,
            space=space,
            catch=catch,
            policy=policy,
            callbacks=callbacks,
            show_progress_bar=show_progress_bar,
            executor=executor,
        )
        return

    from hpopt.study.progress import progress_bar

    study._stop_flag = False
    start = time.monotonic()
    done = 0
    with progress_bar(study, n_trials, timeout, show_progress_bar) as bar:
        while not study._stop_flag:
            if n_trials is not None and done >= n_trials:
                break
            if timeout is not None and time.monotonic() - start >= timeout:
                break
            try:
                trial = study.ask(space)
            except SpaceExhausted:
                break
            outcome = run_trial(study, trial, objective, space, catch)
            done += 1
            bar.update(outcome.record)
            for callback in callbacks:
                callback(study, outcome.record)
            check_outcome(outcome, policy)
