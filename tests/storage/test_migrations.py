"""Schema versions: fresh databases, refusing mismatches, upgrading old fixtures."""

from __future__ import annotations

import math
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from hpopt.exceptions import SchemaVersionError
from hpopt.storage import upgrade_storage
from hpopt.storage.sql import KNOWN_REVISIONS, SCHEMA_HEAD, SQLStorage
from hpopt.storage.sql.engine import normalize_url
from hpopt.storage.sql.schema import VERSION_TABLE, metadata
from hpopt.trial.state import TrialState

from . import make_fixture

FIXTURES = Path(__file__).parent / "fixtures"


def _set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_known_revisions_match_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "hpopt.storage.sql:migrations")
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert tuple(chain) == KNOWN_REVISIONS
    assert script.get_current_head() == SCHEMA_HEAD


def test_migrations_build_exactly_the_declared_schema(storage_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    SQLStorage(storage_url).close()  # creates the schema through the migrations
    engine = sa.create_engine(normalize_url(storage_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_every_schema_fixture_exists() -> None:
    for number in range(1, len(KNOWN_REVISIONS)):
        assert (FIXTURES / f"schema_v{number}.db").is_file(), (
            f"make fixtures/schema_v{number}.db with tests/storage/make_fixture.py"
        )


def test_old_database_is_refused_then_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema_v1.db", path)
    url = f"sqlite:///{path}"
    with pytest.raises(SchemaVersionError, match="hpopt storage upgrade"):
        SQLStorage(url)
    assert upgrade_storage(url) == ("0001", SCHEMA_HEAD)
    assert upgrade_storage(url) == (SCHEMA_HEAD, SCHEMA_HEAD)  # idempotent

    store = SQLStorage(url)
    sid = store.get_study_id_from_name(make_fixture.STUDY_NAME)
    assert store.get_study_user_attrs(sid) == {"dataset": "mnist"}
    trials = store.get_all_trials(sid)
    assert [(t.number, t.state.name) for t in trials] == [
        (n, s) for n, s, *_ in make_fixture.TRIALS
    ]
    first = trials[0]
    assert first.values == (0.5,)
    assert first.params == {"lr": 0.001, "layers": 3, "act": "tanh"}
    assert first.distributions["lr"].to_json() == make_fixture.FLOAT
    assert first.intermediate_values[0] == 0.9 and math.isnan(first.intermediate_values[1])
    assert first.user_attrs == {"seed": 0}
    assert trials[2].error == "ValueError: boom"
    # The upgraded database keeps working: numbering and the queue continue.
    assert store.create_trial(sid).number == 4
    claimed = store.claim_waiting_trial(sid)
    assert claimed is not None and claimed.number == 3 and claimed.state is TrialState.RUNNING
    _, cursor = store.get_trials_since(sid, 0)
    changed, _ = store.get_trials_since(sid, 4)  # the fixture's own changes were seq 1..4
    assert {t.number for t in changed} == {3, 4}
    assert cursor > 4
    store.close()


def test_newer_database_asks_to_upgrade_hpopt(storage_url: str) -> None:
    SQLStorage(storage_url).close()
    _set_revision(storage_url, "9999")
    with pytest.raises(SchemaVersionError, match="upgrade hpopt"):
        SQLStorage(storage_url)
    with pytest.raises(SchemaVersionError, match="newer"):
        upgrade_storage(storage_url)


def test_tables_without_a_version_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'foreign.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hpopt_studies (x INTEGER)")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="no schema version"):
        SQLStorage(url)


def test_processes_opening_a_fresh_database_at_once_create_it_once(storage_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_it() -> None:
        try:
            barrier.wait()
            SQLStorage(storage_url).close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = sa.create_engine(normalize_url(storage_url))
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    engine.dispose()
    assert rows == [(SCHEMA_HEAD,)]
