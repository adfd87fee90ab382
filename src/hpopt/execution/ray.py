"""Trials as Ray tasks.

A small asynchronous actor (the mailbox, no CPU reserved) carries requests from running
objectives to the driver and its replies back. It lives as long as the executor: made when
the executor is made if Ray is already up (its worker process then starts while the caller
prepares the study, not while the first trials wait for their parameters), else when
``optimize`` starts Ray, and reused by every later ``optimize`` call on the same Ray.

Tasks run with ``max_retries=0`` so that Ray never runs a trial twice by itself: a task
whose worker died comes back as an error, and hpopt records the trial as FAIL and retries
it with the same parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import pickle
import threading
from collections.abc import Iterator
from typing import Any

from hpopt.execution.base import Executor, Finished, JobContext, Lost, Reply, Request, TrialTask
from hpopt.execution.remote import run_pickled

__all__ = ["RayExecutor"]

#: Environment variable the raylet reads for its workers' niceness.
_NICENESS_VAR = "RAY_worker_niceness"
#: How long the driver's request poller waits on the mailbox.
_POLL_SECONDS = 0.5


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ImportError("RayExecutor needs Ray: pip install 'hpopt[ray]'") from e
    return ray


class RayExecutor(Executor):
    """Run each trial as a Ray task; results are told on the driver.

    Parameters
    ----------
    address
        Cluster to join (``"ray://host:10001"``, ``"auto"``); ``None``: the Ray already
        initialized in this process, else a local one (shut down again at the end) whose
        workers run trials at niceness 0 rather than Ray's default 15 (set
        ``RAY_worker_niceness`` to choose; for a Ray you start yourself, set it before
        ``ray.init``).
    n_concurrent
        Trials in flight; ``None``: ``n_jobs`` when above 1, else as many as the cluster's
        CPUs and GPUs fit.
    num_cpus, num_gpus
        Resources of each trial (Ray sets ``CUDA_VISIBLE_DEVICES`` for its GPUs).
    max_retries
        Runs of a trial again after its worker died.

    Notes
    -----
    Objectives reach the driver (define-by-run ``suggest``, ``report``, ``should_prune``)
    through a small actor that takes no CPU. When Ray is already initialized, it is created
    here, so its worker process starts before ``optimize`` is called; it is reused by every
    ``optimize`` call with this executor and goes away with the executor (or with a Ray
    that the executor started and shut down).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        n_concurrent: int | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        max_retries: int = 1,
    ) -> None:
        super().__init__(max_retries=max_retries)
        _import_ray()
        if n_concurrent is not None and (isinstance(n_concurrent, bool) or n_concurrent < 1):
            raise ValueError(
                f"n_concurrent must be a positive integer or None, got {n_concurrent!r}"
            )
        self.address = address
        self.n_concurrent = n_concurrent
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self._mailbox: Any = None
        if _ray_is_up():
            self._mailbox = _new_mailbox()

    def open(self, context: JobContext) -> int:
        ray = _import_ray()
        objective = context.pickled_objective()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            try:
                with _trials_not_niced(local=self.address is None):
                    ray.init(address=self.address, include_dashboard=False, log_to_driver=True)
            except (ConnectionError, RuntimeError, TimeoutError) as e:
                raise ConnectionError(
                    f"could not reach the Ray cluster at {self.address!r} ({e}); nothing was run"
                ) from e
        self._context = context
        self._objective_ref = ray.put(objective)
        if self._owns_ray or self._mailbox is None:
            self._mailbox = _new_mailbox()
        else:  # requests of an earlier, aborted call must not reach this one
            try:
                ray.get(self._mailbox.reset.remote())
            except ray.exceptions.RayError:  # the Ray it was made on is gone
                self._mailbox = _new_mailbox()
        self._run = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=0)(
            _run_task
        )
        self._refs: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="hpopt-ray-requests", daemon=True)
        self._poller.start()
        return self._capacity(ray, context.n_jobs)

    def _capacity(self, ray: Any, n_jobs: int) -> int:
        if self.n_concurrent is not None:
            return self.n_concurrent
        if n_jobs > 1:
            return n_jobs
        total = ray.cluster_resources()
        fits = [total.get("CPU", 0) // self.num_cpus] if self.num_cpus else []
        if self.num_gpus:
            fits.append(total.get("GPU", 0) // self.num_gpus)
        return max(1, int(min(fits))) if fits else 1

    def submit(self, task: TrialTask) -> None:
        number = task.record.number
        ref = self._run.remote(self._objective_ref, task, self._mailbox)
        with self._lock:
            self._refs[number] = ref
        post = self._context.post

        def done(f: Any) -> None:
            with self._lock:
                self._refs.pop(number, None)
            if f.cancelled():
                return
            error = f.exception()
            if error is None:
                post(Finished(number, pickle.loads(f.result())))
            else:
                post(Lost(number, f"the Ray task failed: {type(error).__name__}: {error}"))

        ref.future().add_done_callback(done)

    def close(self, *, abort: bool) -> None:
        ray = _import_ray()
        self._stop.set()
        self._mailbox.wake.remote()  # end the poller's wait now, not at its timeout
        self._poller.join(timeout=10)
        with self._lock:
            refs = list(self._refs.values())
        for ref in refs:
            ray.cancel(ref, force=True)
        if self._owns_ray:
            self._mailbox = None
            ray.shutdown()

    def _poll(self) -> None:
        ray = _import_ray()
        while not self._stop.is_set():
            try:
                batch = ray.get(self._mailbox.take.remote(_POLL_SECONDS))
            except Exception:
                if self._stop.is_set():
                    return
                raise
            for request_id, number, method, args in batch:
                self._context.post(
                    Request(number, method, args, functools.partial(self._reply, request_id))
                )

    def _reply(self, request_id: int, reply: Reply) -> None:
        self._mailbox.reply.remote(request_id, reply)


def _ray_is_up() -> bool:
    """Whether this process is connected to a Ray."""
    return bool(_import_ray().is_initialized())


def _new_mailbox() -> Any:
    return _import_ray().remote(num_cpus=0)(_Mailbox).remote()


@contextlib.contextmanager
def _trials_not_niced(*, local: bool) -> Iterator[None]:
    """Start a local Ray whose workers run at the driver's priority.

    Ray lowers its worker processes to niceness 15 by default (its job API sets 0): on a
    machine where anything else runs, trials then get a small share of the cores (on a
    loaded 2-core machine, 20 one-second trials took 75 s at niceness 15 and 26 s at 0).
    The trials are the work here, as with worker processes, so a Ray that hpopt starts
    itself runs them at niceness 0 unless ``RAY_worker_niceness`` says otherwise.
    """
    if not local or _NICENESS_VAR in os.environ:
        yield
        return
    os.environ[_NICENESS_VAR] = "0"
    try:
        yield
    finally:
        os.environ.pop(_NICENESS_VAR, None)


class _Mailbox:
    """Asynchronous actor: objectives ``call`` and wait; the driver ``take``s and ``reply``s."""

    def __init__(self) -> None:
        self._requests: asyncio.Queue[tuple[int, int, str, tuple[Any, ...]]] = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._ids = itertools.count()
        self._woken = asyncio.Event()

    async def call(self, number: int, method: str, args: tuple[Any, ...]) -> Reply:
        request_id = next(self._ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        await self._requests.put((request_id, number, method, args))
        return await future

    async def take(self, timeout: float) -> list[tuple[int, int, str, tuple[Any, ...]]]:
        """The waiting requests, after waiting up to ``timeout`` for one (or a ``wake``)."""
        get = asyncio.ensure_future(self._requests.get())
        woken = asyncio.ensure_future(self._woken.wait())
        await asyncio.wait({get, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        woken.cancel()
        if not get.done():
            get.cancel()
            return []
        batch = [get.result()]
        while not self._requests.empty():
            batch.append(self._requests.get_nowait())
        return batch

    async def wake(self) -> None:
        """Make ``take`` return at once from now until the next ``reset`` (the driver is
        closing)."""
        self._woken.set()

    async def reset(self) -> None:
        """Drop what earlier calls left: queued requests, callers still waiting, a wake."""
        self._woken.clear()
        while not self._requests.empty():
            self._requests.get_nowait()
        for future in self._waiting.values():
            if not future.done():
                future.cancel()
        self._waiting.clear()

    async def reply(self, request_id: int, reply: Reply) -> None:
        future = self._waiting.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(reply)


class _MailboxChannel:
    def __init__(self, mailbox: Any) -> None:
        self._mailbox = mailbox

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any:
        ray = _import_ray()
        reply: Reply = ray.get(self._mailbox.call.remote(number, method, args))
        return reply.unwrap()


def _run_task(objective: bytes, task: TrialTask, mailbox: Any) -> bytes:
    """The Ray task: run one trial, return its pickled result."""
    return run_pickled(objective, task, _MailboxChannel(mailbox))
