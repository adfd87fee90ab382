"""Conformance kit for samplers: checks any :class:`~hpopt.samplers.BaseSampler`.

A sampler is described by a factory ``factory(seed, space) -> sampler``. ``space`` is the
:class:`~hpopt.space.SearchSpace` the check's objective uses; samplers that need to know
the space up front (a grid) build themselves from it, all others ignore it (use
:func:`seeded`)::

    from hpopt.testing.samplers import CHECKS, SamplerTraits, check_sampler, seeded

    check_sampler(seeded(MySampler, some_option=3))

Each check raises ``AssertionError`` with an explanation when the sampler misbehaves.
``CHECKS`` maps a name to each check, so a test suite can run them one by one::

    @pytest.mark.parametrize("check", CHECKS)
    def test_my_sampler(check):
        CHECKS[check](seeded(MySampler), SamplerTraits())
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpopt.exceptions import TrialPruned
from hpopt.samplers.base import BaseSampler
from hpopt.space.distributions import Categorical, Distribution, Float, Int
from hpopt.space.search_space import Condition, SearchSpace
from hpopt.storage.base import BaseStorage
from hpopt.storage.memory import InMemoryStorage
from hpopt.study.pareto import dominates
from hpopt.study.study import Study, create_study
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState
from hpopt.trial.trial import Trial

__all__ = [
    "ALL_KINDS_SPACE",
    "CHECKS",
    "CONDITIONAL_SPACE",
    "DYNAMIC_SPACE",
    "SamplerFactory",
    "SamplerTraits",
    "check_bounds",
    "check_conditional",
    "check_declarative",
    "check_dynamic_space",
    "check_enqueued",
    "check_failures",
    "check_multi_objective",
    "check_pending_trials",
    "check_pickle",
    "check_reproducible",
    "check_sampler",
    "seeded",
]

#: Builds a sampler from a seed and the search space of the check that runs it.
SamplerFactory = Callable[[int | None, SearchSpace], BaseSampler]


@dataclass(frozen=True)
class SamplerTraits:
    """What a sampler declares about itself; the checks hold it to that.

    Attributes
    ----------
    supports_multi_objective
        If False, the sampler must refuse a multi-objective study with ``ValueError`` or
        ``NotImplementedError`` (and leave no trial RUNNING) instead of running it.
    """

    supports_multi_objective: bool = True


def seeded(cls: Callable[..., BaseSampler], **kwargs: Any) -> SamplerFactory:
    """A factory for samplers that take ``seed=`` and need no search space up front."""

    def factory(seed: int | None, space: SearchSpace) -> BaseSampler:
        return cls(seed=seed, **kwargs)

    factory.__qualname__ = f"seeded({getattr(cls, '__name__', cls)!s})"
    return factory


# ---------------------------------------------------------------------- search spaces
#: Every kind of distribution, including single-valued ones and mixed-type choices.
ALL_KINDS_SPACE = SearchSpace(
    {
        "float": Float(-2.0, 2.0),
        "float_log": Float(1e-4, 10.0, log=True),
        "float_step": Float(0.0, 1.0, step=0.25),
        "int": Int(-3, 3),
        "int_log": Int(1, 32, log=True),
        "int_step": Int(0, 20, step=5),
        "cat": Categorical((None, True, 1, 2.5, "a")),
        "float_single": Float(1.5, 1.5),
        "int_single": Int(7, 7),
        "cat_single": Categorical(("only",)),
    }
)


def suggest_all_kinds(trial: Trial) -> dict[str, Any]:
    """Define-by-run twin of :data:`ALL_KINDS_SPACE`, through the public ``suggest_*``."""
    return {
        "float": trial.suggest_float("float", -2.0, 2.0),
        "float_log": trial.suggest_float("float_log", 1e-4, 10.0, log=True),
        "float_step": trial.suggest_float("float_step", 0.0, 1.0, step=0.25),
        "int": trial.suggest_int("int", -3, 3),
        "int_log": trial.suggest_int("int_log", 1, 32, log=True),
        "int_step": trial.suggest_int("int_step", 0, 20, step=5),
        "cat": trial.suggest_categorical("cat", [None, True, 1, 2.5, "a"]),
        "float_single": trial.suggest_float("float_single", 1.5, 1.5),
        "int_single": trial.suggest_int("int_single", 7, 7),
        "cat_single": trial.suggest_categorical("cat_single", ["only"]),
    }


#: A conditional space: branches of ``model``, and ``criterion`` only for deep trees.
CONDITIONAL_SPACE = SearchSpace(
    {
        "model": Categorical(("linear", "tree", "none")),
        "alpha": Float(1e-4, 1.0, log=True),
        "penalty": Categorical(("l1", "l2")),
        "depth": Int(1, 8),
        "criterion": Categorical(("gini", "entropy")),
        "lr": Float(0.0, 1.0),
    },
    {
        "alpha": Condition("model", "linear"),
        "penalty": Condition("model", "linear"),
        "depth": Condition("model", "tree"),
        "criterion": Condition("depth", (5, 6, 7, 8)),
    },
)


def suggest_conditional(trial: Trial) -> dict[str, Any]:
    """Define-by-run twin of :data:`CONDITIONAL_SPACE` (branching in plain Python)."""
    config: dict[str, Any] = {
        "model": trial.suggest_categorical("model", ["linear", "tree", "none"])
    }
    if config["model"] == "linear":
        config["alpha"] = trial.suggest_float("alpha", 1e-4, 1.0, log=True)
        config["penalty"] = trial.suggest_categorical("penalty", ["l1", "l2"])
    elif config["model"] == "tree":
        config["depth"] = trial.suggest_int("depth", 1, 8)
        if config["depth"] >= 5:
            config["criterion"] = trial.suggest_categorical("criterion", ["gini", "entropy"])
    config["lr"] = trial.suggest_float("lr", 0.0, 1.0)
    return config


#: Parameters an objective starts or stops suggesting as the study goes on.
DYNAMIC_SPACE = SearchSpace(
    {"x": Float(-1.0, 1.0), "y": Int(0, 9), "z": Float(0.1, 10.0, log=True), "w": Int(0, 4)}
)


def suggest_dynamic(trial: Trial) -> dict[str, Any]:
    """Trials 0-7 suggest x, y; trials 8-15 x, z; later ones x, z, w."""
    config: dict[str, Any] = {"x": trial.suggest_float("x", -1.0, 1.0)}
    if trial.number < 8:
        config["y"] = trial.suggest_int("y", 0, 9)
    else:
        config["z"] = trial.suggest_float("z", 0.1, 10.0, log=True)
    if trial.number >= 16:
        config["w"] = trial.suggest_int("w", 0, 4)
    return config


# ---------------------------------------------------------------------- helpers
def _score(trial: Trial) -> float:
    """A smooth deterministic loss of the trial's params (so model-based samplers learn)."""
    dists = trial.distributions
    return float(sum((dists[n].to_unit(v) - 0.3) ** 2 for n, v in trial.params.items()))


