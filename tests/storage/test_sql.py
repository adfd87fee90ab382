"""SQL storage specifics: URLs, connection errors, SQLite tuning, retries under real locks."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hpopt
from hpopt.exceptions import StorageError
from hpopt.storage import get_storage
from hpopt.storage.sql import SQLStorage
from hpopt.storage.sql.engine import normalize_url
from hpopt.trial.state import TrialState

POSTGRES_URL = os.environ.get("HPOPT_TEST_POSTGRES_URL")


def test_import_hpopt_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, hpopt; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'alembic', 'psycopg')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u@h/db",
        "postgresql://u@h/db",
        "postgresql+psycopg://u@h/db",
    ],
)
def test_postgres_urls_use_psycopg3(url: str) -> None:
    assert normalize_url(url).drivername == "postgresql+psycopg"


def test_plain_paths_are_sqlite_files(tmp_path: Path) -> None:
    for target in (str(tmp_path / "a.db"), tmp_path / "b.sqlite"):
        store = get_storage(target)
        assert isinstance(store, SQLStorage) and store.url.startswith("sqlite:///")
        store.close()
    assert (tmp_path / "a.db").is_file() and (tmp_path / "b.sqlite").is_file()


def test_unknown_scheme_names_it_and_hides_the_password() -> None:
    with pytest.raises(ValueError, match="unsupported storage 'mysql://me:\\*\\*\\*@host/db'"):
        hpopt.create_study(storage="mysql://me:secret@host/db")
    with pytest.raises(ValueError, match="unsupported storage"):
        hpopt.create_study(storage="results.csv")


def test_unreachable_postgres_is_a_clear_storage_error() -> None:
    url = "postgresql://me:secret@127.0.0.1:1/nowhere"
    with pytest.raises(StorageError) as info:
        hpopt.create_study(storage=url, study_name="x")
    message = str(info.value)
    assert message.startswith("storage postgresql+psycopg://me:***@127.0.0.1:1/nowhere cannot be")
    assert "secret" not in message and "Connection refused" in message


def test_sqlite_in_a_missing_directory_names_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/x.db"
    with pytest.raises(StorageError, match=r"sqlite:///.*no/such/dir/x.db cannot be opened"):
        SQLStorage(url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = SQLStorage(f"sqlite:///{tmp_path / 'x.db'}")
    with store._get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 20000
    store.close()


def _hold_exclusive_lock(path: Path, locked: threading.Event, release: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    locked.set()
    release.wait(30)
    conn.execute("COMMIT")
    conn.close()


def test_sqlite_lock_errors_are_retried_until_the_lock_goes(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    # A 50 ms busy timeout makes the lock surface as "database is locked" errors at once,
    # so the storage's own retry loop (not SQLite's busy wait) has to ride it out.
    store = SQLStorage(f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 0.05}})
    sid = store.create_study([hpopt.StudyDirection.MINIMIZE], "s")
    trial = store.create_trial(sid)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_exclusive_lock, args=(path, locked, release))
    holder.start()
    assert locked.wait(10)
    timer = threading.Timer(1.0, release.set)
    timer.start()
    start = time.monotonic()
    assert store.finish_trial(trial.trial_id, TrialState.COMPLETE, [1.0])
    assert time.monotonic() - start >= 0.9  # it really waited for the lock
    holder.join()
    assert store.get_trial(trial.trial_id).values == (1.0,)
    store.close()


def test_exhausted_retries_raise_a_transient_error_and_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    store = SQLStorage(
        f"sqlite:///{path}",
        engine_kwargs={"connect_args": {"timeout": 0.05}},
        retry_seconds=0.3,
    )
    sid = store.create_study([hpopt.StudyDirection.MINIMIZE], "s")
    trial = store.create_trial(sid)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_exclusive_lock, args=(path, locked, release))
    holder.start()
    assert locked.wait(10)
    try:
        with pytest.raises(StorageError, match="database is locked") as info:
            store.finish_trial(trial.trial_id, TrialState.COMPLETE, [1.0])
        assert info.value.transient
    finally:
        release.set()
        holder.join()
    assert store.get_trial(trial.trial_id).state is TrialState.RUNNING
    store.close()


def test_storage_pickles_and_reconnects(tmp_path: Path) -> None:
    store = SQLStorage(f"sqlite:///{tmp_path / 'x.db'}")
    sid = store.create_study([hpopt.StudyDirection.MINIMIZE], "s")
    clone = pickle.loads(pickle.dumps(store))
    assert clone.get_study_name(sid) == "s"
    clone.create_trial(sid)
    assert store.get_n_trials(sid) == 1
    store.close()
    clone.close()


def _create_in_child(store: SQLStorage, sid: int) -> None:
    store.create_trial(sid)


def test_a_forked_child_does_not_reuse_the_parents_connections(tmp_path: Path) -> None:
    store = SQLStorage(f"sqlite:///{tmp_path / 'x.db'}")
    sid = store.create_study([hpopt.StudyDirection.MINIMIZE], "s")
    store.create_trial(sid)  # the parent's pool now holds a connection
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_create_in_child, args=(store, sid)) for _ in range(3)]
    for c in children:
        c.start()
    for c in children:
        c.join(60)
        assert c.exitcode == 0
    assert [t.number for t in store.get_all_trials(sid)] == [0, 1, 2, 3]
    store.close()


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs HPOPT_TEST_POSTGRES_URL")
def test_postgres_scheme_aliases_open_the_same_database() -> None:
    assert POSTGRES_URL is not None
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgres://")
    store = SQLStorage(plain)
    assert store.url.startswith("postgresql+psycopg://")
    store.get_all_studies()
    store.close()
