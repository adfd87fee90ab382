"""SQL storage (SQLite, PostgreSQL) through SQLAlchemy, with alembic schema migrations.

Importing this package imports SQLAlchemy; ``import hpopt`` does not.
"""

from __future__ import annotations

from hpopt.storage.sql.schema import KNOWN_REVISIONS, SCHEMA_HEAD
from hpopt.storage.sql.storage import SQLStorage

__all__ = ["KNOWN_REVISIONS", "SCHEMA_HEAD", "SQLStorage", "upgrade_storage"]


def upgrade_storage(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade the schema of the database at ``url`` to ``revision`` (default: the newest).

    Back the database up first. Safe to run while no hpopt process writes to it; running it
    on an up-to-date database does nothing.

    Returns
    -------
    tuple
        The schema revision before (``None`` for an empty database) and after.

    Raises
    ------
    SchemaVersionError
        If the database is newer than this version of hpopt.
    """
    from sqlalchemy import exc

    from hpopt.exceptions import StorageError
    from hpopt.storage.sql.engine import describe_error, make_engine, normalize_url, public_url
    from hpopt.storage.sql.migrate import run_upgrade

    parsed = normalize_url(url)
    engine = make_engine(parsed)
    try:
        return run_upgrade(engine, public_url(parsed), revision)
    except exc.DBAPIError as e:
        raise StorageError(
            f"cannot upgrade the storage {public_url(parsed)}: {describe_error(e)}"
        ) from e
    finally:
        engine.dispose()
