"""A discrete-event simulator of training runs, and a conformance kit for schedulers.

The simulator runs a study with ``n_workers`` virtual workers on a virtual clock: each trial
trains on a synthetic learning curve, one step per time unit, reporting after every step and
asking the scheduler whether to go on. It is fast and deterministic (no threads, no sleeps),
so scheduler decisions can be checked exactly.

Examples
--------
>>> import hpopt
>>> from hpopt.testing.schedulers import simulate
>>> study = hpopt.create_study(
...     direction="maximize",
...     sampler=hpopt.RandomSampler(seed=0),
...     scheduler=hpopt.ASHAScheduler(1, 27),
... )
>>> result = simulate(study, max_steps=27, n_trials=20, n_workers=4)
>>> result.epochs < 20 * 27
True
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hpopt.schedulers.base import BaseScheduler, Decision
from hpopt.study.study import Study, create_study
from hpopt.trial.state import TrialState
from hpopt.trial.trial import RESUMED_AT_KEY, RESUMED_FROM_KEY, Trial

__all__ = [
    "Curve",
    "Event",
    "SimulationResult",
    "check_deterministic",
    "check_lone_trial_continues",
    "check_nan_is_worst",
    "check_never_stops_before_warmup",
    "check_scheduler",
    "simulate",
    "synthetic_curve",
]


@dataclass(frozen=True)
class Curve:
    """One configuration's learning curve: ``asymptote * (1 - exp(-step / tau))`` plus
    Gaussian noise (``nan_after``: report NaN from that step on, to test bad input)."""

    asymptote: float
    tau: float
    noise: float = 0.0
    nan_after: int | None = None

    def value(self, step: int, rng: np.random.Generator) -> float:
        if self.nan_after is not None and step >= self.nan_after:
            return math.nan
        clean = self.asymptote * (1.0 - math.exp(-step / self.tau))
        return clean + self.noise * float(rng.standard_normal())


def synthetic_curve(trial: Trial, noise: float = 0.01) -> Curve:
    """The default search problem: ``x`` and ``y`` in ``[0, 1]`` set the final accuracy
    (best near ``x=0.3, y=0.6``); ``speed`` in ``[0, 1]`` sets how fast it is approached
    without changing it, so early and final rankings disagree somewhat, as in training."""
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    speed = trial.suggest_float("speed", 0.0, 1.0)
    asymptote = 0.95 - 0.8 * ((x - 0.3) ** 2 + (y - 0.6) ** 2)
    return Curve(asymptote, tau=1.0 + 4.0 * (1.0 - speed), noise=noise)


@dataclass(frozen=True)
class Event:
    """One report: virtual time, trial number, step, value, and the scheduler's decision."""

    time: float
    trial: int
    step: int
    value: float
    decision: Decision


@dataclass
class SimulationResult:
    """What a simulation did.

    ``epochs`` counts trained steps (a resumed trial continues from its checkpoint and does
    not retrain); ``completions`` lists ``(epochs so far, value)`` for each COMPLETE trial in
    the order they finished.
    """

    study: Study
    events: list[Event] = field(default_factory=list)
    epochs: int = 0
    elapsed: float = 0.0
    completions: list[tuple[int, float]] = field(default_factory=list)

    def best_value_within(self, epochs: float) -> float:
        """Best value (maximizing) of trials completed within ``epochs`` (-inf if none)."""
        return max((v for e, v in self.completions if e <= epochs), default=-math.inf)

    def epochs_to_reach(self, target: float) -> float:
        """Epochs spent when a completed trial first reached ``target`` (inf if never)."""
        for e, v in self.completions:
            if v >= target:
                return float(e)
        return math.inf


@dataclass
class _Running:
    trial: Trial
    curve: Curve
    root: int
    next_step: int


