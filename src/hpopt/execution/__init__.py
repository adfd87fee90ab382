"""Executors: where trials run (threads, processes, Dask, Ray) and ``hpopt worker``.

``study.optimize(objective, n_jobs=4)`` runs trials in four worker processes;
``executor="thread"`` in threads; ``executor=DaskExecutor(client)`` or ``RayExecutor()`` on a
cluster. The study stays in the calling process (the driver); see ``docs/parallel.md``.
"""

from __future__ import annotations

from hpopt.execution.base import Executor, TrialResult, TrialTask
from hpopt.execution.dask import DaskExecutor
from hpopt.execution.driver import run_parallel
from hpopt.execution.pickling import UnpicklableObjectiveError
from hpopt.execution.process import ProcessExecutor
from hpopt.execution.ray import RayExecutor
from hpopt.execution.remote import RemoteTrial
from hpopt.execution.thread import ThreadExecutor
from hpopt.execution.worker import run_worker

__all__ = [
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "RayExecutor",
    "RemoteTrial",
    "ThreadExecutor",
    "TrialResult",
    "TrialTask",
    "UnpicklableObjectiveError",
    "run_parallel",
    "run_worker",
]
