"""The storage interface and its contract.

Every storage (in-memory, SQL) implements :class:`BaseStorage`, and the conformance kit in
``hpopt.testing.storage`` checks every clause of the contract below against each of them.
"""

from __future__ import annotations

import abc
import datetime as _dt
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpopt._frozen import FrozenMap
from hpopt.space.distributions import Distribution
from hpopt.study.direction import StudyDirection
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = ["BaseStorage", "StudySummary", "TrialUpdate"]


@dataclass(frozen=True)
class StudySummary:
    """What listing studies shows, without reading their trials."""

    study_id: int
    study_name: str
    directions: tuple[StudyDirection, ...]
    n_trials: int
    best_values: tuple[float, ...] | None = None
    datetime_start: _dt.datetime | None = None
    user_attrs: Mapping[str, Any] = field(default_factory=FrozenMap)


@dataclass(frozen=True)
class TrialUpdate:
    """A batch of writes to one trial, applied atomically by :meth:`BaseStorage.update_trial`.

    The ``Trial`` handle buffers ``suggest``/``report``/``set_user_attr`` calls and flushes
    them as one update, so a trial costs a few storage round trips, not one per call.
    ``state`` set to a finished state finishes the trial in the same transaction.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    distributions: Mapping[str, Distribution] = field(default_factory=dict)
    intermediate_values: Mapping[int, float] = field(default_factory=dict)
    user_attrs: Mapping[str, Any] = field(default_factory=dict)
    system_attrs: Mapping[str, Any] = field(default_factory=dict)
    state: TrialState | None = None
    values: tuple[float, ...] | None = None
    error: str | None = None

    def is_empty(self) -> bool:
        return not (
            self.params
            or self.intermediate_values
            or self.user_attrs
            or self.system_attrs
            or self.state is not None
        )


class BaseStorage(abc.ABC):
    """Where studies and trials are remembered.

    Contract (checked by ``hpopt.testing.storage`` against every implementation):

    * **Safety.** Every method is safe to call from several threads at once. SQL storages are
      also safe across processes and machines sharing one database; the in-memory storage
      lives in one process.
    * **Immutability.** Returned :class:`FrozenTrial` records never change; a later read
      returns a new record. Callers never need to copy them, and changing an object after
      passing it to the storage (a template, an attribute value) does not change what is
      stored.
    * **Ids.** ``study_id``, ``trial_id`` and a study's trial ``number`` are assigned by the
      storage, are unique, and are never reused, even after deletion. Trial numbers of a
      study are 0, 1, 2, ... in creation order with no gaps or duplicates, however many
      processes create trials at once.
    * **Ownership.** A RUNNING trial belongs to the process that created or claimed it; only
      its owner writes params, intermediate values and attributes. Any process may *finish*
      a RUNNING trial whose heartbeat is stale (:meth:`fail_stale_trials`). Finishing is
      first-writer-wins: exactly one caller sees ``update_trial`` return ``True`` for the
      transition to a finished state; a later finishing update returns ``False`` and writes
      nothing, whatever data it carries. A non-finishing write to a finished trial raises
      :class:`~hpopt.exceptions.TrialFinishedError`.
    * **Waiting trials.** :meth:`claim_waiting_trial` hands each WAITING trial to exactly one
      caller, however many race for it.
    * **Heartbeats.** :meth:`record_heartbeat` stamps a RUNNING trial with the storage's
      clock (for SQL storages the database server's, so machines with skewed clocks agree);
      it does nothing to a trial that is not RUNNING and does not count as a change for
      incremental reads. :meth:`fail_stale_trials` marks FAIL every RUNNING trial of a study
      whose last heartbeat is older than ``grace_seconds`` (trials that never had a
      heartbeat are left alone: their owner does not use heartbeats) and returns their
      numbers; each stale trial is failed by exactly one caller.
    * **Incremental reads.** :meth:`get_trials_since` returns every trial of a study that was
      created or changed after ``cursor`` (a value it returned earlier, or 0) and a new
      cursor; a caller that keeps the records by number and applies each batch sees the same
      trials as :meth:`get_all_trials`. Records may be returned again; none is missed, even
      with many processes writing at once. Cursors are only meaningful for the study and the
      storage that returned them.
    * **Errors.** Unknown ids raise :class:`~hpopt.exceptions.StudyNotFoundError` or
      :class:`~hpopt.exceptions.TrialNotFoundError`; transient failures (locks, lost
      connections) that survive the storage's own retries raise
      :class:`~hpopt.exceptions.StorageError` with ``transient=True``. A failed call writes
      nothing.
    * **Data.** Attribute values are JSON-serializable; nothing read from a storage is ever
      unpickled.
    """

    # ------------------------------------------------------------------ studies
    @abc.abstractmethod
    def create_study(self, directions: Sequence[StudyDirection], study_name: str) -> int:
        """Create a study and return its id.

        Raises
        ------
        DuplicatedStudyError
            If a study named ``study_name`` exists.
        """

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None:
        """Delete a study and all its trials."""

    @abc.abstractmethod
    def get_study_id_from_name(self, study_name: str) -> int:
        """Return the id of the study named ``study_name`` (raises StudyNotFoundError)."""

    @abc.abstractmethod
    def get_study_name(self, study_id: int) -> str:
        """Return the name of a study."""

    @abc.abstractmethod
    def get_study_directions(self, study_id: int) -> tuple[StudyDirection, ...]:
        """Return the directions of a study."""

    @abc.abstractmethod
    def get_all_studies(self) -> list[StudySummary]:
        """Summaries of all studies, ordered by id."""

    @abc.abstractmethod
    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a user attribute of a study."""

    @abc.abstractmethod
    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a system attribute of a study (used by hpopt's components)."""

    @abc.abstractmethod
    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """User attributes of a study."""

    @abc.abstractmethod
    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """System attributes of a study."""

    # ------------------------------------------------------------------ trials
    @abc.abstractmethod
    def create_trial(
        self, study_id: int, template: FrozenTrial | None = None, *, heartbeat: bool = False
    ) -> FrozenTrial:
        """Create a trial and return its record.

        Without ``template`` the trial is RUNNING with nothing set. With ``template`` its
        state, params, distributions, values, intermediate values, attributes and datetimes
        are copied (its ``number`` and ``trial_id`` are ignored and assigned anew): this is
        how WAITING (enqueued) and already finished (added) trials are written.

        With ``heartbeat`` a RUNNING trial gets its first heartbeat in the same atomic step,
        so it goes stale even if its creator dies before it could call
        :meth:`record_heartbeat`.
        """

    @abc.abstractmethod
    def claim_waiting_trial(self, study_id: int, *, heartbeat: bool = False) -> FrozenTrial | None:
        """Atomically move the oldest WAITING trial to RUNNING and return it, or ``None``.

        ``heartbeat``: as for :meth:`create_trial`.
        """

    @abc.abstractmethod
    def update_trial(self, trial_id: int, update: TrialUpdate) -> bool:
        """Apply ``update`` atomically.

        Returns ``True`` if the update was applied. Returns ``False``, writing nothing, when
        ``update.state`` is a finished state and the trial is already finished (somebody else
        finished it first, e.g. as stale), whatever else the update carries.

        Raises
        ------
        TrialFinishedError
            If an update that does not finish the trial writes to a finished trial.
        """

    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """Return a trial's record."""

    @abc.abstractmethod
    def get_all_trials(
        self, study_id: int, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """All trials of a study (optionally only those in ``states``), ordered by number."""

    def get_trials_since(self, study_id: int, cursor: int) -> tuple[list[FrozenTrial], int]:
        """Trials created or changed after ``cursor``, and the cursor to pass next time.

        The default re-reads everything; storages override it to read only what changed.
        """
        return self.get_all_trials(study_id), 0

    def get_n_trials(self, study_id: int, states: Container[TrialState] | None = None) -> int:
        """Number of trials of a study (optionally only those in ``states``)."""
        return len(self.get_all_trials(study_id, states))

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        """The ``trial_id`` of trial ``number`` of a study."""
        from hpopt.exceptions import TrialNotFoundError

        for t in self.get_all_trials(study_id):
            if t.number == number:
                return t.trial_id
        raise TrialNotFoundError(f"study {study_id} has no trial number {number}")

    # ------------------------------------------------------------------ heartbeats
    @abc.abstractmethod
    def record_heartbeat(self, trial_id: int) -> None:
        """Stamp a RUNNING trial as alive now (storage clock)."""

    @abc.abstractmethod
    def fail_stale_trials(self, study_id: int, grace_seconds: float) -> list[int]:
        """FAIL every RUNNING trial whose heartbeat is older than ``grace_seconds``.

        Returns the numbers of the trials this call failed.
        """

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and background resources."""

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()

    # convenience wrappers used by the study layer -------------------------------------
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        values: Sequence[float] | None = None,
        error: str | None = None,
    ) -> bool:
        """Finish a trial; see :meth:`update_trial` for the return value."""
        return self.update_trial(
            trial_id,
            TrialUpdate(state=state, values=None if values is None else tuple(values), error=error),
        )
