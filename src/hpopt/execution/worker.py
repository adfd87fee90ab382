"""``hpopt worker``: a process that joins a study through its storage and runs trials.

Any number of workers, on any number of machines, may share one study in one database
(PostgreSQL; SQLite for processes on one machine). There is no driver: each worker asks
and tells through the storage, which hands each trial number and each WAITING trial to
exactly one worker. A worker stamps a heartbeat on its running trial; before each trial it
fails trials whose heartbeat went stale (their worker died) and queues a retry with the
same parameters; the storage lets exactly one worker do that for each dead trial.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hpopt.exceptions import SpaceExhausted
from hpopt.study.optimize import FailurePolicy, check_outcome, run_trial

if TYPE_CHECKING:
    from hpopt.samplers.base import BaseSampler
    from hpopt.storage.base import BaseStorage

__all__ = ["load_objective_ref", "run_worker"]

_log = logging.getLogger(__name__)


def load_objective_ref(ref: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` (the current directory is importable too).

    Raises
    ------
    ValueError
        If ``ref`` is not of the form ``module:attribute`` or the attribute is not callable.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"objective must look like 'module:function', got {ref!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(target):
        raise ValueError(f"{ref!r} is a {type(target).__name__}, not a function")
    return target  # type: ignore[no-any-return]


def run_worker(
    storage: BaseStorage | str,
    study_name: str,
    objective_ref: str | Callable[..., Any],
    n_trials: int | None = None,
    *,
    timeout: float | None = None,
    sampler: BaseSampler | None = None,
    heartbeat_interval: float = 10.0,
    grace_period: float | None = None,
    max_retries: int = 1,
    catch: tuple[type[BaseException], ...] = (Exception,),
    max_consecutive_failures: int | None = 5,
) -> int:
    """Run trials of an existing study until ``n_trials`` ran here (``None``: until
    ``timeout``, or until the sampler has nothing left).

    Parameters
    ----------
    storage
        The study's storage (a URL such as ``postgresql+psycopg://user@host/db``).
    study_name
        A study created elsewhere (``hpopt.create_study(..., storage=url)``).
    objective_ref
        ``"module:function"`` or the function itself; it takes the trial.
    n_trials
        Trials this worker runs (enqueued trials and retries count).
    timeout
        Seconds after which this worker starts no new trial.
    sampler
        This worker's sampler (default: the default sampler).
    heartbeat_interval
        Seconds between heartbeats of the running trial.
    grace_period
        A running trial without a heartbeat for this long is failed as stale and retried
        (default: 6 heartbeat intervals).
    max_retries
        Retries of a trial whose worker died.
    catch, max_consecutive_failures
        As in :meth:`hpopt.Study.optimize`.

    Returns
    -------
    int
        The number of trials this worker ran.
    """
    from hpopt.study.study import load_study

    if heartbeat_interval <= 0:
        raise ValueError(f"heartbeat_interval must be > 0, got {heartbeat_interval}")
    grace = 6 * heartbeat_interval if grace_period is None else grace_period
    if grace <= heartbeat_interval:
        raise ValueError(
            f"grace_period ({grace:g} s) must be longer than heartbeat_interval "
            f"({heartbeat_interval:g} s)"
        )
    objective = (
        load_objective_ref(objective_ref) if isinstance(objective_ref, str) else objective_ref
    )
    # The study's own heartbeat policy beats for each trial, writes its parameters as they
    # are suggested, and reaps (and retries) the trials of dead workers at each ask.
    study = load_study(
        study_name=study_name,
        storage=storage,
        sampler=sampler,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace,
        retry_failed=max_retries,
    )
    policy = FailurePolicy(max_consecutive_failures)
    deadline = None if timeout is None else time.monotonic() + timeout
    done = 0
    while n_trials is None or done < n_trials:
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            trial = study.ask()
        except SpaceExhausted:
            break
        outcome = run_trial(study, trial, objective, None, catch)
        done += 1
        check_outcome(outcome, policy)
    return done
