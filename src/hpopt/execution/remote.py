"""The worker side: the trial handle an objective gets away from the driver, and the
function every executor runs to execute one trial."""

from __future__ import annotations

import json
import os
import pickle
import socket
from typing import TYPE_CHECKING, Any, Protocol

import cloudpickle

from hpopt.exceptions import TrialPruned
from hpopt.execution.base import TrialResult, TrialTask
from hpopt.space.distributions import Distribution
from hpopt.study.optimize import call_objective, format_error
from hpopt.trial.trial import Trial

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from hpopt.schedulers.base import Decision
    from hpopt.study.study import Study

__all__ = [
    "Channel",
    "RemoteError",
    "RemoteTraceback",
    "RemoteTrial",
    "execute_task",
    "load_objective",
    "result_to_bytes",
    "run_pickled",
    "worker_description",
]


class Channel(Protocol):
    """How a worker asks the driver something; raises what the driver's answer raises."""

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any: ...


class RemoteError(RuntimeError):
    """Stands in for an exception raised in a worker that could not be sent back as is."""


class RemoteTraceback(Exception):
    """Carries a worker's traceback as the ``__cause__`` of a re-raised exception."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n'''\n{self.text}'''"


class RemoteTrial(Trial):
    """The :class:`~hpopt.trial.Trial` an objective receives when it runs in a worker.

    It has the same API. Parameters the driver already sampled (all of them for a
    declarative space) are answered locally; a new parameter (define-by-run), ``report`` and
    ``should_prune`` go to the driver through ``channel``, where the study, its sampler and
    its scheduler live. ``trial.study`` is not available in a worker.
    """

    def __init__(self, record: Any, channel: Channel, config: dict[str, Any] | None = None) -> None:
        super().__init__(None, record)  # type: ignore[arg-type]
        self._channel = channel
        self.config = config

    @property  # type: ignore[override]
    def study(self) -> Study:
        raise RuntimeError(
            "trial.study is not available when the objective runs in a worker: the study "
            "lives in the driver process (use executor='thread' to share it)"
        )

    @study.setter
    def study(self, value: Any) -> None:
        pass

    def suggest(self, name: str, distribution: Distribution) -> Any:
        if name in self._dists:
            old = self._dists[name]
            if old != distribution:
                raise ValueError(
                    f"parameter {name!r} was already suggested in this trial as "
                    f"{old.to_json()} and is now suggested as {distribution.to_json()}"
                )
            return self._params[name]
        if distribution.name != name:
            distribution = distribution.with_name(name)
        value = self._channel.call(self.number, "suggest", (name, distribution))
        self._params[name] = value
        self._dists[name] = distribution
        return value

    def decision(self) -> Decision:
        from hpopt.schedulers.base import Decision

        if not self._iv:
            return Decision.CONTINUE
        step = max(self._iv)
        cached = self._decisions.get(step)
        if cached is None:
            cached = self._channel.call(self.number, "decide", (step,))
            self._decisions[step] = cached
        return cached

    def set_user_attr(self, key: str, value: Any) -> None:
        _check_json(key, value)
        super().set_user_attr(key, value)

    def set_system_attr(self, key: str, value: Any) -> None:
        _check_json(key, value)
        super().set_system_attr(key, value)

    def flush(self) -> None:
        update = self._drain()
        if update.is_empty():
            return
        args = (
            dict(update.intermediate_values),
            dict(update.user_attrs),
            dict(update.system_attrs),
        )
        try:
            self._channel.call(self.number, "write", args)
        except BaseException:
            self._restore(update)
            raise

    def __repr__(self) -> str:
        return f"RemoteTrial(number={self.number}, params={self._params})"


def _check_json(key: str, value: Any) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"attribute {key!r} must be JSON-serializable: {e}") from None


def worker_description() -> str:
    """``host:pid`` of this process (recorded on each trial as ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_task(
    objective: Callable[..., Any],
    task: TrialTask,
    channel: Channel,
    system_attrs: Mapping[str, Any] | None = None,
) -> TrialResult:
    """Run one trial in this worker and say how it ended. Never raises for the objective's
    own errors: they travel back in the result. ``system_attrs`` describe the worker (e.g.
    its GPUs) and are recorded on the trial with ``worker`` (``host:pid``)."""
    where = worker_description()
    if task.handshake and not channel.call(task.record.number, "start", (where,)):
        return TrialResult(aborted=True)
    trial = RemoteTrial(task.record, channel, task.config)
    trial.set_system_attr("worker", where)
    for key, attr in (system_attrs or {}).items():
        trial.set_system_attr(key, attr)
    value: Any = None
    pruned = False
    exception: BaseException | None = None
    error: str | None = None
    try:
        value = call_objective(objective, trial, task.space)
    except TrialPruned:
        pruned = True
    except BaseException as e:
        exception, error = e, format_error(e)
    rest = trial._drain()
    return TrialResult(
        value=value,
        pruned=pruned,
        exception=exception,
        error=error,
        intermediate_values=dict(rest.intermediate_values),
        user_attrs=dict(rest.user_attrs),
        system_attrs=dict(rest.system_attrs),
    )


def run_pickled(objective: bytes, task: TrialTask, channel: Channel) -> bytes:
    """Load the objective, run one trial, return the pickled result (for cluster tasks).

    An objective the worker cannot load (a module missing there) fails the trial with a
    message that says so, rather than passing for a lost worker.
    """
    try:
        function = load_objective(objective)
    except Exception as e:
        error = RemoteError(
            f"the worker {worker_description()} could not load the objective: "
            f"{type(e).__name__}: {e} (is the objective's module importable there?)"
        )
        return result_to_bytes(TrialResult(exception=error, error=format_error(error)))
    return result_to_bytes(execute_task(function, task, channel))


def result_to_bytes(result: TrialResult) -> bytes:
    """Pickle a result to send it to the driver, replacing what cannot be pickled (an odd
    exception, an odd return value) by an error that says so."""
    try:
        return cloudpickle.dumps(result)  # type: ignore[no-any-return]
    except Exception as e:
        problem = e
    exception = result.exception
    if exception is not None:
        exception = RemoteError(f"{type(exception).__name__}: {exception}")
        replaced = TrialResult(
            exception=exception,
            error=result.error,
            intermediate_values=result.intermediate_values,
            user_attrs=result.user_attrs,
            system_attrs=result.system_attrs,
        )
    else:
        message = (
            f"the objective returned a {type(result.value).__name__} that could not be "
            f"sent back to the driver ({problem}); return a float or a tuple of floats"
        )
        replaced = TrialResult(
            exception=RemoteError(message),
            error=f"RemoteError: {message}",
            intermediate_values=result.intermediate_values,
            user_attrs=result.user_attrs,
            system_attrs=result.system_attrs,
        )
    return cloudpickle.dumps(replaced)  # type: ignore[no-any-return]


_loaded: dict[bytes, Callable[..., Any]] = {}


def load_objective(data: bytes) -> Callable[..., Any]:
    """Unpickle an objective sent by the driver, once per worker process."""
    import hashlib

    key = hashlib.sha1(data).digest()
    objective = _loaded.get(key)
    if objective is None:
        objective = pickle.loads(data)
        if len(_loaded) >= 4:  # a worker serves few optimize calls at once
            del _loaded[next(iter(_loaded))]
        _loaded[key] = objective
    return objective
