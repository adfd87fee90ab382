"""Conformance kit for storages: every clause of the :class:`BaseStorage` contract as a check.

Each check takes an empty storage and raises ``AssertionError`` when the storage breaks the
contract. Run them all over a new storage with pytest::

    import pytest
    from hpopt.testing.storage import STORAGE_CHECKS

    @pytest.mark.parametrize("check", STORAGE_CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check):
        check(MyStorage())

Checks use unique study names, so a storage shared with other data works too.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from hpopt.exceptions import (
    DuplicatedStudyError,
    StudyNotFoundError,
    TrialFinishedError,
    TrialNotFoundError,
)
from hpopt.space.distributions import Categorical, Float, Int
from hpopt.storage.base import BaseStorage, TrialUpdate
from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["STORAGE_CHECKS", "run_all"]

_MIN = (StudyDirection.MINIMIZE,)


def _ensure(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _raises(error: type[BaseException], fn: Callable[[], Any], what: str) -> BaseException:
    try:
        fn()
    except error as e:
        return e
    except BaseException as e:
        raise AssertionError(f"{what}: expected {error.__name__}, got {e!r}") from e
    raise AssertionError(f"{what}: expected {error.__name__}, nothing was raised")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _study(storage: BaseStorage, prefix: str = "conformance") -> int:
    return storage.create_study(_MIN, _name(prefix))


def _run_threads(n: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` in ``n`` threads released together; re-raise the first error."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------- studies
def check_study_lifecycle(storage: BaseStorage) -> None:
    """Create, look up, refuse a duplicate without writing, delete; ids are never reused."""
    name = _name("lifecycle")
    directions = (StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE)
    sid = storage.create_study(directions, name)
    _ensure(storage.get_study_id_from_name(name) == sid, "lookup by name")
    _ensure(storage.get_study_name(sid) == name, "get_study_name")
    _ensure(storage.get_study_directions(sid) == directions, "directions round trip")
    before = [s.study_id for s in storage.get_all_studies()]
    _raises(DuplicatedStudyError, lambda: storage.create_study(_MIN, name), "duplicate name")
    _ensure([s.study_id for s in storage.get_all_studies()] == before, "duplicate wrote nothing")
    _ensure(storage.get_study_directions(sid) == directions, "duplicate changed nothing")
    last = storage.create_study(_MIN, _name("lifecycle"))
    storage.delete_study(last)
    _raises(StudyNotFoundError, lambda: storage.get_study_name(last), "deleted study")
    _raises(StudyNotFoundError, lambda: storage.delete_study(last), "delete twice")
    again = storage.create_study(_MIN, _name("lifecycle"))
    _ensure(again not in (sid, last), f"study id {again} was reused after deletion")
    ids = [s.study_id for s in storage.get_all_studies()]
    _ensure(ids == sorted(ids) and sid in ids and again in ids, "summaries ordered by id")


def check_study_attrs(storage: BaseStorage) -> None:
    """Study attributes are JSON; a non-JSON value raises TypeError and writes nothing."""
    sid = _study(storage)
    value = {"a": [1, 2.5, None, "x"], "b": {"c": True}}
    storage.set_study_user_attr(sid, "k", value)
    storage.set_study_system_attr(sid, "k", 3)
    value["a"].append("changed after the write")  # type: ignore[attr-defined]
    _ensure(
        storage.get_study_user_attrs(sid) == {"k": {"a": [1, 2.5, None, "x"], "b": {"c": True}}},
        "user attrs round trip (and are not aliased to the caller's object)",
    )
    _ensure(storage.get_study_system_attrs(sid) == {"k": 3}, "system attrs are separate")
    storage.set_study_user_attr(sid, "k", "overwritten")
    _ensure(storage.get_study_user_attrs(sid) == {"k": "overwritten"}, "overwrite")
    _raises(TypeError, lambda: storage.set_study_user_attr(sid, "bad", object()), "non-JSON")
    _ensure("bad" not in storage.get_study_user_attrs(sid), "non-JSON attr wrote nothing")
    _raises(StudyNotFoundError, lambda: storage.set_study_user_attr(-7, "k", 1), "unknown study")
    summary = next(s for s in storage.get_all_studies() if s.study_id == sid)
    _ensure(dict(summary.user_attrs) == {"k": "overwritten"}, "summary user attrs")


# ---------------------------------------------------------------------- trials
def _full_template(state: TrialState = TrialState.COMPLETE) -> FrozenTrial:
    dists = {
        "lr": Float(1e-5, 1e-1, log=True, name="lr"),
        "drop": Float(0.0, 0.5, step=0.1, name="drop"),
        "layers": Int(1, 8, name="layers"),
        "units": Int(16, 256, log=True, name="units"),
        "act": Categorical(("relu", None, True, 3, 0.5), name="act"),
    }
    return FrozenTrial(
        number=-1,
        state=state,
        values=(0.25,) if state is TrialState.COMPLETE else None,
        params={"lr": 1e-3, "drop": 0.2, "layers": 3, "units": 64, "act": None},
        distributions=dists,
        intermediate_values={0: 1.0, 1: math.nan, 2: math.inf, 3: -0.5},
        user_attrs={"note": "hello", "nested": {"list": [1, 2, 3]}},
        system_attrs={"origin": "conformance"},
    )


def _same(a: FrozenTrial, b: FrozenTrial, what: str) -> None:
    """Equal records, with NaN equal to NaN in intermediate values."""
    ivs = []
    for t in (a, b):
        ivs.append({k: ("nan" if math.isnan(v) else v) for k, v in t.intermediate_values.items()})
    _ensure(ivs[0] == ivs[1], f"{what}: intermediate values {ivs[0]} != {ivs[1]}")
    for f in dataclasses.fields(FrozenTrial):
        if f.name == "intermediate_values":
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        _ensure(x == y, f"{what}: {f.name} {x!r} != {y!r}")


def check_trial_round_trip(storage: BaseStorage) -> None:
    """Everything a trial holds comes back as written, from create and from update."""
    sid = _study(storage)
    created = storage.create_trial(sid, _full_template())
    _ensure(created.number == 0 and created.trial_id >= 0, "number and id assigned")
    _same(storage.get_trial(created.trial_id), created, "create_trial record vs get_trial")
    for name, value in _full_template().params.items():
        got = created.params[name]
        _ensure(got == value and type(got) is type(value), f"param {name}: {got!r} vs {value!r}")

    running = storage.create_trial(sid)
    _ensure(running.state is TrialState.RUNNING, "a plain new trial is RUNNING")
    _ensure(running.datetime_start is not None, "a RUNNING trial has a start time")
    t = _full_template()
    storage.update_trial(
        running.trial_id,
        TrialUpdate(
            params=t.params,
            distributions=t.distributions,
            intermediate_values=t.intermediate_values,
            user_attrs=t.user_attrs,
            system_attrs=t.system_attrs,
        ),
    )
    storage.update_trial(running.trial_id, TrialUpdate(intermediate_values={4: 0.125}))
    _ensure(
        storage.update_trial(
            running.trial_id, TrialUpdate(state=TrialState.COMPLETE, values=(0.25,))
        ),
        "finishing a RUNNING trial returns True",
    )
    done = storage.get_trial(running.trial_id)
    _ensure(done.state is TrialState.COMPLETE and done.values == (0.25,), "finished record")
    _ensure(done.datetime_complete is not None, "finished trials have a completion time")
    _ensure(dict(done.params) == dict(t.params), "params after update")
    _ensure(done.distributions == t.distributions, "distributions after update")
    _ensure(done.intermediate_values[4] == 0.125 and len(done.intermediate_values) == 5, "ivs")
    _ensure(math.isnan(done.intermediate_values[1]), "NaN intermediate value survives")
    _ensure(done.user_attrs == t.user_attrs, "user attrs after update")
    failed = storage.create_trial(sid)
    storage.update_trial(failed.trial_id, TrialUpdate(state=TrialState.FAIL, error="boom\ntb"))
    rec = storage.get_trial(failed.trial_id)
    _ensure(rec.error == "boom\ntb" and rec.values is None, "FAIL keeps its error text")
    _raises(
        TypeError,
        lambda: storage.update_trial(
            storage.create_trial(sid).trial_id, TrialUpdate(user_attrs={"x": object()})
        ),
        "non-JSON trial attribute",
    )


def check_numbers_and_ids(storage: BaseStorage) -> None:
    """Numbers are 0..n-1 in creation order for every kind of creation; ids are never reused."""
    sid = _study(storage)
    made = [
        storage.create_trial(sid),
        storage.create_trial(sid, FrozenTrial(number=99, state=TrialState.WAITING)),
        storage.create_trial(sid, _full_template()),
        storage.create_trial(sid, FrozenTrial(number=-1, state=TrialState.FAIL, trial_id=12345)),
    ]
    _ensure([t.number for t in made] == [0, 1, 2, 3], "numbers 0..n-1, template's ignored")
    _ensure([t.number for t in storage.get_all_trials(sid)] == [0, 1, 2, 3], "ordered by number")
    ids = {t.trial_id for t in made}
    _ensure(len(ids) == 4, "trial ids are unique")
    _ensure(storage.get_n_trials(sid) == 4, "get_n_trials")
    _ensure(storage.get_n_trials(sid, (TrialState.WAITING,)) == 1, "get_n_trials by state")
    states = [t.state for t in storage.get_all_trials(sid, (TrialState.COMPLETE,))]
    _ensure(states == [TrialState.COMPLETE], "get_all_trials by state")
    for t in made:
        _ensure(storage.get_trial_id_from_number(sid, t.number) == t.trial_id, "id from number")
    storage.delete_study(sid)
    other = _study(storage)
    fresh = [storage.create_trial(other).trial_id for _ in range(4)]
    _ensure(not ids & set(fresh), f"trial ids {ids & set(fresh)} reused after deletion")
    _raises(TrialNotFoundError, lambda: storage.get_trial(made[0].trial_id), "deleted trial")


def check_concurrent_numbers(storage: BaseStorage) -> None:
    """Threads creating trials at once get distinct, contiguous numbers."""
    sid = _study(storage)
    got: list[int] = []
    lock = threading.Lock()

    def create(_: int) -> None:
        for _ in range(10):
            n = storage.create_trial(sid).number
            with lock:
                got.append(n)

    _run_threads(8, create)
    _ensure(sorted(got) == list(range(80)), "numbers 0..79 without gaps or duplicates")
    _ensure([t.number for t in storage.get_all_trials(sid)] == list(range(80)), "stored numbers")


def _assign(mapping: Any) -> None:
    mapping["x"] = 1


def check_records_immutable(storage: BaseStorage) -> None:
    """Records are frozen; later writes and the caller's objects never change them."""
    sid = _study(storage)
    attrs = {"tags": ["a"]}
    template = FrozenTrial(number=-1, state=TrialState.WAITING, user_attrs=attrs)
    rec = storage.create_trial(sid, template)
    attrs["tags"].append("changed after the write")
    first = storage.get_trial(rec.trial_id)
    _raises(dataclasses.FrozenInstanceError, lambda: setattr(first, "state", None), "setattr")
    _raises(TypeError, lambda: _assign(first.params), "params are read-only")
    storage.update_trial(rec.trial_id, TrialUpdate(state=TrialState.RUNNING))
    storage.update_trial(
        rec.trial_id,
        TrialUpdate(
            params={"x": 0.5},
            distributions={"x": Float(0, 1, name="x")},
            user_attrs={"more": 1},
        ),
    )
    _ensure(first.state is TrialState.WAITING and not first.params, "held record unchanged")
    latest = storage.get_trial(rec.trial_id)
    _ensure(latest.params == {"x": 0.5} and latest.user_attrs["more"] == 1, "new record")
    stored = storage.get_trial(rec.trial_id).user_attrs["tags"]
    _ensure(stored == ["a"], f"stored attr aliased the caller's list: {stored}")


