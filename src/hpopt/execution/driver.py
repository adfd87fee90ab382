"""The driver loop of a parallel ``optimize``: ask, submit, serve requests, tell.

Everything that touches the study (the sampler, the scheduler, the storage) runs on the
driver's thread, in the order events arrive. Executors only move tasks and events.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpopt.exceptions import SpaceExhausted
from hpopt.execution.base import (
    Event,
    Executor,
    Fatal,
    Finished,
    JobContext,
    Lost,
    Reply,
    Request,
    TrialResult,
    TrialTask,
)
from hpopt.execution.remote import RemoteTraceback
from hpopt.study.heartbeat import enqueue_retry
from hpopt.study.optimize import FailurePolicy, TrialOutcome, check_outcome
from hpopt.study.progress import ProgressBar, progress_bar
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.space.search_space import SearchSpace
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial
    from hpopt.trial.trial import Trial

__all__ = ["resolve_executor", "run_parallel"]


def resolve_executor(executor: Any) -> Executor:
    """``None`` or ``"process"``: worker processes; ``"thread"``: threads; or an instance."""
    from hpopt.execution.process import ProcessExecutor
    from hpopt.execution.thread import ThreadExecutor

    if executor is None or executor == "process":
        return ProcessExecutor()
    if executor == "thread":
        return ThreadExecutor()
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, str):
        raise ValueError(
            f"unknown executor {executor!r}: expected 'process', 'thread' or an executor "
            "object such as hpopt.execution.DaskExecutor(...) or RayExecutor(...)"
        )
    raise TypeError(f"executor must be a string or an Executor, got {type(executor).__name__}")


def run_parallel(
    study: Study,
    objective: Callable[..., Any],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    space: SearchSpace | None,
    catch: tuple[type[BaseException], ...],
    policy: FailurePolicy,
    callbacks: list[Callable[[Study, FrozenTrial], None]],
    show_progress_bar: bool | None,
    executor: Any,
) -> None:
    """Run ``optimize`` with trials on ``executor`` (see :meth:`hpopt.Study.optimize`)."""
    backend = resolve_executor(executor)
    driver = _Driver(study, backend, objective, space, catch, policy, callbacks)
    capacity = backend.open(JobContext(objective, driver.events.put, n_jobs))
    finished_cleanly = False
    reason = "optimize stopped"
    try:
        with progress_bar(study, n_trials, timeout, show_progress_bar) as bar:
            driver.loop(capacity, n_trials, timeout, bar)
        finished_cleanly = True
    except BaseException as e:
        reason = f"optimize stopped: {type(e).__name__}: {e}".splitlines()[0]
        raise
    finally:
        backend.close(abort=not finished_cleanly)
        driver.abandon(reason)


@dataclass
class _Running:
    trial: Trial
    started_on: str | None = None


class _Driver:
    def __init__(
        self,
        study: Study,
        backend: Executor,
        objective: Callable[..., Any],
        space: SearchSpace | None,
        catch: tuple[type[BaseException], ...],
        policy: FailurePolicy,
        callbacks: list[Callable[[Study, FrozenTrial], None]],
    ) -> None:
        self.study = study
        self.backend = backend
        self.space = space
        self.catch = catch
        self.policy = policy
        self.callbacks = callbacks
        self.events: queue.Queue[Event] = queue.Queue()
        self.running: dict[int, _Running] = {}
        self.started = 0
        self.retries = 0
        self.exhausted = False
        self.handshake = backend.reruns_lost_tasks

    # ------------------------------------------------------------------ the loop
    def loop(
        self, capacity: int, n_trials: int | None, timeout: float | None, bar: ProgressBar
    ) -> None:
        self.study._stop_flag = False
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            while len(self.running) < capacity and self._may_start(n_trials, deadline):
                self._start_one()
            if not self.running:
                return
            self._handle(self.events.get(), bar)

    def _may_start(self, n_trials: int | None, deadline: float | None) -> bool:
        if self.study._stop_flag or self.exhausted:
            return False
        if n_trials is not None and self.started >= n_trials + self.retries:
            return False
        return deadline is None or time.monotonic() < deadline

    def _start_one(self) -> None:
        try:
            trial = self.study.ask(self.space)
        except SpaceExhausted:
            self.exhausted = True
            return
        self.started += 1
        self.running[trial.number] = _Running(trial)
        task = TrialTask(trial.snapshot(), self.space, trial.config, handshake=self.handshake)
        self.backend.submit(task)

    # ------------------------------------------------------------------ events
    def _handle(self, event: Event, bar: ProgressBar) -> None:
        if isinstance(event, Request):
            event.reply(self._serve(event))
        elif isinstance(event, Finished):
            running = self.running.pop(event.number, None)
            if running is not None and not event.result.aborted:
                self._finished(_finish(self.study, running.trial, event.result, self.catch), bar)
        elif isinstance(event, Lost):
            self._lose(event.number, event.cause, bar)
        elif isinstance(event, Fatal):
            raise event.exception

    def _serve(self, request: Request) -> Reply:
        running = self.running.get(request.number)
        if running is None:
            return Reply(exception=RuntimeError(f"trial {request.number} is no longer running"))
        trial = running.trial
        try:
            if request.method == "start":
                (where,) = request.args
                if running.started_on is None:
                    running.started_on = where
                    return Reply(True)
                # The executor ran the task again after its worker died: the first run is lost.
                cause = f"worker {running.started_on} died while running the trial"
                self.events.put(Lost(request.number, cause))
                return Reply(False)
            if request.method == "suggest":
                name, distribution = request.args
                return Reply(trial.suggest(name, distribution))
            if request.method == "write":
                _apply(trial, *request.args)
                trial.flush()
                return Reply(None)
            if request.method == "decide":
                return Reply(trial.decision())
        except Exception as e:
            return Reply(exception=e)
        return Reply(exception=ValueError(f"unknown request {request.method!r}"))

    def _lose(self, number: int, cause: str, bar: ProgressBar) -> None:
        running = self.running.pop(number, None)
        if running is None:
            return
        record = self.study.tell(
            running.trial, state=TrialState.FAIL, error=f"worker lost: {cause}"
        )
        if enqueue_retry(self.study.storage, self.study.study_id, record, self.backend.max_retries):
            self.retries += 1
        self._finished(TrialOutcome(record), bar)

    def _finished(self, outcome: TrialOutcome, bar: ProgressBar) -> None:
        bar.update(outcome.record)
        for callback in self.callbacks:
            callback(self.study, outcome.record)
        check_outcome(outcome, self.policy)

    def abandon(self, reason: str) -> None:
        """After the executor closed: answer stray requests, FAIL trials still running."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, Request):
                event.reply(Reply(exception=RuntimeError(reason)))
        for running in self.running.values():
            # The error that stopped optimize matters more than one raised here.
            with contextlib.suppress(Exception):
                self.study.tell(
                    running.trial, state=TrialState.FAIL, error=f"interrupted: {reason}"
                )
        self.running.clear()