def simulate(
    study: Study,
    *,
    max_steps: int,
    n_trials: int | None = None,
    epoch_budget: int | None = None,
    n_workers: int = 1,
    seed: int = 0,
    curve: Callable[[Trial], Curve] = synthetic_curve,
) -> SimulationResult:
    """Run ``study`` on virtual workers until ``n_trials`` trials started or
    ``epoch_budget`` steps were trained (then running trials finish).

    Each step takes one time unit; trials report at steps ``1..max_steps`` and complete with
    their value at ``max_steps``. STOP and PAUSE end a trial as PRUNED; a trial the scheduler
    resumes continues its curve after the step its predecessor paused at. Ties in time go to
    the lower worker index, so the run is deterministic given the study's seeds.
    """
    if n_trials is None and epoch_budget is None:
        raise ValueError("pass n_trials or epoch_budget")
    result = SimulationResult(study)
    queue: list[tuple[float, int]] = []
    running: dict[int, _Running] = {}
    started = 0

    def start(worker: int, now: float) -> None:
        nonlocal started
        if n_trials is not None and started >= n_trials:
            return
        if epoch_budget is not None and result.epochs >= epoch_budget:
            return
        trial = study.ask()
        started += 1
        parent = trial.resumed_from
        root = trial.number if parent is None else _root(study, parent)
        first = 1 if parent is None else int(trial.system_attrs[RESUMED_AT_KEY]) + 1
        running[worker] = _Running(trial, curve(trial), root, first)
        heapq.heappush(queue, (now + 1.0, worker))

    for worker in range(n_workers):
        start(worker, 0.0)
    while queue:
        now, worker = heapq.heappop(queue)
        run = running.pop(worker)
        step = run.next_step
        rng = np.random.default_rng((seed, run.root, step))
        value = run.curve.value(step, rng)
        run.trial.report(value, step)
        decision = run.trial.decision()
        result.epochs += 1
        result.elapsed = now
        result.events.append(Event(now, run.trial.number, step, value, decision))
        if decision is not Decision.CONTINUE:
            study.tell(run.trial, state=TrialState.PRUNED)
        elif step >= max_steps:
            record = study.tell(run.trial, value)
            if record.state is TrialState.COMPLETE:
                result.completions.append((result.epochs, value))
        else:
            run.next_step = step + 1
            running[worker] = run
            heapq.heappush(queue, (now + 1.0, worker))
            continue
        start(worker, now)
    return result


def _root(study: Study, number: int) -> int:
    """The first trial of a chain of resumed trials (its noise stream is the chain's)."""
    trials = study.trials
    parent: int | None = number
    while parent is not None:
        number = parent
        parent = trials[number].system_attrs.get(RESUMED_FROM_KEY)
    return number


# ---------------------------------------------------------------------- conformance kit
def _study(scheduler: BaseScheduler, seed: int = 0) -> Study:
    from hpopt.samplers.random import RandomSampler

    return create_study(direction="maximize", sampler=RandomSampler(seed=seed), scheduler=scheduler)


def check_never_stops_before_warmup(
    factory: Callable[[], BaseScheduler], warmup_steps: int, *, max_steps: int = 27
) -> None:
    """No STOP or PAUSE at a step below ``warmup_steps``, in a busy 4-worker study."""
    result = simulate(_study(factory()), max_steps=max_steps, n_trials=40, n_workers=4)
    early = [e for e in result.events if e.decision is not Decision.CONTINUE]
    assert early, f"{factory()!r} never stopped anything; the check proves nothing"
    too_early = [e for e in early if e.step < warmup_steps]
    assert not too_early, f"stopped before step {warmup_steps}: {too_early[:3]}"


def check_lone_trial_continues(
    factory: Callable[[], BaseScheduler], *, max_steps: int = 27
) -> None:
    """A single trial that improves by 1 per step (maximizing) is never stopped."""
    study = _study(factory())
    trial = study.ask()
    for step in range(1, max_steps + 1):
        trial.report(float(step), step)
        assert trial.decision() is Decision.CONTINUE, f"lone trial stopped at step {step}"


def check_nan_is_worst(factory: Callable[[], BaseScheduler], *, max_steps: int = 27) -> None:
    """Trials reporting NaN are handled (no error) and stopped once others finished
    (at least one of six: a Hyperband bracket without rungs cannot stop its trials)."""
    study = _study(factory())
    simulate(study, max_steps=max_steps, n_trials=12)
    nan_curve = Curve(0.9, 2.0, nan_after=1)
    result = simulate(study, max_steps=max_steps, n_trials=6, curve=lambda t: nan_curve)
    stopped = {e.trial for e in result.events if e.decision is not Decision.CONTINUE}
    assert stopped, "no trial reporting NaN was ever stopped"


def check_deterministic(factory: Callable[[], BaseScheduler], *, max_steps: int = 27) -> None:
    """Two runs with the same seeds make exactly the same decisions."""
    runs = [
        simulate(_study(factory(), seed=3), max_steps=max_steps, n_trials=30, n_workers=3)
        for _ in range(2)
    ]
    first, second = ([(e.trial, e.step, e.decision) for e in r.events] for r in runs)
    assert first == second


def check_scheduler(
    factory: Callable[[], BaseScheduler], warmup_steps: int, *, max_steps: int = 27
) -> None:
    """Every check of the kit on schedulers made by ``factory``."""
    check_never_stops_before_warmup(factory, warmup_steps, max_steps=max_steps)
    check_lone_trial_continues(factory, max_steps=max_steps)
    check_nan_is_worst(factory, max_steps=max_steps)
    check_deterministic(factory, max_steps=max_steps)