def check_finished_trials_reject_writes(storage: BaseStorage) -> None:
    """Non-finishing writes to a finished trial raise; finishing again returns False."""
    sid = _study(storage)
    t = storage.create_trial(sid)
    _ensure(storage.finish_trial(t.trial_id, TrialState.COMPLETE, [1.0]), "first finish")
    before = storage.get_trial(t.trial_id)
    for what, update in [
        ("params", TrialUpdate(params={"x": 1.0}, distributions={"x": Float(0, 2, name="x")})),
        ("intermediate values", TrialUpdate(intermediate_values={0: 1.0})),
        ("user attrs", TrialUpdate(user_attrs={"k": 1})),
        ("state RUNNING", TrialUpdate(state=TrialState.RUNNING)),
    ]:
        _raises(
            TrialFinishedError, functools.partial(storage.update_trial, t.trial_id, update), what
        )
    late = TrialUpdate(
        params={"x": 1.0},
        distributions={"x": Float(0, 2, name="x")},
        state=TrialState.FAIL,
        error="late",
    )
    _ensure(not storage.update_trial(t.trial_id, late), "a second finish returns False")
    _same(storage.get_trial(t.trial_id), before, "a rejected write changed the record")


def check_first_writer_wins(storage: BaseStorage) -> None:
    """Of threads finishing one trial at once, exactly one wins and its result is stored."""
    sid = _study(storage)
    for _ in range(3):
        t = storage.create_trial(sid)
        wins: list[int] = []

        def finish(i: int, trial_id: int = t.trial_id, wins: list[int] = wins) -> None:
            if storage.finish_trial(trial_id, TrialState.COMPLETE, [float(i)]):
                wins.append(i)

        _run_threads(6, finish)
        _ensure(len(wins) == 1, f"{len(wins)} callers won finishing one trial")
        _ensure(storage.get_trial(t.trial_id).values == (float(wins[0]),), "winner's values")


