"""Study-level persistence on every storage: errors, resume, copying, heartbeats, retries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hpopt
from hpopt.exceptions import DuplicatedStudyError, StorageError, StudyNotFoundError
from hpopt.space.distributions import Float
from hpopt.storage import BaseStorage, InMemoryStorage, TrialUpdate, default_storage_url
from hpopt.storage.admin import reap
from hpopt.storage.sql import SQLStorage
from hpopt.study.heartbeat import RETRY_ATTEMPT_KEY, RETRY_OF_KEY, HeartbeatPolicy
from hpopt.testing.storage_worker import wait_until
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState


def quadratic(trial: hpopt.Trial) -> float:
    return (trial.suggest_float("x", -3, 3) - 1) ** 2


def test_missing_study_is_named(storage: BaseStorage) -> None:
    with pytest.raises(StudyNotFoundError, match="no study named 'nope'"):
        hpopt.load_study(study_name="nope", storage=storage)
    with pytest.raises(StudyNotFoundError, match="'nope'"):
        hpopt.delete_study(study_name="nope", storage=storage)


def test_duplicate_name_raises_and_writes_nothing(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage, study_name="dup", direction="maximize")
    study.optimize(quadratic, n_trials=3, show_progress_bar=False)
    before = storage.get_all_studies()
    with pytest.raises(DuplicatedStudyError, match=r"'dup' already exists.*load_if_exists"):
        hpopt.create_study(storage=storage, study_name="dup", direction="maximize")
    with pytest.raises(DuplicatedStudyError):
        hpopt.create_study(storage=storage, study_name="dup", heartbeat_interval=1.0)
    assert storage.get_all_studies() == before
    assert _has_no_policy(storage, study.study_id)
    again = hpopt.create_study(storage=storage, study_name="dup", load_if_exists=True)
    assert again.trials == study.trials and again.direction is hpopt.StudyDirection.MAXIMIZE


def _has_no_policy(storage: BaseStorage, study_id: int) -> bool:
    return "heartbeat_policy" not in storage.get_study_system_attrs(study_id)


def test_resume_with_load_if_exists(storage: BaseStorage) -> None:
    first = hpopt.create_study(storage=storage, study_name="resume", load_if_exists=True)
    first.optimize(quadratic, n_trials=4, show_progress_bar=False)
    done = first.trials
    second = hpopt.create_study(storage=storage, study_name="resume", load_if_exists=True)
    second.optimize(quadratic, n_trials=3, show_progress_bar=False)
    trials = second.trials
    assert [t.number for t in trials] == list(range(7))
    assert trials[:4] == done
    summaries = hpopt.get_all_study_summaries(storage)
    assert [(s.study_name, s.n_trials) for s in summaries] == [("resume", 7)]
    assert summaries[0].best_values == (second.best_value,)


def test_enqueued_trials_run_once(storage: BaseStorage) -> None:
    study = hpopt.create_study(storage=storage)
    for x in (0.5, 1.5, 2.5):
        study.enqueue_trial({"x": x})
    study.optimize(quadratic, n_trials=5, show_progress_bar=False)
    xs = [t.params["x"] for t in study.trials]
    assert xs[:3] == [0.5, 1.5, 2.5] and len(xs) == 5


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Iterator[SQLStorage]:
    store = SQLStorage(f"sqlite:///{tmp_path / 'copy.db'}")
    yield store
    store.close()


def test_copy_study_keeps_everything(storage: BaseStorage, sqlite_target: SQLStorage) -> None:
    study = hpopt.create_study(storage=storage, study_name="src", direction="maximize")
    study.set_user_attr("dataset", "mnist")
    study.enqueue_trial({"x": 0.25})
    study.optimize(quadratic, n_trials=4, show_progress_bar=False)
    trial = study.ask()
    trial.report(0.5, step=0)
    study.tell(trial, state=TrialState.PRUNED)
    for target in (sqlite_target, InMemoryStorage()):
        hpopt.copy_study(from_study_name="src", from_storage=storage, to_storage=target)
        copied = hpopt.load_study(study_name="src", storage=target)
        assert copied.direction is hpopt.StudyDirection.MAXIMIZE
        assert copied.user_attrs == {"dataset": "mnist"}
        strip = [t.replace(trial_id=-1) for t in study.trials]
        assert [t.replace(trial_id=-1) for t in copied.trials] == strip
        before = target.get_all_trials(copied.study_id)
        with pytest.raises(DuplicatedStudyError):
            hpopt.copy_study(from_study_name="src", from_storage=storage, to_storage=target)
        assert target.get_all_trials(copied.study_id) == before
    with pytest.raises(StudyNotFoundError, match="'missing'"):
        hpopt.copy_study(from_study_name="missing", from_storage=storage, to_storage=sqlite_target)


def test_default_storage_url_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HPOPT_STORAGE", raising=False)
    assert default_storage_url() == "sqlite:///hpopt.db"
    monkeypatch.setenv("HPOPT_STORAGE", "postgresql://u@h/db")
    assert default_storage_url() == "postgresql://u@h/db"


# ---------------------------------------------------------------------- heartbeats
def test_heartbeat_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="must be longer than heartbeat_interval"):
        HeartbeatPolicy(1.0, 0.5)
    with pytest.raises(ValueError, match="need a heartbeat_interval"):
        hpopt.create_study(retry_failed=1)
    assert HeartbeatPolicy(0.5).grace == 2.0


def test_policy_is_stored_and_followed_by_other_processes(storage: BaseStorage) -> None:
    hpopt.create_study(
        storage=storage, study_name="hb", heartbeat_interval=0.5, grace_period=3, retry_failed=2
    )
    loaded = hpopt.load_study(study_name="hb", storage=storage)
    assert loaded.heartbeat_policy == HeartbeatPolicy(0.5, 3.0, 2)
    local = hpopt.load_study(study_name="hb", storage=storage, heartbeat_interval=1.0)
    assert local.heartbeat_policy == HeartbeatPolicy(1.0)


def test_live_trial_is_kept_and_its_params_are_persisted(storage: BaseStorage) -> None:
    study = hpopt.create_study(
        storage=storage, study_name="live", heartbeat_interval=0.1, grace_period=0.5
    )
    reaper = hpopt.load_study(study_name="live", storage=storage)
    trial = study.ask()
    x = trial.suggest_float("x", -3, 3)
    wait_until(lambda: storage.get_trial(trial.trial_id).params == {"x": x}, 30, "params")
    end = time.monotonic() + 1.5  # three grace periods of "training"
    while time.monotonic() < end:
        assert reap(storage, "live") == []
        time.sleep(0.05)
    assert reaper.get_trials()[0].state is TrialState.RUNNING
    study.tell(trial, x)
    assert study.trials[0].state is TrialState.COMPLETE


def _dead_trial(
    storage: BaseStorage, study: hpopt.Study, x: float, retry_attempt: int = 0
) -> FrozenTrial:
    """A RUNNING trial whose worker wrote its params, beat once, and died."""
    template = FrozenTrial(number=-1, state=TrialState.RUNNING)
    if retry_attempt:
        template = template.replace(system_attrs={RETRY_ATTEMPT_KEY: retry_attempt})
    record = storage.create_trial(study.study_id, template)
    storage.update_trial(
        record.trial_id, TrialUpdate(params={"x": x}, distributions={"x": Float(-3, 3, name="x")})
    )
    storage.record_heartbeat(record.trial_id)
    return record


def test_ask_reaps_a_dead_trial_and_reruns_its_params(storage: BaseStorage) -> None:
    study = hpopt.create_study(
        storage=storage,
        study_name="dead",
        heartbeat_interval=0.05,
        grace_period=0.3,
        retry_failed=1,
    )
    dead = _dead_trial(storage, study, 0.75)
    deadline = time.monotonic() + 30
    while True:  # other work goes on; some ask reaps the dead trial once it is stale
        trial = study.ask()
        if trial.system_attrs.get(RETRY_OF_KEY) == dead.number:
            break
        study.tell(trial, quadratic(trial))
        assert time.monotonic() < deadline, "the dead trial was not reaped"
        time.sleep(0.02)
    assert trial.suggest_float("x", -3, 3) == 0.75
    study.tell(trial, 0.0)
    record = storage.get_trial(dead.trial_id)
    assert record.state is TrialState.FAIL and "stale" in (record.error or "")
    assert record.datetime_complete is not None
    retries = [t for t in study.trials if RETRY_OF_KEY in t.system_attrs]
    assert len(retries) == 1 and retries[0].state is TrialState.COMPLETE
    assert retries[0].system_attrs[RETRY_ATTEMPT_KEY] == 1


def test_a_retry_that_dies_is_not_retried_again(storage: BaseStorage) -> None:
    study = hpopt.create_study(
        storage=storage,
        study_name="twice",
        heartbeat_interval=0.05,
        grace_period=0.3,
        retry_failed=1,
    )
    dead = _dead_trial(storage, study, 0.5, retry_attempt=1)
    reaped: list[int] = []
    wait_until(lambda: reaped.extend(reap(storage, "twice")) or reaped, 30, "the reap")
    assert reaped == [dead.number]
    assert storage.get_n_trials(study.study_id, (TrialState.WAITING,)) == 0
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_reap_needs_a_grace_period(storage: BaseStorage) -> None:
    hpopt.create_study(storage=storage, study_name="plain")
    with pytest.raises(ValueError, match="no heartbeat policy"):
        reap(storage, "plain")
    assert reap(storage, "plain", grace=10.0) == []


class FlakyStorage(SQLStorage):
    """Finishing writes fail with a transient error ``failures`` times, then succeed."""

    failures = 0

    def update_trial(self, trial_id: int, update: TrialUpdate) -> bool:
        if update.state is not None and update.state.is_finished() and self.failures > 0:
            self.failures -= 1
            raise StorageError("injected lock timeout", transient=True)
        return super().update_trial(trial_id, update)


def test_final_write_is_retried(tmp_path: Path) -> None:
    store = FlakyStorage(f"sqlite:///{tmp_path / 'flaky.db'}")
    study = hpopt.create_study(storage=store)
    store.failures = 3
    study.optimize(quadratic, n_trials=3, show_progress_bar=False)
    assert store.failures == 0
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    store.close()


def test_final_write_that_keeps_failing_never_leaves_the_trial_running(tmp_path: Path) -> None:
    store = FlakyStorage(f"sqlite:///{tmp_path / 'flaky.db'}")
    study = hpopt.create_study(
        storage=store, study_name="f", heartbeat_interval=0.05, grace_period=0.3
    )
    store.failures = 1000
    with pytest.raises(StorageError, match="injected"):
        study.optimize(quadratic, n_trials=1, show_progress_bar=False)
    # The worker stopped beating for the trial it could not finish: it is reaped, not left
    # RUNNING forever.
    store.failures = 0
    wait_until(lambda: reap(store, "f") != [], 30, "the unfinished trial to be reaped")
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    store.close()
