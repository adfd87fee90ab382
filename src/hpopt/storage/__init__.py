"""Storages: where studies and trials are remembered."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from hpopt.storage.base import BaseStorage, StudySummary, TrialUpdate
from hpopt.storage.memory import InMemoryStorage

__all__ = [
    "BaseStorage",
    "InMemoryStorage",
    "StudySummary",
    "TrialUpdate",
    "default_storage_url",
    "get_storage",
    "opened_storage",
    "upgrade_storage",
]

#: The storage the command line uses when neither ``--storage`` nor HPOPT_STORAGE is given.
DEFAULT_STORAGE_URL = "sqlite:///hpopt.db"
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def default_storage_url() -> str:
    """The ``HPOPT_STORAGE`` environment variable, or ``sqlite:///hpopt.db``."""
    return os.environ.get("HPOPT_STORAGE") or DEFAULT_STORAGE_URL


def _masked(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def get_storage(storage: BaseStorage | str | os.PathLike[str] | None) -> BaseStorage:
    """Return a storage for ``storage``: an instance, a database URL, a path, or ``None``.

    ``None`` gives a new in-memory storage; ``sqlite:///file.db``, a path ending in ``.db``,
    ``.sqlite`` or ``.sqlite3``, or an :class:`os.PathLike` a SQLite file; a PostgreSQL URL
    (``postgresql+psycopg://``, ``postgresql://``, ``postgres://``) a PostgreSQL database.

    Raises
    ------
    ValueError
        If the URL scheme is not supported.
    StorageError
        If the database cannot be reached.
    SchemaVersionError
        If the database's schema is older or newer than this version of hpopt.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, os.PathLike):
        storage = f"sqlite:///{os.fspath(storage)}"
    if isinstance(storage, str):
        if "://" not in storage and storage.lower().endswith(_SQLITE_SUFFIXES):
            storage = f"sqlite:///{storage}"
        scheme = storage.split("://", 1)[0].lower() if "://" in storage else ""
        if scheme.split("+", 1)[0] in ("sqlite", "postgresql", "postgres"):
            from hpopt.storage.sql import SQLStorage

            return SQLStorage(storage)
        raise ValueError(
            f"unsupported storage {_masked(storage)!r}: expected sqlite:///path.db, a path "
            "ending in .db, postgresql+psycopg://user@host/db, or a storage object"
        )
    raise TypeError(
        f"storage must be a URL string or a storage object, got {type(storage).__name__}"
    )


@contextlib.contextmanager
def opened_storage(storage: BaseStorage | str | os.PathLike[str]) -> Iterator[BaseStorage]:
    """:func:`get_storage` for one operation: a storage opened here from a URL is closed
    at the end; a storage object passed in is left open."""
    store = get_storage(storage)
    try:
        yield store
    finally:
        if store is not storage:
            store.close()


def upgrade_storage(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade a database's schema (what ``hpopt storage upgrade URL`` runs).

    See :func:`hpopt.storage.sql.upgrade_storage`.
    """
    from hpopt.storage.sql import upgrade_storage as upgrade

    return upgrade(url, revision)