def check_claim_waiting_once(storage: BaseStorage) -> None:
    """WAITING trials are claimed oldest first, each by exactly one of many threads."""
    sid = _study(storage)
    waiting = [
        storage.create_trial(sid, FrozenTrial(number=-1, state=TrialState.WAITING))
        for _ in range(20)
    ]
    storage.create_trial(sid)  # a RUNNING trial is never claimed
    first = storage.claim_waiting_trial(sid)
    _ensure(first is not None and first.number == waiting[0].number, "oldest first")
    assert first is not None
    _ensure(first.state is TrialState.RUNNING and first.datetime_start is not None, "claimed")
    claimed: list[int] = [first.number]
    lock = threading.Lock()

    def claim(_: int) -> None:
        while (rec := storage.claim_waiting_trial(sid)) is not None:
            with lock:
                claimed.append(rec.number)

    _run_threads(6, claim)
    _ensure(sorted(claimed) == [w.number for w in waiting], f"claims {sorted(claimed)}")
    _ensure(storage.get_n_trials(sid, (TrialState.WAITING,)) == 0, "none left WAITING")


def check_heartbeats(storage: BaseStorage) -> None:
    """Stale heartbeats fail trials once; fresh or absent heartbeats leave trials alone;
    ``heartbeat=True`` at creation or claim counts as the first heartbeat."""
    sid = _study(storage)
    grace = 0.5
    # Trials stamped when created or claimed go stale with no record_heartbeat call at all.
    born = storage.create_trial(sid, heartbeat=True)
    storage.create_trial(sid, FrozenTrial(number=-1, state=TrialState.WAITING))
    claimed = storage.claim_waiting_trial(sid, heartbeat=True)
    assert claimed is not None
    stale, alive, silent = (storage.create_trial(sid) for _ in range(3))
    done = storage.create_trial(sid)
    for t in (stale, alive, done):
        storage.record_heartbeat(t.trial_id)
    storage.finish_trial(done.trial_id, TrialState.COMPLETE, [0.0])
    storage.record_heartbeat(done.trial_id)  # not RUNNING: nothing happens
    _ensure(storage.fail_stale_trials(sid, grace) == [], "fresh heartbeats are not stale")
    deadline = time.monotonic() + 30
    reaped: list[int] = []
    lock = threading.Lock()

    def reap(_: int) -> None:
        got = storage.fail_stale_trials(sid, grace)
        with lock:
            reaped.extend(got)

    while stale.number not in reaped:  # polls until the grace period has passed for ``stale``
        _ensure(time.monotonic() < deadline, "stale trial not failed within 30 s")
        storage.record_heartbeat(alive.trial_id)
        time.sleep(0.05)
        _run_threads(4, reap)
    expected = [born.number, claimed.number, stale.number]
    _ensure(sorted(reaped) == expected, f"reaped {reaped}, expected exactly {expected}")
    rec = storage.get_trial(stale.trial_id)
    _ensure(rec.state is TrialState.FAIL and "stale" in (rec.error or ""), "stale -> FAIL")
    _ensure(storage.get_trial(alive.trial_id).state is TrialState.RUNNING, "alive kept")
    _ensure(storage.get_trial(silent.trial_id).state is TrialState.RUNNING, "no heartbeat kept")
    _ensure(storage.get_trial(done.trial_id).state is TrialState.COMPLETE, "finished kept")
    _ensure(
        not storage.finish_trial(stale.trial_id, TrialState.COMPLETE, [1.0]),
        "the dead owner's late finish loses",
    )
    _raises(TrialNotFoundError, lambda: storage.record_heartbeat(-5), "unknown trial")
    _raises(StudyNotFoundError, lambda: storage.fail_stale_trials(-5, 1.0), "unknown study")


