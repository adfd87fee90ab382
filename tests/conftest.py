"""Shared fixtures. ``storage`` runs a test on every storage backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keras 3 runs on the torch backend in these tests (set before anything imports keras).
os.environ.setdefault("KERAS_BACKEND", "torch")

from hpopt.storage import BaseStorage, InMemoryStorage

#: Every storage backend; each study-level test that takes ``storage`` runs on all of them.
STORAGE_KINDS = ["memory", "sqlite", "postgres"]

#: The PostgreSQL database the tests use (set by .ci/run); tests needing it skip without it.
POSTGRES_URL = os.environ.get("HPOPT_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "PostgreSQL tests need HPOPT_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


def postgres_schema_url(schema: str) -> str:
    """The test database's URL with every table in ``schema`` (usable from any process)."""
    assert POSTGRES_URL is not None
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def create_postgres_schema() -> str:
    """A fresh, empty PostgreSQL schema (drop it with :func:`drop_postgres_schema`)."""
    import sqlalchemy as sa

    from hpopt.storage.sql.engine import normalize_url

    schema = f"hpopt_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(normalize_url(POSTGRES_URL or ""))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return schema


def drop_postgres_schema(schema: str) -> None:
    import sqlalchemy as sa

    from hpopt.storage.sql.engine import normalize_url

    engine = sa.create_engine(normalize_url(POSTGRES_URL or ""))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


def make_storage(kind: str, tmp_path: Path) -> BaseStorage:
    """A fresh, empty storage of ``kind`` (``postgres``: in a new schema, see below)."""
    if kind == "memory":
        return InMemoryStorage()
    from hpopt.storage.sql import SQLStorage

    if kind == "sqlite":
        return SQLStorage(f"sqlite:///{tmp_path / 'storage.db'}")
    if kind == "postgres":
        if POSTGRES_URL is None:
            pytest.skip(NO_POSTGRES)
        schema = create_postgres_schema()
        store = SQLStorage(postgres_schema_url(schema))
        store._test_schema = schema  # type: ignore[attr-defined]
        return store
    raise ValueError(f"unknown storage kind {kind!r}")


def dispose_storage(store: BaseStorage) -> None:
    """Close a storage from :func:`make_storage` and drop its PostgreSQL schema."""
    store.close()
    schema = getattr(store, "_test_schema", None)
    if schema is not None:
        drop_postgres_schema(schema)


@pytest.fixture(params=STORAGE_KINDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStorage]:
    store = make_storage(request.param, tmp_path)
    yield store
    dispose_storage(store)


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty SQL database, for tests that share it between processes."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    schema = create_postgres_schema()
    yield postgres_schema_url(schema)
    drop_postgres_schema(schema)
