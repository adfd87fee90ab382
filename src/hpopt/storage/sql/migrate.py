"""Schema versions: create a fresh database, refuse a mismatched one, upgrade an old one.

Migrations are alembic scripts shipped in ``migrations/versions``; they run on a connection
hpopt opens, inside one transaction that holds the database's write lock (SQLite) or an
advisory lock (PostgreSQL), so processes opening a fresh database at once create it once.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, select, table, text
from sqlalchemy import column as sa_column

from hpopt.exceptions import SchemaVersionError
from hpopt.storage.sql.schema import KNOWN_REVISIONS, SCHEMA_HEAD, VERSION_TABLE

__all__ = ["check_schema", "current_revision", "run_upgrade"]

#: Arbitrary key of the PostgreSQL advisory lock that serializes schema changes.
_PG_LOCK_KEY = 0x6870_6F70_74  # "hpopt"


def current_revision(conn: Connection) -> str | None:
    """The schema revision of the database, or ``None`` when it has no hpopt tables.

    Raises
    ------
    SchemaVersionError
        If hpopt tables exist without a version stamp.
    """
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in names:
        if "hpopt_studies" in names:
            raise SchemaVersionError(
                "the database has hpopt tables but no schema version; it was not written by "
                "hpopt or is damaged"
            )
        return None
    version = table(VERSION_TABLE, sa_column("version_num"))
    rows = conn.execute(select(version.c.version_num)).scalars().all()
    return rows[0] if rows else None


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _mismatch(revision: str, where: str) -> SchemaVersionError:
    if revision in KNOWN_REVISIONS:
        return SchemaVersionError(
            f"the database {where} has schema revision {revision}, older than the revision "
            f"{SCHEMA_HEAD} this version of hpopt uses; back it up, then run "
            f"`hpopt storage upgrade {where}` (or hpopt.storage.upgrade_storage(url))"
        )
    return SchemaVersionError(
        f"the database {where} has schema revision {revision}, newer than this version of "
        f"hpopt knows (up to {SCHEMA_HEAD}); upgrade hpopt (pip install -U hpopt)"
    )


def check_schema(engine: Engine, where: str) -> None:
    """Create the schema in an empty database; raise if an existing one is not the head.

    Raises
    ------
    SchemaVersionError
        If the database's schema is older (run ``hpopt storage upgrade``) or newer (upgrade
        hpopt) than this version of hpopt.
    """
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision == SCHEMA_HEAD:
        return
    if revision is not None:
        raise _mismatch(revision, where)
    with engine.connect().execution_options(hpopt_write=True) as conn, conn.begin():
        _lock(conn)
        revision = current_revision(conn)  # another process may have created it meanwhile
        if revision is None:
            _alembic_upgrade(conn, SCHEMA_HEAD)
        elif revision != SCHEMA_HEAD:
            raise _mismatch(revision, where)


def run_upgrade(engine: Engine, where: str, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade the schema to ``revision``; return the revisions before and after.

    Raises
    ------
    SchemaVersionError
        If the database is newer than this version of hpopt, or ``revision`` is unknown.
    """
    target = SCHEMA_HEAD if revision == "head" else revision
    if target not in KNOWN_REVISIONS:
        raise SchemaVersionError(f"unknown schema revision {revision!r}; known: {KNOWN_REVISIONS}")
    with engine.connect().execution_options(hpopt_write=True) as conn, conn.begin():
        _lock(conn)
        before = current_revision(conn)
        if before is not None and before not in KNOWN_REVISIONS:
            raise _mismatch(before, where)
        if before is None or KNOWN_REVISIONS.index(before) < KNOWN_REVISIONS.index(target):
            _alembic_upgrade(conn, target)
    return before, target


def _alembic_upgrade(conn: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "hpopt.storage.sql:migrations")
    config.attributes["connection"] = conn
    command.upgrade(config, target)
