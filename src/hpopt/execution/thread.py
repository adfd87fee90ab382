"""Trials in threads of the driver process (for objectives that release the GIL)."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any

from hpopt.execution.base import (
    Event,
    Executor,
    Finished,
    JobContext,
    Lost,
    Reply,
    Request,
    TrialTask,
)
from hpopt.execution.remote import execute_task

__all__ = ["ThreadExecutor"]

#: How often a thread waiting for the driver checks whether optimize was stopped.
_POLL_SECONDS = 0.2


class ThreadExecutor(Executor):
    """Run trials in a pool of threads of this process.

    Nothing is pickled, so any objective works; only objectives that release the GIL
    (numpy, torch, I/O) run faster than sequentially. The objective still talks to the
    study through the driver, exactly as in worker processes.

    Parameters
    ----------
    n_workers
        Threads (trials at once); ``None``: the ``n_jobs`` given to ``optimize``.
    max_retries
        See :class:`~hpopt.execution.base.Executor` (threads do not die, so it rarely
        matters).
    """

    def __init__(self, n_workers: int | None = None, *, max_retries: int = 1) -> None:
        super().__init__(max_retries=max_retries)
        if n_workers is not None and (isinstance(n_workers, bool) or n_workers < 1):
            raise ValueError(f"n_workers must be a positive integer or None, got {n_workers!r}")
        self.n_workers = n_workers
        self._pool: cf.ThreadPoolExecutor | None = None
        self._context: JobContext | None = None
        self._closed = threading.Event()

    def open(self, context: JobContext) -> int:
        n = self.n_workers or context.n_jobs
        self._context = context
        self._closed = threading.Event()
        self._pool = cf.ThreadPoolExecutor(n, thread_name_prefix="hpopt-trial")
        return n

    def submit(self, task: TrialTask) -> None:
        assert self._pool is not None and self._context is not None
        post = self._context.post
        channel = _ThreadChannel(post, self._closed)
        future = self._pool.submit(execute_task, self._context.objective, task, channel)
        number = task.record.number

        def done(f: cf.Future[Any]) -> None:
            error = f.exception()
            if error is not None:
                post(Lost(number, f"the trial's thread raised {error!r}"))
            else:
                post(Finished(number, f.result()))

        future.add_done_callback(done)

    def close(self, *, abort: bool) -> None:
        self._closed.set()
        if self._pool is not None:
            # Threads cannot be killed: an aborted trial runs on, its result is ignored.
            self._pool.shutdown(wait=not abort, cancel_futures=True)
            self._pool = None


class _ThreadChannel:
    def __init__(self, post: Callable[[Event], None], closed: threading.Event) -> None:
        self._post = post
        self._closed = closed

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any:
        future: cf.Future[Reply] = cf.Future()
        self._post(Request(number, method, args, future.set_result))
        while True:
            try:
                return future.result(timeout=_POLL_SECONDS).unwrap()
            except cf.TimeoutError:
                if self._closed.is_set():
                    raise RuntimeError("optimize stopped while this trial was running") from None