def _study(
    factory: SamplerFactory,
    space: SearchSpace,
    seed: int | None = 0,
    storage: BaseStorage | None = None,
    **kwargs: Any,
) -> Study:
    return create_study(
        sampler=factory(seed, space), storage=storage or InMemoryStorage(), **kwargs
    )


def _valid(dist: Distribution, value: Any) -> bool:
    """Contained, and of the distribution's own type (a bool is no int, 1 is not True)."""
    if not dist.contains(value):
        return False
    if isinstance(dist, Float):
        return type(value) is float
    if isinstance(dist, Int):
        return type(value) is int
    if isinstance(dist, Categorical):
        return any(type(c) is type(value) and c == value for c in dist.choices)
    return True


def _assert_valid(record: FrozenTrial, space: Mapping[str, Distribution]) -> None:
    for name, value in record.params.items():
        assert name in space, f"trial {record.number}: unexpected parameter {name!r}"
        dist = space[name]
        assert _valid(dist, value), (
            f"trial {record.number}: {name}={value!r} ({type(value).__name__}) is not a valid "
            f"value of {dist.to_json()}"
        )
        assert record.distributions[name] == dist, (
            f"trial {record.number}: parameter {name!r} recorded with "
            f"{record.distributions[name].to_json()}, expected {dist.to_json()}"
        )


