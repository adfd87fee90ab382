"""``SQLStorage``: studies in a SQLite file or a PostgreSQL database, shared by processes."""

from __future__ import annotations

import datetime as _dt
import json
import os
import random
import threading
import time
from collections.abc import Callable, Container, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Float,
    cast,
    delete,
    exc,
    extract,
    func,
    insert,
    literal_column,
    select,
    update,
)

from hpopt.exceptions import (
    DuplicatedStudyError,
    StorageError,
    StudyNotFoundError,
    TrialFinishedError,
    TrialNotFoundError,
)
from hpopt.storage.base import BaseStorage, StudySummary, TrialUpdate
from hpopt.storage.sql import statements as q
from hpopt.storage.sql.engine import (
    describe_error,
    is_transient,
    make_engine,
    normalize_url,
    public_url,
)
from hpopt.storage.sql.migrate import check_schema
from hpopt.storage.sql.records import (
    TrialQuery,
    dump_json,
    encode_attrs,
    encode_params,
    load_trials,
    upsert,
    write_trial_data,
)
from hpopt.storage.sql.schema import studies, study_attrs, trials
from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["SQLStorage"]

T = TypeVar("T")

_WAITING = TrialState.WAITING.name
_RUNNING = TrialState.RUNNING.name


def _now() -> _dt.datetime:
    return _dt.datetime.now()


