"""Storages: where studies and trials are remembered."""

from __future__ import annotations

from hpopt.storage.base import BaseStorage, StudySummary, TrialUpdate
from hpopt.storage.memory import InMemoryStorage

__all__ = ["BaseStorage", "InMemoryStorage", "StudySummary", "TrialUpdate", "get_storage"]


def get_storage(storage: BaseStorage | str | None) -> BaseStorage:
    """Return a storage for ``storage``: an instance, a database URL, or ``None`` (memory).

    Raises
    ------
    ValueError
        If the URL scheme is not supported.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, str):
        scheme = storage.split(":", 1)[0].lower() if ":" in storage else ""
        if scheme.startswith(("sqlite", "postgresql", "postgres")):
            from hpopt.storage.sql import SQLStorage  # type: ignore[import-not-found]

            return SQLStorage(storage)  # type: ignore[no-any-return]
        raise ValueError(
            f"unsupported storage URL {storage!r}: expected sqlite:///path.db or "
            "postgresql+psycopg://user@host/db (or pass a storage object)"
        )
    raise TypeError(
        f"storage must be a URL string or a storage object, got {type(storage).__name__}"
    )
