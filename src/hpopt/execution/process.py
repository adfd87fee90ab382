"""Trials in worker processes on this machine (the default for ``n_jobs > 1``).

Each worker is a fresh Python interpreter (``subprocess``, so the user's script is not
re-imported and nothing is inherited by fork) connected to the driver by a
``multiprocessing.connection.Connection`` over a private socket pair. The worker runs one trial
at a time; its requests to the driver and its results travel on that connection. When a
worker dies (even by ``kill -9``) its connection reaches end of file at once: its trial is
reported lost and a new worker takes its place (and its GPU slot). The other way round, every
worker holds the read end of a pipe whose only write end is the driver's: when the driver dies
(even by ``kill -9``) the workers see end of file and exit, rather than run their trial on as
orphans whose results nobody receives (the study's heartbeat policy then fails and retries
those trials).
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import cloudpickle

from hpopt.execution.base import (
    Executor,
    Fatal,
    Finished,
    JobContext,
    Lost,
    Reply,
    Request,
    TrialTask,
)
from hpopt.execution.remote import RemoteError, execute_task, load_objective, result_to_bytes
from hpopt.execution.resources import Resources, plan_worker_environments

__all__ = ["ProcessExecutor"]

#: Workers that die this many times in a row before running a trial stop the study.
_MAX_EARLY_DEATHS = 3
#: How often the monitor looks at workers that have not connected yet.
_POLL_SECONDS = 0.5


@dataclass
class _Worker:
    slot: int
    env: dict[str, str]
    popen: subprocess.Popen[bytes]
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    number: int | None = None


class ProcessExecutor(Executor):
    """Run trials in worker processes on this machine.

    The objective is pickled with cloudpickle (closures and lambdas work) and checked
    before any trial starts. Samplers and schedulers stay in the driver; each worker's
    objective gets a trial handle that asks the driver for new parameters and decisions.

    Parameters
    ----------
    n_workers
        Worker processes (trials at once); ``None``: the ``n_jobs`` given to ``optimize``.
    resources
        Per trial, e.g. ``{"cpu": 2, "gpu": 1}``: ``cpu`` sizes the thread pools of numeric
        libraries (``OMP_NUM_THREADS``...), ``gpu`` gives each worker its own devices
        through ``CUDA_VISIBLE_DEVICES`` (and caps the workers at the devices available).
    gpu_ids
        Devices to hand out; default: ``CUDA_VISIBLE_DEVICES``, else what ``nvidia-smi``
        lists.
    max_retries
        Runs of a trial again after its worker died (see
        :class:`~hpopt.execution.base.Executor`).
    start_timeout
        Seconds a worker may take to start.

    Examples
    --------
    >>> import hpopt
    >>> from hpopt.execution import ProcessExecutor
    >>> study = hpopt.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=4,
    ...                executor=ProcessExecutor(2))  # doctest: +SKIP
    """

    def __init__(
        self,
        n_workers: int | None = None,
        *,
        resources: Mapping[str, float] | None = None,
        gpu_ids: Sequence[str] | None = None,
        max_retries: int = 1,
        start_timeout: float = 120.0,
    ) -> None:
        super().__init__(max_retries=max_retries)
        if n_workers is not None and (isinstance(n_workers, bool) or n_workers < 1):
            raise ValueError(f"n_workers must be a positive integer or None, got {n_workers!r}")
        self.n_workers = n_workers
        self.resources = Resources.parse(resources)
        self.gpu_ids = None if gpu_ids is None else [str(g) for g in gpu_ids]
        self.start_timeout = start_timeout
        self._lock = threading.RLock()
        self._workers: dict[int, _Worker] = {}
        self._pending: collections.deque[TrialTask] = collections.deque()
        self._closing = False
        self._early_deaths = 0

    # ------------------------------------------------------------------ Executor
    def open(self, context: JobContext) -> int:
        objective = context.pickled_objective()
        envs = plan_worker_environments(
            self.n_workers or context.n_jobs, self.resources, self.gpu_ids
        )
        self._context = context
        self._init_message = pickle.dumps(("init", list(sys.path), objective))
        self._wake_r, self._wake_w = os.pipe()
        self._lifeline_r, self._lifeline_w = os.pipe()
        self._closing = False
        self._early_deaths = 0
        self._workers = {}
        self._pending.clear()
        with self._lock:
            for slot, env in enumerate(envs):
                self._spawn(slot, env)
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="hpopt-process-monitor", daemon=True
        )
        self._monitor.start()
        return len(envs)

    def submit(self, task: TrialTask) -> None:
        with self._lock:
            self._pending.append(task)
            self._dispatch()

    def close(self, *, abort: bool) -> None:
        with self._lock:
            self._closing = True
            workers = list(self._workers.values())
            for worker in workers:
                if abort or not worker.ready:
                    _kill(worker.popen)
                else:
                    with contextlib.suppress(OSError):
                        worker.conn.send_bytes(pickle.dumps(("stop",)))
        os.write(self._wake_w, b"x")
        self._monitor.join(timeout=30)
        for worker in workers:
            try:
                worker.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill(worker.popen)
                worker.popen.wait()
            worker.conn.close()
        for fd in (self._wake_r, self._wake_w, self._lifeline_r, self._lifeline_w):
            os.close(fd)

    # ------------------------------------------------------------------ workers
    def _spawn(self, slot: int, env: dict[str, str]) -> None:
        """Start the worker of ``slot`` (caller holds the lock)."""
        root = str(Path(__file__).resolve().parents[2])
        full_env = {**os.environ, **env}
        full_env["PYTHONPATH"] = os.pathsep.join(
            [root, *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        ours, theirs = socket.socketpair()
        with theirs:
            popen = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BOOT,
                    str(theirs.fileno()),
                    str(slot),
                    str(self._lifeline_r),
                ],
                stdin=subprocess.DEVNULL,
                env=full_env,
                pass_fds=[theirs.fileno(), self._lifeline_r],
            )
        worker = _Worker(slot, env, popen, Connection(ours.detach()))
        self._workers[slot] = worker
        # The objective may be large: send it while the worker boots, without blocking.
        threading.Thread(target=self._send_init, args=(worker,), daemon=True).start()

    def _send_init(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):  # it died before reading; the monitor reports that
            worker.conn.send_bytes(self._init_message)

    def _monitor_loop(self) -> None:
        while not self._closing:
            with self._lock:
                conns = {w.conn: w for w in self._workers.values()}
            readable = wait([*conns, self._wake_r], timeout=_POLL_SECONDS)
            if self._closing:
                return
            for item in readable:
                if item == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                assert isinstance(item, Connection)
                worker = conns[item]
                try:
                    message = pickle.loads(item.recv_bytes())
                except (EOFError, OSError):
                    self._on_death(worker)
                    continue
                self._on_message(worker, message)
            self._check_starting()

    def _on_message(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            with self._lock:
                worker.ready = True
                self._early_deaths = 0
                self._dispatch()
        elif kind == "request":
            _, number, method, args = message
            self._context.post(Request(number, method, args, lambda r: self._reply(worker, r)))
        elif kind == "result":
            _, number, data = message
            with self._lock:
                worker.number = None
                self._dispatch()
            self._context.post(Finished(number, pickle.loads(data)))
        elif kind == "broken":
            error = RuntimeError(f"a worker process could not load the objective:\n{message[1]}")
            self._context.post(Fatal(error))

    def _reply(self, worker: _Worker, reply: Reply) -> None:
        try:
            data = cloudpickle.dumps(("reply", reply))
        except Exception as e:
            data = pickle.dumps(("reply", Reply(exception=RemoteError(repr(e)))))
        with self._lock, contextlib.suppress(OSError):  # it died; the monitor reports that
            worker.conn.send_bytes(data)

    def _dispatch(self) -> None:
        """Send pending tasks to idle workers (caller holds the lock)."""
        for worker in self._workers.values():
            if not self._pending:
                return
            if worker.ready and worker.number is None:
                task = self._pending.popleft()
                worker.number = task.record.number
                with contextlib.suppress(OSError):  # it died; the monitor reports the trial lost
                    worker.conn.send_bytes(pickle.dumps(("task", task)))

    def _on_death(self, worker: _Worker) -> None:
        try:
            code = worker.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:  # connection lost but still alive: end it
            _kill(worker.popen)
            code = worker.popen.wait()
        with self._lock:
            worker.conn.close()
            number, worker.number = worker.number, None
            if self._closing:
                return
            if number is None:
                self._early_deaths += 1
            cause = f"worker process {worker.popen.pid} {_describe_exit(code)}"
            if self._early_deaths >= _MAX_EARLY_DEATHS:
                self._context.post(Fatal(RuntimeError(f"worker processes keep dying: {cause}")))
                return
            self._spawn(worker.slot, worker.env)
        if number is not None:
            self._context.post(Lost(number, f"{cause} while running the trial"))

    def _check_starting(self) -> None:
        """Notice workers that hang while starting."""
        now = time.monotonic()
        with self._lock:
            starting = [w for w in self._workers.values() if not w.ready]
        for worker in starting:
            if now - worker.started > self.start_timeout:
                cause = f"worker process did not start within {self.start_timeout:g} s"
                self._context.post(Fatal(RuntimeError(cause)))
                return


def _kill(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is None:
        with contextlib.suppress(OSError):
            popen.kill()


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


# ---------------------------------------------------------------------- worker side
_BOOT = "from hpopt.execution.process import worker_main; worker_main()"


class _ConnectionChannel:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any:
        self._conn.send_bytes(cloudpickle.dumps(("request", number, method, args)))
        kind, reply = pickle.loads(self._conn.recv_bytes())
        assert kind == "reply"
        return reply.unwrap()


def _exit_when_driver_dies(lifeline: int) -> None:
    """Block on the lifeline pipe; end of file means the driver is gone: exit at once."""
    while True:
        try:
            if not os.read(lifeline, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    with contextlib.suppress(OSError):
        os.write(2, b"hpopt worker: the driver process is gone; exiting\n")
    os._exit(1)


def worker_main() -> None:
    """Entry point of a worker process: connect, load the objective, run trials."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    threading.Thread(
        target=_exit_when_driver_dies,
        args=(int(sys.argv[3]),),
        name="hpopt-driver-lifeline",
        daemon=True,
    ).start()
    conn = Connection(int(sys.argv[1]))
    _, sys_path, objective_data = pickle.loads(conn.recv_bytes())
    sys.path[:0] = [p for p in sys_path if p not in sys.path]
    try:
        objective = load_objective(objective_data)
    except BaseException as e:
        from hpopt.study.optimize import format_error

        conn.send_bytes(pickle.dumps(("broken", format_error(e))))
        return
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
    attrs = {} if gpus is None else {"gpu_ids": gpus.split(",")}
    conn.send_bytes(pickle.dumps(("ready",)))
    channel = _ConnectionChannel(conn)
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        task: TrialTask = message[1]
        result = execute_task(objective, task, channel, attrs)
        conn.send_bytes(pickle.dumps(("result", task.record.number, result_to_bytes(result))))