def _assert_nothing_running(study: Study) -> None:
    running = [t.number for t in study.trials if t.state is TrialState.RUNNING]
    assert not running, f"trials {running} were left RUNNING"


def _recording(configs: list[dict[str, Any]]) -> Callable[[dict[str, Any]], float]:
    """A config objective that appends each config it receives to ``configs``."""

    def objective(config: dict[str, Any]) -> float:
        configs.append(dict(config))
        return 0.0

    return objective


def _sequence(records: list[FrozenTrial]) -> list[dict[str, Any]]:
    return [dict(t.params) for t in records]


# ---------------------------------------------------------------------- checks
_Check = Callable[..., None]


def _failure_on_error(check: _Check) -> _Check:
    """Report an exception escaping the sampler or the study as a failed check."""

    @functools.wraps(check)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            check(*args, **kwargs)
        except AssertionError:
            raise
        except Exception as e:
            raise AssertionError(f"{check.__name__}: {type(e).__name__}: {e}") from e

    return run


@_failure_on_error
def check_bounds(factory: SamplerFactory, traits: SamplerTraits, *, n_trials: int = 30) -> None:
    """Every proposed value lies in its distribution (each kind, each option), has the
    right type, and every non-constant parameter takes more than one value."""
    study = _study(factory, ALL_KINDS_SPACE)
    study.optimize(
        lambda t: (suggest_all_kinds(t), _score(t))[1],
        n_trials=n_trials,
        show_progress_bar=False,
    )
    _assert_nothing_running(study)
    trials = study.trials
    assert len(trials) == n_trials, f"expected {n_trials} trials, got {len(trials)}"
    for t in trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number} is {t.state.name}: {t.error}"
        assert set(t.params) == set(ALL_KINDS_SPACE), f"trial {t.number} params {dict(t.params)}"
        _assert_valid(t, ALL_KINDS_SPACE)
    for name, dist in ALL_KINDS_SPACE.items():
        seen = {repr(t.params[name]) for t in trials}
        if dist.single():
            assert len(seen) == 1, f"single-valued {name!r} took values {sorted(seen)}"
        else:
            assert len(seen) > 1, f"{name!r} took only {seen} in {n_trials} trials"