# ---------------------------------------------------------------------- incremental reads
def _apply(cache: dict[int, FrozenTrial], batch: list[FrozenTrial]) -> None:
    for t in batch:
        cache[t.number] = t


def check_incremental_reads(storage: BaseStorage) -> None:
    """``get_trials_since`` returns every change after the cursor, and only a few others."""
    sid = _study(storage)
    cache: dict[int, FrozenTrial] = {}
    batch, cursor = storage.get_trials_since(sid, 0)
    _ensure(batch == [], "an empty study has no changes")
    trials = [storage.create_trial(sid) for _ in range(5)]
    batch, cursor = storage.get_trials_since(sid, cursor)
    _apply(cache, batch)
    _ensure(sorted(cache) == [0, 1, 2, 3, 4], "new trials are changes")
    storage.finish_trial(trials[2].trial_id, TrialState.COMPLETE, [2.0])
    batch, cursor = storage.get_trials_since(sid, cursor)
    _apply(cache, batch)
    _ensure(2 in {t.number for t in batch}, "a finished trial is a change")
    _ensure(cache[2].state is TrialState.COMPLETE, "the change carries the new record")
    again, cursor = storage.get_trials_since(sid, cursor)
    _ensure(len(again) <= 1, f"nothing changed but {len(again)} records came back")
    _ensure(list(cache.values()) == storage.get_all_trials(sid), "cache equals a full read")
    _raises(StudyNotFoundError, lambda: storage.get_trials_since(-3, 0), "unknown study")


