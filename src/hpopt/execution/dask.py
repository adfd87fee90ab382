"""Trials as tasks on a Dask ``distributed`` cluster.

Requests from a running objective reach the driver through ``distributed.Queue`` objects
held by the scheduler (one queue for all requests, one reply queue per task attempt), so
they survive the loss of any worker. Dask runs a task again when its worker dies; the
first thing a task does is a ``start`` handshake, and the driver answers a second start of
one trial by recording the first run as lost (FAIL, then retried by hpopt) and refusing the
re-run.
"""

from __future__ import annotations

import functools
import pickle
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import cloudpickle

from hpopt.execution.base import Executor, Finished, JobContext, Lost, Reply, Request, TrialTask
from hpopt.execution.remote import run_pickled

__all__ = ["DaskExecutor"]

#: Seconds a worker waits for the driver's answer before giving up on the trial.
_REPLY_TIMEOUT = 300.0
#: Put in the request queue to stop the driver's poller.
_STOP = b"stop"


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise ImportError("DaskExecutor needs dask.distributed: pip install 'hpopt[dask]'") from e
    return distributed


class DaskExecutor(Executor):
    """Run each trial as a task on a Dask cluster; results are told on the driver.

    Parameters
    ----------
    client_or_address
        A ``distributed.Client`` (left open at the end) or a scheduler address such as
        ``"tcp://10.0.0.5:8786"`` (a client is opened and closed by each ``optimize``).
    n_concurrent
        Trials in flight; ``None``: ``n_jobs`` when above 1, else the cluster's threads
        (or, with ``resources``, how many trials the workers' resources fit).
    resources
        Per trial, e.g. ``{"gpu": 1}``: Dask abstract resources (``cpu`` and ``gpu`` are
        sent as ``CPU`` and ``GPU``; start workers with ``dask worker --resources GPU=1``).
    max_retries
        Runs of a trial again after its worker died.
    connect_timeout
        Seconds to wait for the scheduler and for a first worker.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=40, executor=DaskExecutor(client))  # doctest: +SKIP
    """

    reruns_lost_tasks = True

    def __init__(
        self,
        client_or_address: Any,
        *,
        n_concurrent: int | None = None,
        resources: Mapping[str, float] | None = None,
        max_retries: int = 1,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(max_retries=max_retries)
        _import_distributed()
        if n_concurrent is not None and (isinstance(n_concurrent, bool) or n_concurrent < 1):
            raise ValueError(
                f"n_concurrent must be a positive integer or None, got {n_concurrent!r}"
            )
        self._target = client_or_address
        self.n_concurrent = n_concurrent
        self.resources = {
            {"cpu": "CPU", "gpu": "GPU"}.get(str(k).lower(), str(k)): float(v)
            for k, v in (resources or {}).items()
        }
        self.connect_timeout = connect_timeout

    def open(self, context: JobContext) -> int:
        distributed = _import_distributed()
        objective = context.pickled_objective()
        self._owns_client = isinstance(self._target, str)
        if self._owns_client:
            try:
                client = distributed.Client(
                    self._target, timeout=self.connect_timeout, set_as_default=False
                )
            except (OSError, TimeoutError) as e:
                raise ConnectionError(
                    f"could not reach the Dask scheduler at {self._target!r} within "
                    f"{self.connect_timeout:g} s ({e}); nothing was run"
                ) from e
        else:
            client = self._target
        try:
            capacity = self._capacity(client, context.n_jobs)
        except BaseException:
            if self._owns_client:
                client.close()
            raise
        self._client = client
        self._context = context
        self._objective = objective
        self._token = uuid.uuid4().hex[:12]
        self._futures: dict[int, Any] = {}
        self._reply_queues: dict[str, Any] = {}
        self._reply_names: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._requests = distributed.Queue(f"hpopt-{self._token}-requests", client=client)
        self._poller = threading.Thread(target=self._poll, name="hpopt-dask-requests", daemon=True)
        self._poller.start()
        return capacity

    def _capacity(self, client: Any, n_jobs: int) -> int:
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError as e:
            raise ConnectionError(
                f"the Dask cluster has no worker after {self.connect_timeout:g} s"
            ) from e
        workers = client.scheduler_info()["workers"].values()
        if self.resources:
            fits = 0
            for w in workers:
                have = w.get("resources", {})
                fits += int(
                    min(have.get(k, 0) // v if v else 1e9 for k, v in self.resources.items())
                )
            if fits == 0:
                raise ValueError(
                    f"no Dask worker offers the resources {self.resources} one trial needs; "
                    "start workers with e.g. dask worker --resources 'GPU=1'"
                )
        else:
            fits = sum(int(w.get("nthreads", 1)) for w in workers)
        if self.n_concurrent is not None:
            return self.n_concurrent
        return n_jobs if n_jobs > 1 else max(1, fits)

    def submit(self, task: TrialTask) -> None:
        number = task.record.number
        future = self._client.submit(
            _run_task,
            self._objective,
            task,
            self._requests.name,
            key=f"hpopt-trial-{self._token}-{number}",
            pure=False,
            resources=self.resources or None,
        )
        with self._lock:
            self._futures[number] = future
        post = self._context.post

        def done(f: Any) -> None:
            with self._lock:
                self._futures.pop(number, None)
                names = self._reply_names.pop(number, set())
                queues = [self._reply_queues.pop(n) for n in names if n in self._reply_queues]
            for q in queues:  # release this trial's reply queues on the scheduler
                q.close()
            if f.status == "finished":
                post(Finished(number, pickle.loads(f.result())))
            elif f.status == "error":
                post(Lost(number, f"the Dask task failed: {f.exception()!r}"))

        future.add_done_callback(done)

    def close(self, *, abort: bool) -> None:
        self._requests.put(_STOP)
        self._poller.join(timeout=30)
        with self._lock:
            futures = list(self._futures.values())
        if futures:
            self._client.cancel(futures)
        for name in list(self._reply_queues):  # unblock tasks still waiting for a reply
            self._send(name, Reply(exception=RuntimeError("optimize stopped")))
        for q in list(self._reply_queues.values()):
            q.close()
        self._requests.close()
        if self._owns_client:
            self._client.close()

    def _poll(self) -> None:
        # A blocking get, woken by _STOP at close: a get with a timeout makes the
        # scheduler log an error each time it expires.
        while True:
            data = self._requests.get()
            if data == _STOP:
                return
            number, method, args, reply_to = pickle.loads(data)
            with self._lock:
                self._reply_names.setdefault(number, set()).add(reply_to)
            self._context.post(
                Request(number, method, args, functools.partial(self._send, reply_to))
            )

    def _send(self, reply_to: str, reply: Reply) -> None:
        distributed = _import_distributed()
        with self._lock:
            q = self._reply_queues.get(reply_to)
            if q is None:
                q = distributed.Queue(reply_to, client=self._client)
                self._reply_queues[reply_to] = q
        q.put(_dumps_reply(reply))


def _dumps_reply(reply: Reply) -> bytes:
    try:
        return cloudpickle.dumps(reply)  # type: ignore[no-any-return]
    except Exception as e:
        return cloudpickle.dumps(Reply(exception=RuntimeError(repr(e))))  # type: ignore[no-any-return]


class _QueueChannel:
    """Worker side: requests into the shared queue, replies from this attempt's queue."""

    def __init__(self, requests_name: str) -> None:
        distributed = _import_distributed()
        client = distributed.get_client()
        self._requests = distributed.Queue(requests_name, client=client)
        self._reply_name = f"{requests_name}-reply-{uuid.uuid4().hex}"
        self._replies = distributed.Queue(self._reply_name, client=client)

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any:
        self._requests.put(cloudpickle.dumps((number, method, args, self._reply_name)))
        try:
            data = self._replies.get(timeout=_REPLY_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(
                f"no answer from the hpopt driver within {_REPLY_TIMEOUT:g} s"
            ) from None
        return pickle.loads(data).unwrap()

    def close(self) -> None:
        self._replies.close()
        self._requests.close()


def _run_task(objective: bytes, task: TrialTask, requests_name: str) -> bytes:
    """The Dask task: run one trial, return its pickled result."""
    channel = _QueueChannel(requests_name)
    try:
        return run_pickled(objective, task, channel)
    finally:
        channel.close()
