"""In-memory storage: fast, thread-safe, gone when the process ends."""

from __future__ import annotations

import bisect
import copy
import datetime as _dt
import itertools
import json
import threading
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpopt.exceptions import (
    DuplicatedStudyError,
    StudyNotFoundError,
    TrialFinishedError,
    TrialNotFoundError,
)
from hpopt.storage.base import BaseStorage, StudySummary, TrialUpdate
from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["InMemoryStorage"]


def _now() -> _dt.datetime:
    return _dt.datetime.now()


def _check_json(value: Any, what: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be JSON-serializable: {e}") from None
    return copy.deepcopy(value)


@dataclass
class _Study:
    study_id: int
    name: str
    directions: tuple[StudyDirection, ...]
    created: _dt.datetime
    trials: list[FrozenTrial] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)  # last change sequence of each trial
    # Every change as (sequence, trial number), in sequence order, so that an incremental
    # read costs the number of changes since the cursor, not the number of trials.
    change_seqs: list[int] = field(default_factory=list)
    change_numbers: list[int] = field(default_factory=list)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    heartbeats: dict[int, float] = field(default_factory=dict)  # number -> monotonic time
    n_waiting: int = 0


class InMemoryStorage(BaseStorage):
    """Keeps studies in this process's memory. See :class:`BaseStorage` for the contract."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[int, _Study] = {}
        self._trial_index: dict[int, tuple[int, int]] = {}  # trial_id -> (study_id, number)
        self._study_ids = itertools.count()
        self._trial_ids = itertools.count()
        self._clock = itertools.count(1)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ studies
    def _study(self, study_id: int) -> _Study:
        try:
            return self._studies[study_id]
        except KeyError:
            raise StudyNotFoundError(f"no study with id {study_id}") from None

    def create_study(self, directions: Sequence[StudyDirection], study_name: str) -> int:
        with self._lock:
            if any(s.name == study_name for s in self._studies.values()):
                raise DuplicatedStudyError(
                    f"a study named {study_name!r} already exists; "
                    "pass load_if_exists=True to load it"
                )
            sid = next(self._study_ids)
            self._studies[sid] = _Study(sid, study_name, tuple(directions), _now())
            return sid

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            study = self._study(study_id)
            for t in study.trials:
                self._trial_index.pop(t.trial_id, None)
            del self._studies[study_id]

    def get_study_id_from_name(self, study_name: str) -> int:
        with self._lock:
            for s in self._studies.values():
                if s.name == study_name:
                    return s.study_id
        raise StudyNotFoundError(f"no study named {study_name!r}")

    def get_study_name(self, study_id: int) -> str:
        return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> tuple[StudyDirection, ...]:
        return self._study(study_id).directions

    def get_all_studies(self) -> list[StudySummary]:
        with self._lock:
            out = []
            for s in sorted(self._studies.values(), key=lambda s: s.study_id):
                best = _best_values(s.trials, s.directions)
                out.append(
                    StudySummary(
                        study_id=s.study_id,
                        study_name=s.name,
                        directions=s.directions,
                        n_trials=len(s.trials),
                        best_values=best,
                        datetime_start=s.created,
                        user_attrs=dict(s.user_attrs),
                    )
                )
            return out

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        with self._lock:
            self._study(study_id).user_attrs[key] = _check_json(value, f"attribute {key!r}")

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        with self._lock:
            self._study(study_id).system_attrs[key] = _check_json(value, f"attribute {key!r}")

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._study(study_id).user_attrs)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._study(study_id).system_attrs)

    # ------------------------------------------------------------------ trials
    def _locate(self, trial_id: int) -> tuple[_Study, int]:
        try:
            sid, number = self._trial_index[trial_id]
        except KeyError:
            raise TrialNotFoundError(f"no trial with id {trial_id}") from None
        return self._studies[sid], number

    def _store(self, study: _Study, number: int, record: FrozenTrial) -> None:
        seq = next(self._clock)
        if number == len(study.trials):
            study.trials.append(record)
            study.seq.append(seq)
        else:
            study.trials[number] = record
            study.seq[number] = seq
        study.change_seqs.append(seq)
        study.change_numbers.append(number)

    def create_trial(
        self, study_id: int, template: FrozenTrial | None = None, *, heartbeat: bool = False
    ) -> FrozenTrial:
        with self._lock:
            study = self._study(study_id)
            number = len(study.trials)
            trial_id = next(self._trial_ids)
            if template is None:
                record = FrozenTrial(
                    number=number,
                    trial_id=trial_id,
                    state=TrialState.RUNNING,
                    datetime_start=_now(),
                )
            else:
                start = template.datetime_start
                if start is None and template.state is not TrialState.WAITING:
                    start = _now()
                record = template.replace(
                    number=number,
                    trial_id=trial_id,
                    datetime_start=start,
                    user_attrs=_check_json(dict(template.user_attrs), "user attributes"),
                    system_attrs=_check_json(dict(template.system_attrs), "system attributes"),
                )
                if template.state is TrialState.WAITING:
                    study.n_waiting += 1
            self._trial_index[trial_id] = (study_id, number)
            self._store(study, number, record)
            if heartbeat and record.state is TrialState.RUNNING:
                study.heartbeats[number] = time.monotonic()
            return record

    def claim_waiting_trial(self, study_id: int, *, heartbeat: bool = False) -> FrozenTrial | None:
        with self._lock:
            study = self._study(study_id)
            if study.n_waiting == 0:
                return None
            for number, t in enumerate(study.trials):
                if t.state is TrialState.WAITING:
                    record = t.replace(state=TrialState.RUNNING, datetime_start=_now())
                    self._store(study, number, record)
                    study.n_waiting -= 1
                    if heartbeat:
                        study.heartbeats[number] = time.monotonic()
                    return record
            return None  # pragma: no cover - n_waiting is kept exact

    def update_trial(self, trial_id: int, update: TrialUpdate) -> bool:
        with self._lock:
            study, number = self._locate(trial_id)
            old = study.trials[number]
            finishing = update.state is not None and update.state.is_finished()
            if old.state.is_finished():
                if finishing:
                    return False
                raise TrialFinishedError(
                    f"trial {old.number} is already {old.state.name}; finished trials cannot change"
                )
            changes: dict[str, Any] = {}
            if update.params:
                params = old.params.to_dict()  # type: ignore[attr-defined]
                params.update(update.params)
                dists = old.distributions.to_dict()  # type: ignore[attr-defined]
                dists.update(update.distributions)
                changes["params"] = params
                changes["distributions"] = dists
            if update.intermediate_values:
                iv = old.intermediate_values.to_dict()  # type: ignore[attr-defined]
                iv.update({int(k): float(v) for k, v in update.intermediate_values.items()})
                changes["intermediate_values"] = iv
            if update.user_attrs:
                ua = old.user_attrs.to_dict()  # type: ignore[attr-defined]
                ua.update(_check_json(dict(update.user_attrs), "user attributes"))
                changes["user_attrs"] = ua
            if update.system_attrs:
                sa = old.system_attrs.to_dict()  # type: ignore[attr-defined]
                sa.update(_check_json(dict(update.system_attrs), "system attributes"))
                changes["system_attrs"] = sa
            if update.state is not None:
                if old.state is TrialState.WAITING and update.state is TrialState.RUNNING:
                    study.n_waiting -= 1
                changes["state"] = update.state
                if finishing:
                    changes["values"] = update.values
                    changes["error"] = update.error
                    changes["datetime_complete"] = _now()
                    study.heartbeats.pop(number, None)
            if changes:
                self._store(study, number, old.replace(**changes))
            return True

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self._lock:
            study, number = self._locate(trial_id)
            return study.trials[number]

    def get_all_trials(
        self, study_id: int, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        with self._lock:
            trials = self._study(study_id).trials
            if states is None:
                return list(trials)
            return [t for t in trials if t.state in states]

    def get_trials_since(self, study_id: int, cursor: int) -> tuple[list[FrozenTrial], int]:
        with self._lock:
            study = self._study(study_id)
            start = bisect.bisect_right(study.change_seqs, cursor)
            numbers = sorted(set(study.change_numbers[start:]))
            last = study.change_seqs[-1] if study.change_seqs else cursor
            return [study.trials[n] for n in numbers], last

    def get_n_trials(self, study_id: int, states: Container[TrialState] | None = None) -> int:
        with self._lock:
            trials = self._study(study_id).trials
            if states is None:
                return len(trials)
            return sum(1 for t in trials if t.state in states)

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        with self._lock:
            trials = self._study(study_id).trials
            if not 0 <= number < len(trials):
                raise TrialNotFoundError(f"study {study_id} has no trial number {number}")
            return trials[number].trial_id

    # ------------------------------------------------------------------ heartbeats
    def record_heartbeat(self, trial_id: int) -> None:
        with self._lock:
            study, number = self._locate(trial_id)
            if study.trials[number].state is TrialState.RUNNING:
                study.heartbeats[number] = time.monotonic()

    def fail_stale_trials(self, study_id: int, grace_seconds: float) -> list[int]:
        with self._lock:
            study = self._study(study_id)
            now = time.monotonic()
            failed = []
            for number, beat in list(study.heartbeats.items()):
                t = study.trials[number]
                if t.state is TrialState.RUNNING and now - beat > grace_seconds:
                    self.update_trial(
                        t.trial_id,
                        TrialUpdate(
                            state=TrialState.FAIL,
                            error=f"stale: no heartbeat for more than {grace_seconds:g} s "
                            "(the worker running it died or hung)",
                        ),
                    )
                    failed.append(number)
            return sorted(failed)


def _best_values(
    trials: list[FrozenTrial], directions: tuple[StudyDirection, ...]
) -> tuple[float, ...] | None:
    if len(directions) != 1:
        return None
    sign = directions[0].sign
    best: float | None = None
    for t in trials:
        if t.state is TrialState.COMPLETE and t.values is not None:
            v = t.values[0]
            if best is None or sign * v < sign * best:
                best = v
    return None if best is None else (best,)
