"""The ``Study``: ask/tell over a storage, with a sampler and a scheduler."""

from __future__ import annotations

import datetime as _dt
import math
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hpopt.exceptions import SpaceExhausted, StorageError
from hpopt.samplers.base import BaseSampler
from hpopt.schedulers.base import BaseScheduler, Decision, NopScheduler
from hpopt.space.distributions import Distribution
from hpopt.space.search_space import SearchSpace, as_search_space
from hpopt.storage.base import BaseStorage, TrialUpdate
from hpopt.study.direction import StudyDirection, as_direction
from hpopt.study.heartbeat import POLICY_ATTR, Heartbeat, HeartbeatPolicy, reap_stale_trials
from hpopt.study.view import StudyView
from hpopt.trial.frozen import FrozenTrial, make_values
from hpopt.trial.state import TrialState
from hpopt.trial.trial import FIXED_PARAMS_KEY, PAUSED_AT_KEY, Trial, resume_template

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Study", "create_study", "load_study", "delete_study", "get_all_study_summaries"]

ObjectiveValue = float | Sequence[float] | None

#: How often a transient storage error on a trial's final write is retried.
_WRITE_RETRIES = 8


class Study:
    """A named optimization run: its trials live in a storage, its proposals come from a
    sampler, and its early stopping from a scheduler.

    Create one with :func:`create_study` or :func:`load_study`, not directly.
    """

    def __init__(
        self,
        study_name: str,
        storage: BaseStorage | str | None,
        *,
        sampler: BaseSampler | None = None,
        scheduler: BaseScheduler | None = None,
        checkpoint_root: str | os.PathLike[str] | None = None,
        heartbeat: HeartbeatPolicy | None = None,
    ) -> None:
        from hpopt.samplers import default_sampler
        from hpopt.storage import get_storage

        self._storage = get_storage(storage)
        self._study_id = self._storage.get_study_id_from_name(study_name)
        self.study_name = study_name
        self.directions: tuple[StudyDirection, ...] = self._storage.get_study_directions(
            self._study_id
        )
        self.sampler: BaseSampler = sampler if sampler is not None else default_sampler()
        self.scheduler: BaseScheduler = scheduler if scheduler is not None else NopScheduler()
        #: Where trials' checkpoint directories live (see :attr:`Trial.checkpoint_dir`).
        self.checkpoint_root = os.fspath(checkpoint_root or "hpopt_runs")
        self._lock = threading.RLock()
        self._records: dict[int, FrozenTrial] = {}
        self._ordered: list[FrozenTrial] = []
        self._cursor = 0
        self._known_dists: dict[str, Distribution] = {}
        self._stop_flag = False
        # Handles this process asked for, so `tell(number)` finds their buffered writes.
        self._live: dict[int, weakref.ref[Trial]] = {}
        if heartbeat is None:
            stored = self._storage.get_study_system_attrs(self._study_id).get(POLICY_ATTR)
            heartbeat = None if stored is None else HeartbeatPolicy.from_json(stored)
        self.heartbeat_policy = heartbeat
        self._heartbeat = (
            None if heartbeat is None else Heartbeat(self._storage, heartbeat.interval)
        )
        self._last_reap = -math.inf

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        # Locks, threads and weak references do not pickle; they are rebuilt on load.
        del state["_lock"], state["_live"], state["_heartbeat"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._live = {}
        policy = self.heartbeat_policy
        self._heartbeat = None if policy is None else Heartbeat(self._storage, policy.interval)

    # ------------------------------------------------------------------ basic facts
    @property
    def storage(self) -> BaseStorage:
        return self._storage

    @property
    def study_id(self) -> int:
        return self._study_id

    @property
    def direction(self) -> StudyDirection:
        """The direction of a single-objective study."""
        if len(self.directions) != 1:
            raise RuntimeError("this study has several objectives; use .directions")
        return self.directions[0]

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._storage.get_study_user_attrs(self._study_id)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable attribute to the study."""
        self._storage.set_study_user_attr(self._study_id, key, value)

    # ------------------------------------------------------------------ history
    def _refresh(self) -> list[FrozenTrial]:
        """Bring the local record cache up to date with one incremental storage read."""
        with self._lock:
            changed, cursor = self._storage.get_trials_since(self._study_id, self._cursor)
            if changed:
                # Trial numbers are 0, 1, 2, ... (storage contract), so a record's number is
                # its position: update in place. Views read a prefix of this list (see
                # StudyView), so appending never changes what an older view holds.
                ordered = self._ordered
                in_place = True
                for t in changed:
                    self._records[t.number] = t
                    for name, dist in t.distributions.items():
                        self._known_dists.setdefault(name, dist)
                    if t.number < len(ordered):
                        ordered[t.number] = t
                    elif t.number == len(ordered):
                        ordered.append(t)
                    else:
                        in_place = False
                if not in_place:
                    self._ordered = [self._records[k] for k in sorted(self._records)]
            self._cursor = cursor
            return self._ordered

    def _view(self) -> StudyView:
        trials = self._refresh()
        return StudyView(
            trials,
            self.directions,
            version=(self._cursor, len(trials)),
            study_name=self.study_name,
        )

    def get_trials(self, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        """Records of the study's trials, ordered by number (optionally only ``states``)."""
        trials = self._refresh()
        if states is None:
            return list(trials)
        return [t for t in trials if t.state in states]

    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials, ordered by number."""
        return self.get_trials()

    def _known_distribution(self, name: str) -> Distribution | None:
        return self._known_dists.get(name)

    def _remember_distribution(self, name: str, dist: Distribution) -> None:
        self._known_dists.setdefault(name, dist)

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial of a single-objective study.

        Raises
        ------
        RuntimeError
            If the study has several objectives (use :attr:`best_trials`).
        ValueError
            If no trial has completed.
        """
        sign = self.direction.sign
        best: FrozenTrial | None = None
        for t in self.get_trials((TrialState.COMPLETE,)):
            assert t.values is not None
            if best is None or sign * t.values[0] < sign * best.values[0]:  # type: ignore[index]
                best = t
        if best is None:
            raise ValueError(f"study {self.study_name!r} has no completed trial yet")
        return best

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The COMPLETE trials on the Pareto front (for one objective: the best ones)."""
        from hpopt.study.pareto import pareto_front

        return pareto_front(self.get_trials((TrialState.COMPLETE,)), self.directions)

    # ------------------------------------------------------------------ ask / tell
    def ask(self, space: Mapping[str, Any] | SearchSpace | None = None) -> Trial:
        """Start a trial and return its handle.

        Enqueued trials are handed out first, then a paused trial the scheduler proposes to
        resume (a new trial with the paused one's params, learning curve and checkpoint
        directory), then a new configuration from the sampler. With ``space`` (a dict or
        :class:`~hpopt.space.SearchSpace`) every parameter is suggested now and the config
        dict is in ``trial.config``.

        Raises
        ------
        SpaceExhausted
            If the sampler has nothing left to propose.
        """
        search_space = as_search_space(space)
        self._reap_if_due()
        view = self._view()
        beats = self._heartbeat is not None
        record = self._storage.claim_waiting_trial(self._study_id, heartbeat=beats)
        if record is None:
            paused = self.scheduler.suggest_resume(view)
            if paused is not None:
                record = self._storage.create_trial(self._study_id, resume_template(paused))
        if record is None:
            if self.sampler_is_exhausted(view):
                raise SpaceExhausted(f"{type(self.sampler).__name__} has nothing left to propose")
            record = self._storage.create_trial(self._study_id, heartbeat=beats)
        trial = Trial(self, record)
        self._live[trial.number] = weakref.ref(trial)
        try:
            if self._heartbeat is not None:
                self._heartbeat.start(trial)
            self.scheduler.on_trial_start(view, trial)
            keep = self.scheduler.history_filter(view, trial)
            sampler_view = (
                view if keep is None else view.filtered(keep, tag=("filter", trial.number))
            )
            trial._sampler_view = sampler_view
            resumed = trial.resumed_from is not None  # its params are known already
            if not resumed:
                self.sampler.before_trial(sampler_view, trial)
            rel_space = (
                {} if resumed else self.sampler.infer_relative_search_space(sampler_view, trial)
            )
            if rel_space:
                trial._relative_space = rel_space
                trial._relative_params = self.sampler.sample_relative(
                    sampler_view, trial, rel_space
                )
            if search_space is not None:
                trial.config = search_space.sample(trial)
        except BaseException as e:
            self._finish(trial, TrialState.FAIL, None, f"sampling failed: {e!r}")
            raise
        return trial

    def _reap_if_due(self) -> None:
        """Fail (and maybe retry) trials of dead workers, at most once per heartbeat."""
        policy = self.heartbeat_policy
        if policy is None or time.monotonic() - self._last_reap < policy.interval:
            return
        self._last_reap = time.monotonic()
        reap_stale_trials(self._storage, self._study_id, policy.grace_seconds, policy.retry_failed)

    def sampler_is_exhausted(self, view: StudyView) -> bool:
        check = getattr(self.sampler, "is_exhausted", None)
        return bool(check(view)) if callable(check) else False

    def tell(
        self,
        trial: Trial | int,
        values: ObjectiveValue = None,
        *,
        state: TrialState | None = None,
        error: str | None = None,
    ) -> FrozenTrial:
        """Finish a trial with its objective value(s) or an explicit state.

        Without ``state``, valid values make the trial COMPLETE; ``None``, NaN, infinity, a
        string or a wrong number of values make it FAIL, with the reason recorded.
        PRUNED records the last reported value.
        """
        if isinstance(trial, int):
            trial = self._handle_for_number(trial)
        if trial.study is not self and trial.study.study_name != self.study_name:
            raise ValueError(f"trial {trial.number} belongs to another study")
        if trial.finished:
            raise RuntimeError(f"trial {trial.number} was already told")
        final_values: tuple[float, ...] | None = None
        if state is None or state is TrialState.COMPLETE:
            final_values, problem = check_values(values, len(self.directions))
            if problem is not None:
                state, error = TrialState.FAIL, error or problem
            else:
                state = TrialState.COMPLETE
        elif state is TrialState.PRUNED:
            paused_step = trial._paused_step()
            if paused_step is not None:
                trial.set_system_attr(PAUSED_AT_KEY, paused_step)
            if values is not None:
                final_values, _ = check_values(values, len(self.directions))
            elif trial._iv and len(self.directions) == 1:
                last = trial._iv[max(trial._iv)]
                final_values = (last,) if math.isfinite(last) else None
        elif state is TrialState.FAIL:
            final_values = None
        else:
            raise ValueError(f"tell takes COMPLETE, PRUNED or FAIL, not {state!r}")
        return self._finish(trial, state, final_values, error)

    def _handle_for_number(self, number: int) -> Trial:
        ref = self._live.get(number)
        live = ref() if ref is not None else None
        if live is not None and not live.finished:
            return live
        trial_id = self._storage.get_trial_id_from_number(self._study_id, number)
        record = self._storage.get_trial(trial_id)
        if record.state is not TrialState.RUNNING:
            raise RuntimeError(f"trial {number} is {record.state.name}, not RUNNING")
        return Trial(self, record)

    def _finish(
        self,
        trial: Trial,
        state: TrialState,
        values: tuple[float, ...] | None,
        error: str | None,
    ) -> FrozenTrial:
        update = trial._drain(state, values, error)
        try:
            applied = self._write(trial._trial_id, update, retries=_WRITE_RETRIES)
        except (TypeError, ValueError) as e:
            # The buffered data cannot be stored (e.g. an attribute that is not JSON): record
            # the trial as failed, with the reason, rather than leave it RUNNING.
            reason = f"could not record the trial: {type(e).__name__}: {e}"
            fallback = replace(
                update,
                user_attrs={},
                system_attrs={},
                state=TrialState.FAIL,
                values=None,
                error=reason if error is None else f"{error}\n{reason}",
            )
            self._write(trial._trial_id, fallback, retries=_WRITE_RETRIES)
            applied = False
        finally:
            # Also when the write failed for good: the silent trial then goes stale and is
            # failed by the next reaper instead of staying RUNNING.
            if self._heartbeat is not None:
                self._heartbeat.stop(trial._trial_id)
        trial.finished = True
        self._live.pop(trial.number, None)
        if applied:
            record = trial.snapshot(
                state, values=values, error=error, datetime_complete=_dt.datetime.now()
            )
        else:  # the fallback above, or somebody finished it first (e.g. reaped as stale)
            record = self._storage.get_trial(trial._trial_id)
        if type(self.sampler).after_trial is not BaseSampler.after_trial:
            self.sampler.after_trial(self._view(), record, record.state, record.values)
        return record

    def _write(self, trial_id: int, update: TrialUpdate, retries: int = 3) -> bool:
        """Write with retries on transient storage errors (exponential back-off)."""
        delay = 0.05
        for attempt in range(retries + 1):
            try:
                return self._storage.update_trial(trial_id, update)
            except StorageError as e:
                if not e.transient or attempt == retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        return False  # pragma: no cover

    def _decide(self, trial: Trial, step: int, value: float) -> Decision:
        if isinstance(self.scheduler, NopScheduler):
            return Decision.CONTINUE
        return self.scheduler.on_report(self._view(), trial.snapshot(), step, value)

    # ------------------------------------------------------------------ warm start
    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        *,
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> None:
        """Queue a configuration to run before the sampler's proposals.

        Parameters the objective suggests but ``params`` lacks are sampled as usual.
        With ``skip_if_exists`` nothing is queued if a trial with these params exists.
        """
        params = dict(params)
        if skip_if_exists:
            for t in self.get_trials():
                fixed = t.system_attrs.get(FIXED_PARAMS_KEY)
                if fixed == params or (t.params and dict(t.params) == params):
                    return
        template = FrozenTrial(
            number=-1,
            state=TrialState.WAITING,
            user_attrs=dict(user_attrs or {}),
            system_attrs={FIXED_PARAMS_KEY: params},
        )
        self._storage.create_trial(self._study_id, template)

    def add_trial(self, trial: FrozenTrial) -> FrozenTrial:
        """Record a trial evaluated elsewhere (see :func:`hpopt.create_trial`)."""
        if not trial.state.is_finished():
            raise ValueError(f"add_trial takes finished trials, not {trial.state.name}")
        for name, value in trial.params.items():
            dist = trial.distributions.get(name)
            if dist is None:
                raise ValueError(f"parameter {name!r} has no distribution")
            if not dist.contains(value):
                raise ValueError(f"parameter {name!r}: {value!r} is outside {dist.to_json()}")
            known = self._known_distribution(name)
            if known is not None:
                from hpopt.space.distributions import check_compatible

                check_compatible(name, known, dist)
        if trial.state is TrialState.COMPLETE:
            _, problem = check_values(trial.values, len(self.directions))
            if problem is not None:
                raise ValueError(f"cannot add a COMPLETE trial: {problem}")
        return self._storage.create_trial(self._study_id, trial)

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        for t in trials:
            self.add_trial(t)

    # ------------------------------------------------------------------ optimize
    def optimize(
        self,
        objective: Callable[..., Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        n_jobs: int = 1,
        space: Mapping[str, Any] | SearchSpace | None = None,
        catch: tuple[type[BaseException], ...] = (Exception,),
        max_consecutive_failures: int | None = 5,
        callbacks: Sequence[Callable[[Study, FrozenTrial], None]] | None = None,
        show_progress_bar: bool | None = None,
        executor: Any = None,
    ) -> None:
        """Run ``objective`` on new trials until ``n_trials``, ``timeout`` or :meth:`stop`.

        Parameters
        ----------
        objective
            ``objective(trial)`` returning a value (or one per direction). With ``space``,
            ``objective(config)`` or ``objective(config, trial)`` receives the config dict.
        n_trials
            Number of trials to run in this call (``None``: until timeout or stop).
        timeout
            Seconds after which no new trial starts.
        n_jobs
            Trials to run at once (``-1``: one per CPU).
        space
            A declarative search space (dict, YAML-derived dict or SearchSpace).
        catch
            Exception types that mark the trial FAIL and let the study go on; any other
            exception also marks it FAIL, then propagates.
        max_consecutive_failures
            After this many failed trials in a row, re-raise the last error (``None``: never).
        callbacks
            Called as ``callback(study, record)`` after each finished trial.
        show_progress_bar
            ``None`` (default): show when standard error is a terminal.
        executor
            Where trials run (see ``hpopt.execution``); default: this process.
        """
        from hpopt.study.optimize import run_optimize

        run_optimize(
            self,
            objective,
            n_trials=n_trials,
            timeout=timeout,
            n_jobs=n_jobs,
            space=as_search_space(space),
            catch=catch,
            max_consecutive_failures=max_consecutive_failures,
            callbacks=list(callbacks or ()),
            show_progress_bar=show_progress_bar,
            executor=executor,
        )

    def stop(self) -> None:
        """Ask a running :meth:`optimize` to start no new trial."""
        self._stop_flag = True

    # ------------------------------------------------------------------ export
    def trials_dataframe(self, states: Container[TrialState] | None = None) -> pd.DataFrame:
        """The trials as a pandas DataFrame (one row per trial)."""
        from hpopt.study.export import trials_dataframe

        return trials_dataframe(self, states)

    def __repr__(self) -> str:
        return f"Study(name={self.study_name!r}, directions={list(self.directions)})"


def check_values(values: Any, n_objectives: int) -> tuple[tuple[float, ...] | None, str | None]:
    """Validate what an objective returned; return (values, None) or (None, reason)."""
    if values is None:
        return None, "the objective returned None"
    if isinstance(values, (str, bytes)):
        return None, f"the objective returned a string ({values!r}), not a number"
    if isinstance(values, bool):
        return None, f"the objective returned a bool ({values!r}), not a number"
    seq: Sequence[Any]
    if isinstance(values, (list, tuple)):
        seq = values
    else:
        try:
            seq = (float(values),)
        except (TypeError, ValueError):
            if hasattr(values, "__len__") and hasattr(values, "__iter__"):
                seq = list(values)
            else:
                return None, f"the objective returned {type(values).__name__}, not a number"
    if len(seq) != n_objectives:
        return None, (
            f"the objective returned {len(seq)} value(s) but the study has "
            f"{n_objectives} objective(s)"
        )
    out = []
    for v in seq:
        if isinstance(v, (str, bytes, bool)):
            return None, f"the objective returned {v!r}, not a number"
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None, f"the objective returned {type(v).__name__}, not a number"
        if not math.isfinite(f):
            return None, f"the objective returned a non-finite value ({f})"
        out.append(f)
    return tuple(out), None


# ---------------------------------------------------------------------- module functions
def _directions(
    direction: StudyDirection | str | None, directions: Sequence[StudyDirection | str] | None
) -> list[StudyDirection]:
    if direction is not None and directions is not None:
        raise ValueError("pass either direction or directions, not both")
    if directions is not None:
        if isinstance(directions, str) or not directions:
            raise ValueError("directions must be a non-empty list, e.g. ['minimize', 'maximize']")
        return [as_direction(d) for d in directions]
    return [as_direction(direction or "minimize")]


def create_study(
    *,
    storage: BaseStorage | str | None = None,
    sampler: BaseSampler | None = None,
    scheduler: BaseScheduler | None = None,
    study_name: str | None = None,
    direction: StudyDirection | str | None = None,
    directions: Sequence[StudyDirection | str] | None = None,
    load_if_exists: bool = False,
    checkpoint_root: str | os.PathLike[str] | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    retry_failed: int = 0,
) -> Study:
    """Create a study (or load it, with ``load_if_exists``).

    Parameters
    ----------
    storage
        ``None`` (in memory), a URL such as ``"sqlite:///hpopt.db"``, or a storage object.
    sampler
        Defaults to :func:`hpopt.samplers.default_sampler`.
    scheduler
        Early-stopping policy; defaults to never stopping.
    study_name
        Defaults to a unique generated name.
    direction, directions
        ``"minimize"`` (default) or ``"maximize"``; a list for several objectives.
    load_if_exists
        Load the study if one with ``study_name`` exists instead of raising.
    checkpoint_root
        Directory under which trials get their checkpoint directories
        (``<root>/<study name>/trial-<number>``, see :attr:`Trial.checkpoint_dir`);
        default ``./hpopt_runs``.
    heartbeat_interval
        Seconds between heartbeats of each running trial (``None``: no heartbeats). The
        policy is stored with the study, so every process that loads it follows it.
    grace_period
        A RUNNING trial whose heartbeat is older than this many seconds is marked FAIL by any
        process of the study (default: four heartbeat intervals).
    retry_failed
        How many times a trial failed that way is re-enqueued with the same parameters.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(direction="maximize")
    >>> study.direction
    StudyDirection.MAXIMIZE
    """
    from hpopt.exceptions import DuplicatedStudyError
    from hpopt.storage import get_storage

    dirs = _directions(direction, directions)
    policy = HeartbeatPolicy.from_args(heartbeat_interval, grace_period, retry_failed)
    store = get_storage(storage)
    name = study_name or f"study-{_dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        store.create_study(dirs, name)
    except DuplicatedStudyError:
        if not load_if_exists:
            raise
        existing = store.get_study_directions(store.get_study_id_from_name(name))
        if list(existing) != dirs and (direction is not None or directions is not None):
            raise ValueError(
                f"study {name!r} exists with directions {[d.name.lower() for d in existing]}, "
                f"not {[d.name.lower() for d in dirs]}"
            ) from None
    if policy is not None:
        study_id = store.get_study_id_from_name(name)
        store.set_study_system_attr(study_id, POLICY_ATTR, policy.to_json())
    return Study(
        name,
        store,
        sampler=sampler,
        scheduler=scheduler,
        heartbeat=policy,
        checkpoint_root=checkpoint_root,
    )


def load_study(
    *,
    study_name: str,
    storage: BaseStorage | str,
    sampler: BaseSampler | None = None,
    scheduler: BaseScheduler | None = None,
    checkpoint_root: str | os.PathLike[str] | None = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    retry_failed: int = 0,
) -> Study:
    """Load an existing study.

    The heartbeat arguments (see :func:`create_study`) override, for this process only, the
    policy stored with the study.

    Raises
    ------
    StudyNotFoundError
        If no study named ``study_name`` exists in ``storage``.
    """
    policy = HeartbeatPolicy.from_args(heartbeat_interval, grace_period, retry_failed)
    return Study(
        study_name,
        storage,
        sampler=sampler,
        scheduler=scheduler,
        heartbeat=policy,
        checkpoint_root=checkpoint_root,
    )


def delete_study(*, study_name: str, storage: BaseStorage | str) -> None:
    """Delete a study and all its trials."""
    from hpopt.storage import opened_storage

    with opened_storage(storage) as store:
        store.delete_study(store.get_study_id_from_name(study_name))


def get_all_study_summaries(storage: BaseStorage | str) -> list[Any]:
    """Summaries (name, directions, number of trials, best value) of all studies."""
    from hpopt.storage import opened_storage

    with opened_storage(storage) as store:
        return store.get_all_studies()


def create_trial(
    *,
    params: Mapping[str, Any],
    distributions: Mapping[str, Distribution],
    value: float | None = None,
    values: Sequence[float] | None = None,
    state: TrialState = TrialState.COMPLETE,
    intermediate_values: Mapping[int, float] | None = None,
    user_attrs: Mapping[str, Any] | None = None,
) -> FrozenTrial:
    """Build a finished trial record to pass to :meth:`Study.add_trial`."""
    if value is not None and values is not None:
        raise ValueError("pass either value or values, not both")
    now = _dt.datetime.now()
    return FrozenTrial(
        number=-1,
        state=state,
        values=make_values(value if value is not None else values),
        params=dict(params),
        distributions={k: d if d.name == k else d.with_name(k) for k, d in distributions.items()},
        intermediate_values=dict(intermediate_values or {}),
        user_attrs=dict(user_attrs or {}),
        datetime_start=now,
        datetime_complete=now,
    )