@_failure_on_error
def check_declarative(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """A declarative space (plain and conditional) yields valid, active-only configs."""
    for space in (ALL_KINDS_SPACE, CONDITIONAL_SPACE):
        study = _study(factory, space)
        configs: list[dict[str, Any]] = []
        study.optimize(
            _recording(configs),
            n_trials=15,
            space=space,
            show_progress_bar=False,
        )
        _assert_nothing_running(study)
        assert len(configs) == 15
        for t, config in zip(study.trials, configs):
            assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
            assert dict(t.params) == config, f"trial {t.number}: {dict(t.params)} != {config}"
            _assert_valid(t, space)
            active = {n for n in space if space.is_active(n, config)}
            assert set(config) == active, f"config {config} but active parameters {active}"


@_failure_on_error
def check_reproducible(
    factory: SamplerFactory, traits: SamplerTraits, *, n_trials: int = 20
) -> None:
    """The same seed and objective give the same sequence; another seed another one."""

    def run(seed: int) -> list[dict[str, Any]]:
        study = _study(factory, ALL_KINDS_SPACE, seed=seed)
        study.optimize(
            lambda t: (suggest_all_kinds(t), _score(t))[1],
            n_trials=n_trials,
            show_progress_bar=False,
        )
        return _sequence(study.trials)

    first, again, other = run(7), run(7), run(8)
    for i, (a, b) in enumerate(zip(first, again)):
        assert a == b, f"same seed, trial {i} differs: {a} != {b}"
    assert first != other, "seeds 7 and 8 gave the same sequence: the seed is ignored"


@_failure_on_error
def check_conditional(
    factory: SamplerFactory, traits: SamplerTraits, *, n_trials: int = 40
) -> None:
    """Define-by-run branches: no crash, valid values, at least two branches explored."""
    study = _study(factory, CONDITIONAL_SPACE)
    study.optimize(
        lambda t: (suggest_conditional(t), _score(t))[1],
        n_trials=n_trials,
        show_progress_bar=False,
    )
    _assert_nothing_running(study)
    branches = set()
    for t in study.trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
        _assert_valid(t, CONDITIONAL_SPACE)
        active = {n for n in CONDITIONAL_SPACE if CONDITIONAL_SPACE.is_active(n, t.params)}
        assert set(t.params) == active, f"trial {t.number}: {dict(t.params)} vs active {active}"
        branches.add(t.params["model"])
    assert len(branches) >= 2, f"only the branch(es) {branches} were explored"


@_failure_on_error
def check_dynamic_space(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """Parameters that appear and disappear as the study goes on are handled."""
    study = _study(factory, DYNAMIC_SPACE)
    study.optimize(
        lambda t: (suggest_dynamic(t), _score(t))[1], n_trials=24, show_progress_bar=False
    )
    _assert_nothing_running(study)
    for t in study.trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
        _assert_valid(t, DYNAMIC_SPACE)
        expected = {"x", "y"} if t.number < 8 else {"x", "z"} | ({"w"} if t.number >= 16 else set())
        assert set(t.params) == expected, f"trial {t.number}: {dict(t.params)}"


@_failure_on_error
def check_multi_objective(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """A two-objective study runs (or is refused clearly, if the sampler says so)."""
    study = _study(factory, ALL_KINDS_SPACE, directions=["minimize", "maximize"])

    def objective(trial: Trial) -> tuple[float, float]:
        suggest_all_kinds(trial)
        x = trial.params["float"]
        return float(x**2), float(-((x - 1.0) ** 2))

    if not traits.supports_multi_objective:
        try:
            study.optimize(objective, n_trials=3, show_progress_bar=False)
        except (ValueError, NotImplementedError):
            _assert_nothing_running(study)
            return
        raise AssertionError("the sampler says it does not support multi-objective, yet ran")
    study.optimize(objective, n_trials=20, show_progress_bar=False)
    _assert_nothing_running(study)
    for t in study.trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
        _assert_valid(t, ALL_KINDS_SPACE)
    front = study.best_trials
    assert front, "no Pareto-optimal trial"
    signs = [d.sign for d in study.directions]
    for best in front:
        assert best.values is not None
        for t in study.trials:
            assert t.values is not None
            mine = [s * v for s, v in zip(signs, best.values)]
            theirs = [s * v for s, v in zip(signs, t.values)]
            assert not dominates(theirs, mine), f"trial {t.number} dominates {best.number}"


@_failure_on_error
def check_enqueued(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """Enqueued configurations run first, once each, and the sampler goes on from them."""
    study = _study(factory, ALL_KINDS_SPACE)
    full = {
        "float": 0.5,
        "float_log": 0.01,
        "float_step": 0.75,
        "int": -2,
        "int_log": 5,
        "int_step": 15,
        "cat": True,
        "float_single": 1.5,
        "int_single": 7,
        "cat_single": "only",
    }
    study.enqueue_trial(full)
    study.enqueue_trial({"float": -1.25, "cat": None})
    study.optimize(
        lambda t: (suggest_all_kinds(t), _score(t))[1], n_trials=8, show_progress_bar=False
    )
    _assert_nothing_running(study)
    trials = study.trials
    assert len(trials) == 8, f"expected 8 trials, got {len(trials)}"
    for t in trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
        _assert_valid(t, ALL_KINDS_SPACE)
    assert dict(trials[0].params) == full, f"first trial {dict(trials[0].params)} != {full}"
    assert trials[1].params["float"] == -1.25 and trials[1].params["cat"] is None
    later = [t for t in trials[2:] if t.params["float"] in (0.5, -1.25)]
    assert len(later) < 3, "the sampler keeps repeating the enqueued values"


@_failure_on_error
def check_failures(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """Failed, pruned and NaN trials in the history do not break the sampler."""
    study = _study(factory, ALL_KINDS_SPACE)

    def objective(trial: Trial) -> float:
        suggest_all_kinds(trial)
        if trial.number % 3 == 1:
            trial.report(_score(trial), 0)
            raise TrialPruned()
        if trial.number % 4 == 2:
            raise ValueError("boom")
        if trial.number % 5 == 3:
            return math.nan
        return _score(trial)

    study.optimize(objective, n_trials=24, max_consecutive_failures=None, show_progress_bar=False)
    _assert_nothing_running(study)
    states = {t.state for t in study.trials}
    assert states == {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}, states
    for t in study.trials:
        _assert_valid(t, ALL_KINDS_SPACE)
        assert set(t.params) == set(ALL_KINDS_SPACE), f"trial {t.number}: {dict(t.params)}"


@_failure_on_error
def check_pending_trials(factory: SamplerFactory, traits: SamplerTraits) -> None:
    """Asking several trials before telling any (batch ask/tell) gives valid proposals."""
    study = _study(factory, ALL_KINDS_SPACE)
    for _ in range(3):
        batch = [study.ask() for _ in range(5)]
        for trial in batch:
            suggest_all_kinds(trial)
        for trial in batch:
            study.tell(trial, _score(trial))
    assert len(study.trials) == 15
    for t in study.trials:
        assert t.state is TrialState.COMPLETE, f"trial {t.number}: {t.error}"
        _assert_valid(t, ALL_KINDS_SPACE)


#: Every check by name; each is called as ``check(factory, traits)``.
@_failure_on_error
def check_pickle(factory: SamplerFactory, traits: SamplerTraits, *, n_trials: int = 12) -> None:
    """A study pickled mid-run (sampler state included) goes on exactly as the original."""
    import pickle

    study = _study(factory, ALL_KINDS_SPACE, seed=3)

    def objective(t: Any) -> float:
        suggest_all_kinds(t)
        return _score(t)

    study.optimize(objective, n_trials=n_trials, show_progress_bar=False)
    clone = pickle.loads(pickle.dumps(study))
    study.optimize(objective, n_trials=8, show_progress_bar=False)
    clone.optimize(objective, n_trials=8, show_progress_bar=False)
    assert _sequence(clone.trials) == _sequence(study.trials), (
        "the unpickled sampler proposed other values than the original"
    )


CHECKS: dict[str, Callable[[SamplerFactory, SamplerTraits], None]] = {
    "bounds": check_bounds,
    "declarative": check_declarative,
    "reproducible": check_reproducible,
    "conditional": check_conditional,
    "dynamic_space": check_dynamic_space,
    "multi_objective": check_multi_objective,
    "enqueued": check_enqueued,
    "failures": check_failures,
    "pending_trials": check_pending_trials,
    "pickle": check_pickle,
}


def check_sampler(factory: SamplerFactory, traits: SamplerTraits | None = None) -> None:
    """Run every check in :data:`CHECKS` on the sampler that ``factory`` builds."""
    for check in CHECKS.values():
        check(factory, traits or SamplerTraits())
