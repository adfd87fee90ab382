"""Engines for the SQL storage: URL handling, SQLite/PostgreSQL tuning, error classification."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "SQLITE_BUSY_TIMEOUT_S",
    "describe_error",
    "is_transient",
    "make_engine",
    "normalize_url",
    "public_url",
]

#: How long one SQLite statement waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 20.0

#: PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock not available,
#: server shutting down, and the connection-exception class.
_PG_TRANSIENT = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``, sending every PostgreSQL URL to the psycopg 3 driver.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; other drivers
    (``postgresql+psycopg2://``) are kept as given.
    """
    text = str(url) if isinstance(url, URL) else url
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    parsed = make_url(text)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def public_url(url: URL) -> str:
    """The URL as it may appear in messages: the password is masked."""
    return url.render_as_string(hide_password=True)


def make_engine(url: URL, engine_kwargs: dict[str, Any] | None = None) -> Engine:
    """Create an engine tuned for many processes sharing one database.

    SQLite: WAL journal (readers never block the writer), a busy timeout of
    :data:`SQLITE_BUSY_TIMEOUT_S` (``connect_args={"timeout": s}`` changes it), foreign keys on,
    and transactions begun by hpopt (``BEGIN`` or ``BEGIN IMMEDIATE`` for writes, see
    :func:`begin_immediate`) instead of the sqlite3 module's implicit ones.
    PostgreSQL: no ping before each use (it costs a round trip per transaction); a
    connection the server dropped fails its transaction, which the storage retries on a
    fresh connection.
    """
    kwargs = dict(engine_kwargs or {})
    backend = url.get_backend_name()
    if backend == "sqlite":
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _tune_sqlite(engine)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_size", 4)
        kwargs.setdefault("max_overflow", 8)
    try:
        return create_engine(url, **kwargs)
    except ModuleNotFoundError as e:
        hint = " (pip install 'hpopt[postgres]')" if backend == "postgresql" else ""
        raise ImportError(f"the database driver for {public_url(url)} is missing{hint}") from e


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # hpopt emits BEGIN itself (see below)
        cursor = dbapi_connection.cursor()
        try:
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL keeps the database consistent through crashes of the
                # process (kill -9); only a power loss may drop the last transactions.
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock when its transaction starts: two deferred
        # transactions that both read then write would otherwise deadlock on the upgrade
        # (SQLITE_BUSY without waiting); IMMEDIATE makes them queue on the busy timeout.
        immediate = conn.get_execution_options().get("hpopt_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_transient(error: BaseException) -> bool:
    """Whether a database error is worth retrying (a lock, a lost connection)."""
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str):
        return sqlstate in _PG_TRANSIENT or sqlstate.startswith("08")
    if isinstance(error, exc.OperationalError):
        message = str(orig).lower()
        return any(
            s in message
            for s in ("database is locked", "database table is locked", "busy", "server closed")
        )
    return False


def describe_error(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's statement dump and background link."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL (``None`` for an in-memory database)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(url.database)  # type: ignore[arg-type]
