"""The executor seam: what the driver hands to an executor and what comes back.

The driver (``hpopt.execution.driver``) owns the study: it asks, submits a
:class:`TrialTask` to an :class:`Executor`, and tells the result. An executor only moves
tasks to where they run and turns what happens there into :data:`Event` objects posted to
the driver: a :class:`Finished` result, a :class:`Lost` trial (its worker died) or a
:class:`Request` from a running objective (``suggest``, ``report``, ``decide``) that the
driver answers on its own thread. It decides no policy.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpopt.trial.frozen import FrozenTrial

if TYPE_CHECKING:
    from hpopt.space.search_space import SearchSpace

__all__ = [
    "Event",
    "Executor",
    "Fatal",
    "Finished",
    "JobContext",
    "Lost",
    "Reply",
    "Request",
    "TrialResult",
    "TrialTask",
]


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs to run one trial.

    ``record`` is the trial as the driver sees it after ``ask``: with a declarative space
    every parameter is already in it; ``config`` is then the config dict.
    """

    record: FrozenTrial
    space: SearchSpace | None = None
    config: dict[str, Any] | None = None
    #: Ask the driver before running (Dask re-runs tasks of lost workers by itself).
    handshake: bool = False


@dataclass(frozen=True)
class TrialResult:
    """How the objective ended in the worker.

    Exactly one of ``value`` (returned normally), ``pruned`` or ``exception`` applies.
    ``error`` is the formatted exception with the worker's traceback. ``update`` holds the
    writes (intermediate values, attributes) not yet sent to the driver. ``aborted`` marks a
    task the driver refused to start (a re-run of a lost trial).
    """

    value: Any = None
    pruned: bool = False
    exception: BaseException | None = None
    error: str | None = None
    intermediate_values: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    aborted: bool = False


@dataclass(frozen=True)
class Reply:
    """The driver's answer to a :class:`Request`: a value, or an exception to raise."""

    value: Any = None
    exception: BaseException | None = None

    def unwrap(self) -> Any:
        if self.exception is not None:
            raise self.exception
        return self.value


@dataclass(frozen=True)
class Finished:
    """Trial ``number`` ended in its worker with ``result``."""

    number: int
    result: TrialResult


@dataclass(frozen=True)
class Lost:
    """Trial ``number`` will never finish: its worker died (``cause`` says how)."""

    number: int
    cause: str


@dataclass(frozen=True)
class Request:
    """A running objective asks the driver something; ``reply`` must be called once."""

    number: int
    method: str
    args: tuple[Any, ...]
    reply: Callable[[Reply], None]


@dataclass(frozen=True)
class Fatal:
    """The executor cannot go on (e.g. workers die before running anything)."""

    exception: BaseException


Event = Finished | Lost | Request | Fatal


@dataclass
class JobContext:
    """What the driver gives an executor when an ``optimize`` call starts.

    Attributes
    ----------
    objective
        The user's objective.
    post
        Thread-safe: hand an event to the driver.
    n_jobs
        The ``n_jobs`` passed to ``optimize`` (already resolved, >= 1).
    """

    objective: Callable[..., Any]
    post: Callable[[Event], None]
    n_jobs: int = 1
    _pickled: bytes | None = None

    def pickled_objective(self) -> bytes:
        """The objective pickled with cloudpickle (once), for executors in other processes.

        Raises
        ------
        hpopt.execution.pickling.UnpicklableObjectiveError
            If it cannot be pickled; the message names what could not be pickled.
        """
        if self._pickled is None:
            from hpopt.execution.pickling import dump_objective

            self._pickled = dump_objective(self.objective)
        return self._pickled


class Executor(abc.ABC):
    """Runs trials somewhere and reports what happens to the driver.

    One instance serves one ``optimize`` call at a time: :meth:`open`, then any number of
    :meth:`submit`, then :meth:`close`.

    Parameters
    ----------
    max_retries
        How many times a trial whose worker died is run again (as a new trial with the
        same parameters, linked by the system attribute ``retry_of``).
    """

    #: True when the engine runs a task again by itself after its worker died (Dask): the
    #: driver then makes each task ask before it starts, and refuses such re-runs.
    reruns_lost_tasks: bool = False

    def __init__(self, *, max_retries: int = 1) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.max_retries = max_retries

    @abc.abstractmethod
    def open(self, context: JobContext) -> int:
        """Start (connect, spawn workers) and return how many trials may run at once.

        Called before the study is touched: an error here writes nothing to the study.
        """

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> None:
        """Start running ``task``; never called with more tasks in flight than
        :meth:`open` allowed."""

    @abc.abstractmethod
    def close(self, *, abort: bool) -> None:
        """Release everything :meth:`open` started; with ``abort``, stop running trials
        now (their results are no longer wanted)."""
