"""What a record says about where it ran: date, machine, library versions."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from importlib import metadata
from typing import Any

__all__ = ["limit_threads", "machine_info", "package_version"]


def package_version(package: str) -> str | None:
    """Installed version of ``package``, or ``None``."""
    if not package:
        return None
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Date (UTC), host, CPU and Python of this process."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def limit_threads(n: int) -> None:
    """Cap BLAS/OpenMP (numpy, scipy, scikit-learn) and torch at ``n`` threads in this
    process and in libraries it imports later; ``n <= 0`` leaves the defaults.

    On a small shared machine, several threads per optimizer oversubscribe the cores and
    make GP-based peers several times slower, which would distort their timings.
    """
    if n <= 0:
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
