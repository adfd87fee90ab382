"""A lock for samplers that survives pickling."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["SamplerLock"]


class SamplerLock:
    """A re-entrant lock that pickles as a fresh, unlocked one.

    Samplers are pickled with the objects that hold them (a fitted scikit-learn search, a
    study sent to a worker process); a bare ``threading.RLock`` cannot be.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)

    def __reduce__(self) -> tuple[type[SamplerLock], tuple[()]]:
        return (SamplerLock, ())
