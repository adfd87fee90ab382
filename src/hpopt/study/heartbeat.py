"""Heartbeats: prove a running trial's worker is alive; fail (and retry) trials of dead ones.

A study with a :class:`HeartbeatPolicy` stamps each trial it runs every ``interval`` seconds
from one background thread per process. Any process of the study (and ``hpopt reap``) marks
FAIL the RUNNING trials whose last heartbeat is older than ``grace`` seconds, and re-enqueues
each with the same parameters up to ``retry_failed`` times.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpopt.exceptions import StorageError
from hpopt.storage.base import BaseStorage
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.trial.trial import Trial

__all__ = [
    "POLICY_ATTR",
    "RETRY_ATTEMPT_KEY",
    "RETRY_OF_KEY",
    "HeartbeatPolicy",
    "enqueue_retry",
    "reap_stale_trials",
]

#: Study system attribute holding the policy, so every process of the study follows it.
POLICY_ATTR = "heartbeat_policy"
#: Trial system attributes of a retry: the number of the trial it runs again, and which
#: retry of that trial it is (1 for the first).
RETRY_OF_KEY = "retry_of"
RETRY_ATTEMPT_KEY = "retry_attempt"


@dataclass(frozen=True)
class HeartbeatPolicy:
    """How a study detects and handles trials whose worker died.

    Parameters
    ----------
    interval
        Seconds between heartbeats of a running trial.
    grace
        A RUNNING trial whose last heartbeat is older than this is marked FAIL
        (default: ``4 * interval``). Must exceed ``interval``.
    retry_failed
        How many times a trial failed this way is re-enqueued with the same parameters.
    """

    interval: float
    grace: float | None = None
    retry_failed: int = 0

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise ValueError(f"heartbeat_interval must be > 0 seconds, got {self.interval!r}")
        if self.grace is None:
            object.__setattr__(self, "grace", 4.0 * self.interval)
        elif not self.grace > self.interval:
            raise ValueError(
                f"grace_period ({self.grace} s) must be longer than heartbeat_interval "
                f"({self.interval} s), or live trials would be failed"
            )
        if isinstance(self.retry_failed, bool) or self.retry_failed < 0:
            raise ValueError(f"retry_failed must be >= 0, got {self.retry_failed!r}")

    @property
    def grace_seconds(self) -> float:
        assert self.grace is not None
        return self.grace

    def to_json(self) -> dict[str, Any]:
        return {"interval": self.interval, "grace": self.grace, "retry_failed": self.retry_failed}

    @classmethod
    def from_args(
        cls, interval: float | None, grace: float | None, retry_failed: int
    ) -> HeartbeatPolicy | None:
        """The policy of ``create_study``'s arguments (``None`` without an interval)."""
        if interval is None:
            if grace is not None or retry_failed:
                raise ValueError("grace_period and retry_failed need a heartbeat_interval")
            return None
        return cls(interval, grace, retry_failed)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HeartbeatPolicy:
        return cls(float(data["interval"]), float(data["grace"]), int(data["retry_failed"]))


def enqueue_retry(
    storage: BaseStorage, study_id: int, failed: FrozenTrial, max_retries: int
) -> bool:
    """Queue a new trial with the parameters of ``failed`` unless it used up its retries.

    The retry is a WAITING trial (the next ``ask`` of any process takes it) linked to
    ``failed`` by the ``retry_of`` and ``retry_attempt`` system attributes. Parameters the
    trial had not suggested when it died are sampled anew. Returns whether one was queued.
    """
    from hpopt.trial.trial import FIXED_PARAMS_KEY

    attempt = int(failed.system_attrs.get(RETRY_ATTEMPT_KEY, 0))
    if attempt >= max_retries:
        return False
    params = {**(failed.system_attrs.get(FIXED_PARAMS_KEY) or {}), **failed.params}
    template = FrozenTrial(
        number=-1,
        state=TrialState.WAITING,
        user_attrs=dict(failed.user_attrs),
        system_attrs={
            FIXED_PARAMS_KEY: params,
            RETRY_OF_KEY: failed.number,
            RETRY_ATTEMPT_KEY: attempt + 1,
        },
    )
    storage.create_trial(study_id, template)
    return True


def reap_stale_trials(
    storage: BaseStorage, study_id: int, grace: float, retry_failed: int = 0
) -> list[int]:
    """FAIL the study's stale RUNNING trials and re-enqueue them; return the failed numbers.

    Each stale trial is failed by exactly one caller (the storage guarantees it), and only
    that caller enqueues its retry, so a trial is retried once however many processes reap.
    """
    failed = storage.fail_stale_trials(study_id, grace)
    for number in failed if retry_failed > 0 else ():
        record = storage.get_trial(storage.get_trial_id_from_number(study_id, number))
        enqueue_retry(storage, study_id, record, retry_failed)
    return failed


class Heartbeat:
    """One daemon thread per study object that beats for every trial it runs.

    Under a heartbeat policy a trial writes each suggested parameter at once (see
    :meth:`hpopt.Trial.suggest`), so a trial whose worker dies is retried with the
    parameters it had; the beats themselves only stamp the trials alive.
    """

    def __init__(self, storage: BaseStorage, interval: float) -> None:
        self._storage = storage
        self._interval = interval
        self._lock = threading.Lock()
        self._trial_ids: set[int] = set()
        self._thread: threading.Thread | None = None

    def start(self, trial: Trial) -> None:
        """Beat for ``trial`` (created with its first heartbeat) until :meth:`stop`."""
        with self._lock:
            self._trial_ids.add(trial.trial_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hpopt-heartbeat", daemon=True
                )
                self._thread.start()

    def stop(self, trial_id: int) -> None:
        with self._lock:
            self._trial_ids.discard(trial_id)

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            with self._lock:
                if not self._trial_ids:
                    self._thread = None  # the next start() begins a new thread
                    return
                beating = list(self._trial_ids)
            for trial_id in beating:
                # Finished meanwhile, or the storage is briefly unreachable: a missed beat
                # only matters after the grace period.
                with contextlib.suppress(StorageError):
                    self._storage.record_heartbeat(trial_id)