def _apply(
    trial: Trial,
    intermediate_values: dict[int, float],
    user_attrs: dict[str, Any],
    system_attrs: dict[str, Any],
) -> None:
    """Apply writes made in a worker to the driver's handle (reports flush at once)."""
    for key, value in user_attrs.items():
        trial.set_user_attr(key, value)
    for key, value in system_attrs.items():
        trial.set_system_attr(key, value)
    for step in sorted(intermediate_values):
        trial.report(intermediate_values[step], step)


def _finish(
    study: Study, trial: Trial, result: TrialResult, catch: tuple[type[BaseException], ...]
) -> TrialOutcome:
    """Tell the study how a trial ended in its worker (as ``run_trial`` does inline)."""
    _apply(trial, result.intermediate_values, result.user_attrs, result.system_attrs)
    if result.pruned:
        return TrialOutcome(study.tell(trial, state=TrialState.PRUNED))
    exception = result.exception
    if exception is None:
        return TrialOutcome(study.tell(trial, result.value))
    if result.error is not None and exception.__cause__ is None:
        exception.__cause__ = RemoteTraceback(result.error)
    if isinstance(exception, KeyboardInterrupt):
        record = study.tell(trial, state=TrialState.FAIL, error="interrupted (KeyboardInterrupt)")
        return TrialOutcome(record, exception, fatal=True)
    record = study.tell(trial, state=TrialState.FAIL, error=result.error)
    return TrialOutcome(record, exception, fatal=not isinstance(exception, catch))