def check_incremental_reads_concurrent(storage: BaseStorage) -> None:
    """A reader polling while threads write misses nothing."""
    sid = _study(storage)
    stop = threading.Event()
    cache: dict[int, FrozenTrial] = {}
    errors: list[BaseException] = []

    def read() -> None:
        cursor = 0
        try:
            while not stop.is_set():
                batch, cursor = storage.get_trials_since(sid, cursor)
                _apply(cache, batch)
            batch, cursor = storage.get_trials_since(sid, cursor)
            _apply(cache, batch)
        except BaseException as e:
            errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()

    def write(i: int) -> None:
        for k in range(8):
            t = storage.create_trial(sid)
            storage.update_trial(t.trial_id, TrialUpdate(intermediate_values={0: float(k)}))
            storage.finish_trial(t.trial_id, TrialState.COMPLETE, [float(i * 100 + k)])

    try:
        _run_threads(4, write)
    finally:
        stop.set()
        reader.join()
    if errors:
        raise errors[0]
    full = storage.get_all_trials(sid)
    _ensure(len(full) == 32, "all trials written")
    _ensure([cache.get(t.number) for t in full] == full, "incremental cache missed a change")


# ---------------------------------------------------------------------- errors
def check_unknown_ids(storage: BaseStorage) -> None:
    """Unknown study and trial ids raise the specific not-found errors."""
    missing = -12345
    for what, fn in [
        ("get_study_name", lambda: storage.get_study_name(missing)),
        ("get_study_directions", lambda: storage.get_study_directions(missing)),
        ("get_study_id_from_name", lambda: storage.get_study_id_from_name(_name("nope"))),
        ("get_all_trials", lambda: storage.get_all_trials(missing)),
        ("get_n_trials", lambda: storage.get_n_trials(missing)),
        ("create_trial", lambda: storage.create_trial(missing)),
        ("claim_waiting_trial", lambda: storage.claim_waiting_trial(missing)),
        ("get_study_user_attrs", lambda: storage.get_study_user_attrs(missing)),
    ]:
        _raises(StudyNotFoundError, fn, what)
    sid = _study(storage)
    for what, fn in [
        ("get_trial", lambda: storage.get_trial(missing)),
        ("update_trial", lambda: storage.update_trial(missing, TrialUpdate(user_attrs={"a": 1}))),
        ("get_trial_id_from_number", lambda: storage.get_trial_id_from_number(sid, 3)),
    ]:
        _raises(TrialNotFoundError, fn, what)
    _ensure(storage.get_n_trials(sid) == 0, "failed calls wrote nothing")