class SQLStorage(BaseStorage):
    """Studies in a SQL database: a SQLite file on one machine, PostgreSQL across machines.

    Many processes (and threads) may share one database. See :class:`BaseStorage` for the
    contract; how this storage keeps it:

    * Every transaction that changes a trial first increments its study's change counter
      (``hpopt_studies.seq``). That row update locks the study row until commit, so changes
      to one study are serialized: trial numbers come from the same row (no gaps, no
      duplicates), claiming a WAITING trial and finishing a trial are first-come, and each
      changed trial is stamped with the counter value of its transaction.
    * Because the counter is taken under that lock and released only at commit, counter
      values become visible in increasing order: once a reader sees value ``s`` committed,
      every smaller value was committed before. :meth:`get_trials_since` reads
      ``seq > cursor`` in one snapshot and returns the largest ``seq`` it saw as the next
      cursor, so it never misses a change.
    * Transient errors (SQLite "database is locked", PostgreSQL serialization failures,
      deadlocks, dropped connections) roll the transaction back and retry it with jittered
      exponential back-off for up to ``retry_seconds``; then
      :class:`~hpopt.exceptions.StorageError` with ``transient=True`` is raised.

    Parameters
    ----------
    url
        ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host/db``
        (``postgresql://`` and ``postgres://`` use psycopg 3 too).
    engine_kwargs
        Extra arguments for :func:`sqlalchemy.create_engine` (e.g. ``connect_args``).
    retry_seconds
        How long transient errors are retried before giving up.

    Raises
    ------
    SchemaVersionError
        If the database was written by an older (run ``hpopt storage upgrade``) or newer
        (upgrade hpopt) schema.
    StorageError
        If the database cannot be reached.

    Examples
    --------
    >>> import hpopt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "study.db")
    >>> study = hpopt.create_study(storage=f"sqlite:///{path}", study_name="demo")
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
    >>> len(hpopt.load_study(study_name="demo", storage=f"sqlite:///{path}").trials)
    3
    """

    def __init__(
        self,
        url: str,
        *,
        engine_kwargs: dict[str, Any] | None = None,
        retry_seconds: float = 60.0,
    ) -> None:
        try:
            self._url = normalize_url(url)
        except exc.ArgumentError as e:
            raise ValueError(f"invalid storage URL {url!r}: {e}") from None
        self.url = public_url(self._url)
        self._engine_kwargs = dict(engine_kwargs or {})
        self.retry_seconds = retry_seconds
        self._engine: Engine | None = None
        self._pid = -1
        self._engine_lock = threading.Lock()
        try:
            # Lock errors (many processes creating a fresh database) are retried; an
            # unreachable server is not, so a wrong URL fails at once.
            self._retrying(lambda: check_schema(self._get_engine(), self.url), "cannot be opened")
        except StorageError:
            self.close()
            raise

    # ------------------------------------------------------------------ plumbing
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_engine"] = None
        del state["_engine_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._engine_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLStorage({self.url!r})"

    def _get_engine(self) -> Engine:
        engine = self._engine
        if engine is not None and self._pid == os.getpid():
            return engine
        with self._engine_lock:
            if self._engine is not None and self._pid != os.getpid():
                # A forked child must not use its parent's pooled connections.
                self._engine.dispose(close=False)
                self._engine = None
            if self._engine is None:
                self._engine = make_engine(self._url, self._engine_kwargs)
                self._pid = os.getpid()
            return self._engine

    def close(self) -> None:
        """Close pooled connections (the storage reconnects if used again)."""
        with self._engine_lock:
            if self._engine is not None and self._pid == os.getpid():
                self._engine.dispose()
            self._engine = None

    def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction, retrying the whole transaction on transient errors."""

        def transaction() -> T:
            with self._get_engine().connect() as conn:
                if write:
                    conn.execution_options(hpopt_write=True)
                with conn.begin():
                    return fn(conn)

        return self._retrying(transaction, "failed")

    def _retrying(self, fn: Callable[[], T], failed: str) -> T:
        """Call ``fn``, again after transient database errors (jittered exponential back-off)
        until ``retry_seconds`` have passed; raise ``StorageError`` saying ``failed``."""
        deadline: float | None = None
        delay = 0.005
        while True:
            try:
                return fn()
            except exc.DBAPIError as e:
                if not is_transient(e):
                    raise StorageError(f"storage {self.url} {failed}: {describe_error(e)}") from e
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.retry_seconds
                if now >= deadline:
                    raise StorageError(
                        f"storage {self.url} {failed}, still after {self.retry_seconds:g} s "
                        f"of retries: {describe_error(e)}",
                        transient=True,
                    ) from e
                time.sleep(min(delay * (0.5 + random.random()), max(deadline - now, 0.0)))
                delay = min(delay * 2, 0.5)

    def _db_now(self, conn: Connection) -> ColumnElement[float]:
        """Seconds since the epoch on the database's clock (shared by all machines)."""
        if conn.dialect.name == "sqlite":
            return literal_column("((julianday('now') - 2440587.5) * 86400.0)")
        return cast(extract("epoch", func.clock_timestamp()), Float)

    @staticmethod
    def _lock_study(conn: Connection, study_id: int) -> int:
        """Take the study's next change counter value, locking its row until commit."""
        seq = conn.execute(q.LOCK_STUDY, {"sid": study_id}).scalar()
        if seq is None:
            raise StudyNotFoundError(f"no study with id {study_id}")
        return int(seq)

    def _missing_study(self, conn: Connection, study_id: int) -> bool:
        return conn.execute(q.STUDY_EXISTS, {"sid": study_id}).first() is None

    # ------------------------------------------------------------------ studies
    def create_study(self, directions: Sequence[StudyDirection], study_name: str) -> int:
        dirs = json.dumps([d.name.lower() for d in directions])

        def tx(conn: Connection) -> int:
            taken = conn.execute(
                select(studies.c.study_id).where(studies.c.study_name == study_name)
            ).first()
            if taken is not None:
                raise DuplicatedStudyError(
                    f"a study named {study_name!r} already exists in {self.url}; "
                    "pass load_if_exists=True to load it"
                )
            row = conn.execute(
                insert(studies)
                .values(
                    study_name=study_name,
                    directions=dirs,
                    datetime_created=_now(),
                    next_number=0,
                    seq=0,
                )
                .returning(studies.c.study_id)
            ).one()
            return int(row[0])

        try:
            return self._run(tx, write=True)
        except StorageError as e:
            # Two processes creating the same name at once: the loser hits the unique key.
            if isinstance(e.__cause__, exc.IntegrityError):
                raise DuplicatedStudyError(
                    f"a study named {study_name!r} already exists in {self.url}; "
                    "pass load_if_exists=True to load it"
                ) from None
            raise

    def delete_study(self, study_id: int) -> None:
        def tx(conn: Connection) -> None:
            gone = conn.execute(delete(studies).where(studies.c.study_id == study_id)).rowcount
            if not gone:
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")

        self._run(tx, write=True)

    def get_study_id_from_name(self, study_name: str) -> int:
        row = self._run(
            lambda c: c.execute(
                select(studies.c.study_id).where(studies.c.study_name == study_name)
            ).first(),
            write=False,
        )
        if row is None:
            raise StudyNotFoundError(f"no study named {study_name!r} in {self.url}")
        return int(row[0])

    def _study_column(self, study_id: int, column: Any) -> Any:
        row = self._run(
            lambda c: c.execute(select(column).where(studies.c.study_id == study_id)).first(),
            write=False,
        )
        if row is None:
            raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
        return row[0]

    def get_study_name(self, study_id: int) -> str:
        return str(self._study_column(study_id, studies.c.study_name))

    def get_study_directions(self, study_id: int) -> tuple[StudyDirection, ...]:
        text = self._study_column(study_id, studies.c.directions)
        return tuple(StudyDirection[d.upper()] for d in json.loads(text))

    def get_all_studies(self) -> list[StudySummary]:
        def tx(conn: Connection) -> list[StudySummary]:
            counts: dict[int, int] = {
                sid: n
                for sid, n in conn.execute(
                    select(trials.c.study_id, func.count()).group_by(trials.c.study_id)
                )
            }
            completed: dict[int, list[tuple[float, ...]]] = {}
            for sid, values_json in conn.execute(
                select(trials.c.study_id, trials.c.values_json).where(
                    trials.c.state == TrialState.COMPLETE.name
                )
            ):
                completed.setdefault(sid, []).append(tuple(json.loads(values_json)))
            attrs: dict[int, dict[str, Any]] = {}
            for sid, key, value_json in conn.execute(
                select(study_attrs.c.study_id, study_attrs.c.key, study_attrs.c.value_json).where(
                    study_attrs.c.kind == "user"
                )
            ):
                attrs.setdefault(sid, {})[key] = json.loads(value_json)
            out = []
            for row in conn.execute(select(studies).order_by(studies.c.study_id)):
                dirs = tuple(StudyDirection[d.upper()] for d in json.loads(row.directions))
                best = None
                values = completed.get(row.study_id)
                if len(dirs) == 1 and values:
                    sign = dirs[0].sign
                    best = (min((v[0] for v in values), key=lambda v: sign * v),)
                out.append(
                    StudySummary(
                        study_id=row.study_id,
                        study_name=row.study_name,
                        directions=dirs,
                        n_trials=counts.get(row.study_id, 0),
                        best_values=best,
                        datetime_start=row.datetime_created,
                        user_attrs=attrs.get(row.study_id, {}),
                    )
                )
            return out

        return self._run(tx, write=False)

    def _set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        text = dump_json(value, f"attribute {key!r}")

        def tx(conn: Connection) -> None:
            if self._missing_study(conn, study_id):
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            row = {"study_id": study_id, "kind": kind, "key": key, "value_json": text}
            upsert(conn, study_attrs, [row], ("study_id", "kind", "key"))

        self._run(tx, write=True)

    def _get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        def tx(conn: Connection) -> dict[str, Any]:
            rows = conn.execute(
                select(study_attrs.c.key, study_attrs.c.value_json).where(
                    study_attrs.c.study_id == study_id, study_attrs.c.kind == kind
                )
            ).all()
            if not rows and self._missing_study(conn, study_id):
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            return {key: json.loads(value) for key, value in rows}

        return self._run(tx, write=False)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "user", key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "system", key, value)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._get_study_attrs(study_id, "user")

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._get_study_attrs(study_id, "system")

    # ------------------------------------------------------------------ trials
    def create_trial(
        self, study_id: int, template: FrozenTrial | None = None, *, heartbeat: bool = False
    ) -> FrozenTrial:
        if template is None:
            template = FrozenTrial(number=-1, state=TrialState.RUNNING)
        start = template.datetime_start
        if start is None and template.state is not TrialState.WAITING:
            start = _now()
        param_rows = encode_params(template.params, template.distributions)
        attr_rows = encode_attrs(template.user_attrs, template.system_attrs)
        values_json = None if template.values is None else json.dumps(list(template.values))

        def tx(conn: Connection) -> FrozenTrial:
            row = conn.execute(q.LOCK_STUDY_NEW_TRIAL, {"sid": study_id}).first()
            if row is None:
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            seq, number = int(row[0]), int(row[1]) - 1
            trial_id = conn.execute(
                q.INSERT_TRIAL,
                {
                    "study_id": study_id,
                    "number": number,
                    "state": template.state.name,
                    "values_json": values_json,
                    "datetime_start": start,
                    "datetime_complete": template.datetime_complete,
                    "error": template.error,
                    "seq": seq,
                },
            ).scalar_one()
            write_trial_data(conn, trial_id, param_rows, template.intermediate_values, attr_rows)
            if heartbeat:
                self._stamp(conn, trial_id)
            return template.replace(
                number=number,
                trial_id=trial_id,
                datetime_start=start,
                # What a later read returns: attributes as JSON gives them back.
                user_attrs=json.loads(json.dumps(dict(template.user_attrs))),
                system_attrs=json.loads(json.dumps(dict(template.system_attrs))),
            )

        return self._run(tx, write=True)

    def claim_waiting_trial(self, study_id: int, *, heartbeat: bool = False) -> FrozenTrial | None:
        def peek(conn: Connection) -> int | None:
            row = conn.execute(q.PEEK_WAITING, {"sid": study_id}).first()
            if row is None:
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            return None if row[1] is None else int(row[1])

        # Most asks find no enqueued trial: answer those without taking the study lock.
        if self._run(peek, write=False) is None:
            return None

        def tx(conn: Connection) -> FrozenTrial | None:
            seq = self._lock_study(conn, study_id)
            trial_id = peek(conn)  # again under the lock: another process may have won
            if trial_id is None:
                return None
            conn.execute(
                q.UPDATE_TRIAL,
                {"tid": trial_id, "state": _RUNNING, "datetime_start": _now(), "seq": seq},
            )
            if heartbeat:
                self._stamp(conn, trial_id)
            return load_trials(conn, q.TRIALS_BY_ID, {"tid": trial_id})[0][0]

        return self._run(tx, write=True)

    def update_trial(self, trial_id: int, update_: TrialUpdate) -> bool:
        param_rows = encode_params(update_.params, update_.distributions)
        attr_rows = encode_attrs(update_.user_attrs, update_.system_attrs)
        finishing = update_.state is not None and update_.state.is_finished()
        if update_.is_empty():
            self.get_trial(trial_id)  # unknown ids still raise
            return True

        def tx(conn: Connection) -> bool:
            seq = conn.execute(q.LOCK_STUDY_OF_TRIAL, {"tid": trial_id}).scalar()
            if seq is None:
                raise TrialNotFoundError(f"no trial with id {trial_id} in {self.url}")
            number, state = conn.execute(q.FINISHED_STATE_OF, {"tid": trial_id}).one()
            if TrialState[state].is_finished():
                if finishing:
                    return False
                raise TrialFinishedError(
                    f"trial {number} is already {state}; finished trials cannot change"
                )
            write_trial_data(conn, trial_id, param_rows, update_.intermediate_values, attr_rows)
            values: dict[str, Any] = {"tid": trial_id, "seq": seq}
            if update_.state is not None:
                values["state"] = update_.state.name
                if finishing:
                    values["values_json"] = (
                        None if update_.values is None else json.dumps(list(update_.values))
                    )
                    values["error"] = update_.error
                    values["datetime_complete"] = _now()
            conn.execute(q.UPDATE_TRIAL, values)
            return True

        return self._run(tx, write=True)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        found, _ = self._run(
            lambda c: load_trials(c, q.TRIALS_BY_ID, {"tid": trial_id}), write=False
        )
        if not found:
            raise TrialNotFoundError(f"no trial with id {trial_id} in {self.url}")
        return found[0]

    def _study_trials(
        self, study_id: int, query: TrialQuery, args: dict[str, Any]
    ) -> tuple[list[FrozenTrial], int | None]:
        """Trials of a study that ``query`` selects and the largest ``seq`` among them."""

        def tx(conn: Connection) -> tuple[list[FrozenTrial], int | None]:
            found, top = load_trials(conn, query, {"sid": study_id, **args})
            if not found and self._missing_study(conn, study_id):
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            return found, top

        return self._run(tx, write=False)

    def get_all_trials(
        self, study_id: int, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        if states is None:
            return self._study_trials(study_id, q.TRIALS_OF_STUDY, {})[0]
        names = [s.name for s in TrialState if s in states]
        return self._study_trials(study_id, q.TRIALS_IN_STATES, {"states": names})[0]

    def get_trials_since(self, study_id: int, cursor: int) -> tuple[list[FrozenTrial], int]:
        found, top = self._study_trials(study_id, q.TRIALS_SINCE, {"cursor": cursor})
        return found, cursor if top is None else int(top)

    def get_n_trials(self, study_id: int, states: Container[TrialState] | None = None) -> int:
        where = trials.c.study_id == study_id
        if states is not None:
            where = where & trials.c.state.in_([s.name for s in TrialState if s in states])

        def tx(conn: Connection) -> int:
            n = int(conn.execute(select(func.count()).where(where)).scalar_one())
            if n == 0 and self._missing_study(conn, study_id):
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            return n

        return self._run(tx, write=False)

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        found = self._run(
            lambda c: c.execute(
                select(trials.c.trial_id).where(
                    trials.c.study_id == study_id, trials.c.number == number
                )
            ).scalar(),
            write=False,
        )
        if found is None:
            raise TrialNotFoundError(f"study {study_id} has no trial number {number}")
        return int(found)

    # ------------------------------------------------------------------ heartbeats
    def _stamp(self, conn: Connection, trial_id: int) -> int:
        """Set a RUNNING trial's heartbeat to the database's clock; return rows changed."""
        return conn.execute(
            update(trials)
            .where(trials.c.trial_id == trial_id, trials.c.state == _RUNNING)
            .values(heartbeat=self._db_now(conn))
        ).rowcount

    def record_heartbeat(self, trial_id: int) -> None:
        def tx(conn: Connection) -> None:
            # Not a change of the record: no study lock, no change counter.
            stamped = self._stamp(conn, trial_id)
            if (
                not stamped
                and conn.execute(
                    select(trials.c.trial_id).where(trials.c.trial_id == trial_id)
                ).first()
                is None
            ):
                raise TrialNotFoundError(f"no trial with id {trial_id} in {self.url}")

        self._run(tx, write=True)

    def fail_stale_trials(self, study_id: int, grace_seconds: float) -> list[int]:
        def stale(conn: Connection) -> ColumnElement[bool]:
            return (
                (trials.c.study_id == study_id)
                & (trials.c.state == _RUNNING)
                & trials.c.heartbeat.is_not(None)
                & (trials.c.heartbeat < self._db_now(conn) - grace_seconds)
            )

        def peek(conn: Connection) -> bool:
            if self._missing_study(conn, study_id):
                raise StudyNotFoundError(f"no study with id {study_id} in {self.url}")
            return (
                conn.execute(select(trials.c.trial_id).where(stale(conn)).limit(1)).first()
                is not None
            )

        if not self._run(peek, write=False):
            return []
        error = (
            f"stale: no heartbeat for more than {grace_seconds:g} s "
            "(the worker running it died or hung)"
        )

        def tx(conn: Connection) -> list[int]:
            seq = self._lock_study(conn, study_id)
            numbers = list(
                conn.execute(
                    update(trials)
                    .where(stale(conn))
                    .values(
                        state=TrialState.FAIL.name,
                        error=error,
                        datetime_complete=_now(),
                        seq=seq,
                    )
                    .returning(trials.c.number)
                ).scalars()
            )
            return sorted(numbers)

        return self._run(tx, write=True)
