"""The ``Trial`` handle an objective receives."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpopt._frozen import FrozenMap
from hpopt.space.distributions import (
    Categorical,
    CategoricalChoice,
    Distribution,
    Float,
    Int,
    check_compatible,
)
from hpopt.storage.base import TrialUpdate
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.schedulers.base import Decision
    from hpopt.study.study import Study
    from hpopt.study.view import StudyView

__all__ = [
    "CHECKPOINT_DIR_KEY",
    "FIXED_PARAMS_KEY",
    "PAUSED_AT_KEY",
    "RESUMED_AT_KEY",
    "RESUMED_FROM_KEY",
    "Trial",
    "resume_template",
]

#: System attribute holding the parameters of an enqueued trial.
FIXED_PARAMS_KEY = "fixed_params"
#: System attribute: the absolute path of the trial's checkpoint directory.
CHECKPOINT_DIR_KEY = "checkpoint_dir"
#: System attribute of a PRUNED trial that was paused (not stopped): the step it paused at.
PAUSED_AT_KEY = "paused_at_step"
#: System attribute of a resumed trial: the number of the paused trial it continues.
RESUMED_FROM_KEY = "resumed_from"
#: System attribute of a resumed trial: the step its predecessor paused at (the learning
#: curve up to this step was copied from the predecessor).
RESUMED_AT_KEY = "resumed_at_step"


# Distributions are immutable values, and objectives suggest the same ones trial after
# trial: build each once (validation is the costly part of a suggest call). ``typed``
# keeps 1, 1.0 and True apart, so invalid arguments still reach the constructor.
@functools.lru_cache(maxsize=4096, typed=True)
def _float(name: str, low: Any, high: Any, log: Any, step: Any) -> Float:
    return Float(low, high, log=log, step=step, name=name)


@functools.lru_cache(maxsize=4096, typed=True)
def _int(name: str, low: Any, high: Any, log: Any, step: Any) -> Int:
    return Int(low, high, log=log, step=step, name=name)


@functools.lru_cache(maxsize=4096)
def _categorical(name: str, keys: tuple[tuple[type, Any], ...]) -> Categorical:
    return Categorical(tuple(c for _, c in keys), name=name)


class Trial:
    """A running trial: suggest parameters, report progress, ask whether to stop.

    Writes are buffered and flushed to the storage at :meth:`report` and when the study is
    told the result, so suggesting parameters costs no storage round trip.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    >>> trial = study.ask()
    >>> lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    >>> _ = study.tell(trial, lr)
    """

    def __init__(self, study: Study, record: FrozenTrial) -> None:
        self.study = study
        self.number = record.number
        self._trial_id = record.trial_id
        self.datetime_start: _dt.datetime | None = record.datetime_start
        self._params: dict[str, Any] = dict(record.params)
        self._dists: dict[str, Distribution] = dict(record.distributions)
        self._iv: dict[int, float] = dict(record.intermediate_values)
        self._user_attrs: dict[str, Any] = dict(record.user_attrs)
        self._system_attrs: dict[str, Any] = dict(record.system_attrs)
        self._fixed: dict[str, Any] = dict(record.system_attrs.get(FIXED_PARAMS_KEY) or {})
        self._pending_params: dict[str, Any] = {}
        self._pending_iv: dict[int, float] = {}
        self._pending_user: dict[str, Any] = {}
        self._pending_system: dict[str, Any] = {}
        self._relative_space: dict[str, Distribution] = {}
        self._relative_params: dict[str, Any] = {}
        self._sampler_view: StudyView | None = None
        self._decisions: dict[int, Decision] = {}
        self.config: dict[str, Any] | None = None
        self.finished = False

    # ------------------------------------------------------------------ read-only state
    @property
    def trial_id(self) -> int:
        return self._trial_id

    @property
    def params(self) -> dict[str, Any]:
        """Parameters suggested so far (a copy)."""
        return dict(self._params)

    @property
    def distributions(self) -> dict[str, Distribution]:
        """Distributions of the parameters suggested so far (a copy)."""
        return dict(self._dists)

    @property
    def intermediate_values(self) -> dict[int, float]:
        """Values reported so far, by step (a copy)."""
        return dict(self._iv)

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._user_attrs)

    @property
    def system_attrs(self) -> dict[str, Any]:
        return dict(self._system_attrs)

    @property
    def fixed_params(self) -> dict[str, Any]:
        """Parameters fixed in advance (an enqueued trial)."""
        return dict(self._fixed)

    @property
    def relative_params(self) -> dict[str, Any]:
        """The joint proposal the sampler made when the trial started."""
        return dict(self._relative_params)

    # ------------------------------------------------------------------ suggest
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggest a float in ``[low, high]`` (log scale, or on a grid of ``step``)."""
        try:
            dist = _float(name, low, high, log, step)
        except TypeError:  # unhashable arguments: let the constructor explain
            dist = Float(low, high, log=log, step=step, name=name)
        return float(self.suggest(name, dist))

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Suggest an integer in ``[low, high]`` (log scale, or with ``step``)."""
        try:
            dist = _int(name, low, high, log, step)
        except TypeError:  # unhashable arguments: let the constructor explain
            dist = Int(low, high, log=log, step=step, name=name)
        return int(self.suggest(name, dist))

    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoice]
    ) -> CategoricalChoice:
        """Suggest one of ``choices``."""
        if type(choices) not in (list, tuple) and (
            isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence)
        ):
            raise ValueError(
                f"parameter {name!r}: choices must be a list or tuple, got {choices!r}"
            )
        try:
            keys = tuple((type(c), c) for c in choices)
            dist = _categorical(name, keys)
        except TypeError:  # unhashable choices: let the constructor explain
            dist = Categorical(tuple(choices), name=name)
        return self.suggest(name, dist)  # type: ignore[no-any-return]

    def suggest(self, name: str, distribution: Distribution) -> Any:
        """Suggest a value of ``name`` from any distribution object."""
        if name in self._dists:
            old = self._dists[name]
            if old != distribution:
                raise ValueError(
                    f"parameter {name!r} was already suggested in this trial as "
                    f"{old.to_json()} and is now suggested as {distribution.to_json()}"
                )
            return self._params[name]
        known = self.study._known_distribution(name)
        if known is not None and known is not distribution:
            check_compatible(name, known, distribution)
        if distribution.name != name:
            distribution = distribution.with_name(name)

        if distribution.single():
            value = distribution.from_unit(0.5)
        elif name in self._fixed:
            value = self._fixed[name]
            if isinstance(distribution, Categorical):
                value = distribution.choices[distribution.index(value)]
            if not distribution.contains(value):
                raise ValueError(
                    f"parameter {name!r}: the enqueued value {value!r} is outside "
                    f"{distribution.to_json()}"
                )
        elif name in self._relative_params and self._relative_space.get(name) == distribution:
            value = self._relative_params[name]
        else:
            view = self._sampler_view if self._sampler_view is not None else self.study._view()
            value = self.study.sampler.sample_independent(view, self, name, distribution)
        if isinstance(distribution, Int):
            value = int(value)
        elif isinstance(distribution, Float):
            value = float(value)
        if not distribution.contains(value):
            raise RuntimeError(
                f"{type(self.study.sampler).__name__} proposed {value!r} for parameter "
                f"{name!r}, outside {distribution.to_json()}"
            )
        self._params[name] = value
        self._dists[name] = distribution
        self._pending_params[name] = value
        self.study._remember_distribution(name, distribution)
        if self.study._heartbeat is not None:
            # Under a heartbeat policy a worker may die at any moment: write each parameter
            # at once so the trial can be retried with exactly these values.
            self.flush()
        return value

    # ------------------------------------------------------------------ report / prune
    def report(self, value: float, step: int) -> None:
        """Record an intermediate ``value`` at ``step`` (e.g. validation loss per epoch).

        Non-finite values are recorded as they are (a ``ThresholdScheduler`` can stop on
        them). Reporting a step again with the same value does nothing; with another value
        it raises ``ValueError``.
        """
        if isinstance(step, bool) or not isinstance(step, int):
            try:
                import numbers

                if isinstance(step, numbers.Integral):
                    step = int(step)
                else:
                    raise TypeError
            except TypeError:
                raise TypeError(f"step must be an integer, got {step!r}") from None
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        if isinstance(value, (str, bytes)):
            raise TypeError(f"reported value must be a number, got {value!r}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"reported value must be a number, got {value!r}") from None
        if step in self._iv:
            old = self._iv[step]
            if old == v or (math.isnan(old) and math.isnan(v)):
                return
            resumed_at = self._system_attrs.get(RESUMED_AT_KEY)
            if resumed_at is not None and step <= resumed_at:
                raise ValueError(
                    f"trial {self.number} resumes trial {self.resumed_from}, which trained "
                    f"up to step {resumed_at}: load its checkpoint from trial.checkpoint_dir "
                    f"and report from step {resumed_at + 1} on "
                    f"(see hpopt.integrations.training.restore_checkpoint)"
                )
            raise ValueError(
                f"trial {self.number} already reported {old} at step {step}; "
                f"cannot report {v} for the same step"
            )
        self._iv[step] = v
        self._pending_iv[step] = v
        self.flush()

    def should_prune(self) -> bool:
        """Whether the study's scheduler says to stop running this trial now.

        True for :attr:`~hpopt.schedulers.Decision.STOP` and for
        :attr:`~hpopt.schedulers.Decision.PAUSE`: either way the objective raises
        :class:`~hpopt.TrialPruned`. A paused trial is recorded as PRUNED with the system
        attribute ``paused_at_step``, and the scheduler may later resume it from
        :attr:`checkpoint_dir` at a larger budget.
        """
        from hpopt.schedulers.base import Decision

        return self.decision() in (Decision.STOP, Decision.PAUSE)

    def decision(self) -> Decision:
        """The scheduler's decision for the latest reported step (cached per step)."""
        from hpopt.schedulers.base import Decision

        if not self._iv:
            return Decision.CONTINUE
        step = max(self._iv)
        cached = self._decisions.get(step)
        if cached is not None:
            return cached
        decision = self.study._decide(self, step, self._iv[step])
        self._decisions[step] = decision
        return decision

    def _paused_step(self) -> int | None:
        """The last reported step if the scheduler's decision there was PAUSE."""
        from hpopt.schedulers.base import Decision

        if not self._iv:
            return None
        step = max(self._iv)
        return step if self._decisions.get(step) is Decision.PAUSE else None

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_dir(self) -> Path:
        """A directory (created on first use) where the objective keeps its checkpoints.

        It is ``<study.checkpoint_root>/<study name>/trial-<number>``; a resumed trial gets
        the directory of the paused trial it continues, so loading the checkpoint found
        there picks up training where it paused.
        """
        path = self._system_attrs.get(CHECKPOINT_DIR_KEY)
        if path is None:
            safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", self.study.study_name)
            root = Path(self.study.checkpoint_root)
            path = str((root / safe_name / f"trial-{self.number}").resolve())
            self.set_system_attr(CHECKPOINT_DIR_KEY, path)
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    @property
    def resumed_from(self) -> int | None:
        """The number of the paused trial this trial resumes, or ``None``."""
        number = self._system_attrs.get(RESUMED_FROM_KEY)
        return None if number is None else int(number)

    # ------------------------------------------------------------------ attributes
    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable attribute to the trial."""
        self._user_attrs[key] = value
        self._pending_user[key] = value

    def set_system_attr(self, key: str, value: Any) -> None:
        """Attach a system attribute (for hpopt's components)."""
        self._system_attrs[key] = value
        self._pending_system[key] = value

    # ------------------------------------------------------------------ buffering
    def _drain(
        self,
        state: TrialState | None = None,
        values: tuple[float, ...] | None = None,
        error: str | None = None,
    ) -> TrialUpdate:
        """Take the buffered writes as one update (the buffers are cleared); ``state``,
        ``values`` and ``error`` finish the trial in the same update."""
        update = TrialUpdate(
            params=self._pending_params,
            distributions={n: self._dists[n] for n in self._pending_params},
            intermediate_values=self._pending_iv,
            user_attrs=self._pending_user,
            system_attrs=self._pending_system,
            state=state,
            values=values,
            error=error,
        )
        self._pending_params, self._pending_iv = {}, {}
        self._pending_user, self._pending_system = {}, {}
        return update

    def _restore(self, update: TrialUpdate) -> None:
        """Put an update that could not be written back into the buffers."""
        self._pending_params = {**update.params, **self._pending_params}
        self._pending_iv = {**update.intermediate_values, **self._pending_iv}
        self._pending_user = {**update.user_attrs, **self._pending_user}
        self._pending_system = {**update.system_attrs, **self._pending_system}

    def flush(self) -> None:
        """Write buffered params, reports and attributes to the storage now."""
        if self.finished:
            return
        update = self._drain()
        if update.is_empty():
            return
        try:
            self.study._write(self._trial_id, update)
        except BaseException:
            self._restore(update)
            raise

    def snapshot(
        self,
        state: TrialState = TrialState.RUNNING,
        *,
        values: tuple[float, ...] | None = None,
        error: str | None = None,
        datetime_complete: _dt.datetime | None = None,
    ) -> FrozenTrial:
        """A record of the trial as this handle sees it now (no storage read)."""
        return FrozenTrial(
            number=self.number,
            trial_id=self._trial_id,
            state=state,
            values=values,
            params=FrozenMap(self._params),
            distributions=FrozenMap(self._dists),
            intermediate_values=FrozenMap(self._iv),
            user_attrs=FrozenMap(self._user_attrs),
            system_attrs=FrozenMap(self._system_attrs),
            datetime_start=self.datetime_start,
            datetime_complete=datetime_complete,
            error=error,
        )

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self._params})"


def resume_template(paused: FrozenTrial) -> FrozenTrial:
    """The record of a new RUNNING trial that resumes ``paused`` from its checkpoint.

    It has the paused trial's params, learning curve and system attributes (so it keeps,
    e.g., its Hyperband bracket and checkpoint directory), plus ``resumed_from`` and
    ``resumed_at_step``.
    """
    system_attrs = {k: v for k, v in paused.system_attrs.items() if k != PAUSED_AT_KEY}
    system_attrs[RESUMED_FROM_KEY] = paused.number
    system_attrs[RESUMED_AT_KEY] = paused.system_attrs.get(PAUSED_AT_KEY, paused.last_step)
    return FrozenTrial(
        number=-1,
        state=TrialState.RUNNING,
        params=paused.params,
        distributions=paused.distributions,
        intermediate_values=paused.intermediate_values,
        user_attrs=paused.user_attrs,
        system_attrs=system_attrs,
    )