def check_summaries(storage: BaseStorage) -> None:
    """Study summaries count trials and give the best value of single-objective studies."""
    low = storage.create_study(_MIN, _name("summary"))
    high = storage.create_study((StudyDirection.MAXIMIZE,), _name("summary"))
    for sid in (low, high):
        for v in (3.0, 1.0, 2.0):
            storage.create_trial(
                sid, FrozenTrial(number=-1, state=TrialState.COMPLETE, values=(v,))
            )
        storage.create_trial(sid)
    by_id = {s.study_id: s for s in storage.get_all_studies()}
    _ensure(by_id[low].n_trials == 4 and by_id[high].n_trials == 4, "n_trials")
    _ensure(by_id[low].best_values == (1.0,), f"minimize best {by_id[low].best_values}")
    _ensure(by_id[high].best_values == (3.0,), f"maximize best {by_id[high].best_values}")


#: Every check, in a stable order (use as a pytest parametrization).
STORAGE_CHECKS: list[Callable[[BaseStorage], None]] = [
    check_study_lifecycle,
    check_study_attrs,
    check_trial_round_trip,
    check_numbers_and_ids,
    check_concurrent_numbers,
    check_records_immutable,
    check_finished_trials_reject_writes,
    check_first_writer_wins,
    check_claim_waiting_once,
    check_heartbeats,
    check_incremental_reads,
    check_incremental_reads_concurrent,
    check_unknown_ids,
    check_summaries,
]


def run_all(make_storage: Callable[[], BaseStorage]) -> None:
    """Run every check, each on a fresh storage from ``make_storage``."""
    for check in STORAGE_CHECKS:
        store = make_storage()
        try:
            check(store)
        finally:
            store.close()
