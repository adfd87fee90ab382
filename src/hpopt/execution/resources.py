"""Resources per trial on one machine: CPU threads and GPU slots for worker processes."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Resources", "plan_worker_environments", "visible_gpu_ids"]

#: Environment variables that size the thread pools of numeric libraries.
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Resources:
    """What one trial needs: ``cpu`` threads and ``gpu`` whole devices."""

    cpu: float | None = None
    gpu: float = 0

    @classmethod
    def parse(cls, resources: Mapping[str, float] | None) -> Resources:
        """From ``{"cpu": 2, "gpu": 1}`` (keys are case-insensitive)."""
        if resources is None:
            return cls()
        if not isinstance(resources, Mapping):
            raise TypeError(
                f"resources must be a dict like {{'cpu': 2, 'gpu': 1}}, got {resources!r}"
            )
        values = {str(k).lower(): v for k, v in resources.items()}
        unknown = sorted(set(values) - {"cpu", "gpu"})
        if unknown:
            raise ValueError(f"unknown resources {unknown}: this executor knows 'cpu' and 'gpu'")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"resources[{key!r}] must be a number >= 0, got {value!r}")
        cpu = values.get("cpu")
        return cls(cpu=None if cpu is None else float(cpu), gpu=float(values.get("gpu", 0)))


def visible_gpu_ids() -> list[str]:
    """Ids of the GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else the
    devices ``nvidia-smi`` lists, else none."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def plan_worker_environments(
    n_workers: int, resources: Resources, gpu_ids: Sequence[str] | None
) -> list[dict[str, str]]:
    """One environment per worker process (their number may be below ``n_workers``).

    With ``gpu=k`` each worker owns ``k`` devices of its own through
    ``CUDA_VISIBLE_DEVICES``, so there are at most ``len(gpu_ids) // k`` workers; with
    ``cpu=c`` the thread pools of numeric libraries get ``c`` threads.

    Raises
    ------
    ValueError
        If trials need GPUs and fewer than one trial's worth are available.
    """
    envs: list[dict[str, str]] = [{} for _ in range(n_workers)]
    if resources.cpu is not None:
        threads = str(max(1, int(resources.cpu)))
        for env in envs:
            env.update(dict.fromkeys(_THREAD_VARS, threads))
    if resources.gpu:
        if resources.gpu != int(resources.gpu):
            raise ValueError(
                f"resources['gpu'] must be a whole number of devices per trial, got "
                f"{resources.gpu:g} (share a device by running several trials in one "
                "objective, or use RayExecutor with a fractional num_gpus)"
            )
        per_trial = int(resources.gpu)
        ids = list(gpu_ids) if gpu_ids is not None else visible_gpu_ids()
        slots = len(ids) // per_trial
        if slots == 0:
            raise ValueError(
                f"each trial needs {per_trial} GPU(s) but {len(ids)} are visible "
                f"({', '.join(ids) or 'none'}); pass gpu_ids=[...] or drop resources['gpu']"
            )
        envs = envs[:slots]
        for i, env in enumerate(envs):
            env["CUDA_VISIBLE_DEVICES"] = ",".join(ids[i * per_trial : (i + 1) * per_trial])
    return envs
