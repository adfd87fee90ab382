"""Hyperband and BOHB: bracket assignment, partitioned decisions, the sampler's history."""

from __future__ import annotations

import importlib.util
from collections import Counter
from typing import Any

import pytest

import hpopt
from hpopt.samplers import BaseSampler, RandomSampler
from hpopt.schedulers import Decision
from hpopt.schedulers.hyperband import BRACKET_KEY
from hpopt.space.distributions import Distribution
from hpopt.study.view import StudyView
from hpopt.testing.schedulers import simulate
from hpopt.trial.trial import Trial


class RecordingSampler(BaseSampler):
    """Random search that remembers which trial numbers each new trial's view held."""

    def __init__(self, seed: int) -> None:
        self._random = RandomSampler(seed=seed)
        self.seen: dict[int, list[int]] = {}

    def before_trial(self, view: StudyView, trial: Trial) -> None:
        self.seen[trial.number] = [t.number for t in view.get_trials()]

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        return self._random.sample_independent(view, trial, name, distribution)


def test_brackets_and_budgets() -> None:
    hb = hpopt.HyperbandScheduler(1, 27, reduction_factor=3)
    assert hb.n_brackets == 4
    assert hb.bracket_budgets() == [27, 12, 6, 4]
    assert [b.rung_resources() for b in hb.brackets] == [[1, 3, 9], [3, 9], [9], []]
    assert hpopt.HyperbandScheduler(1, 81).n_brackets == 5
    assert hpopt.HyperbandScheduler(2, 30, reduction_factor=2).n_brackets == 4


def test_rungs_count_down_from_max_resource_when_the_ratio_is_no_power() -> None:
    # 30 / 1 is not a power of 3: rungs at 30 * 3**-i (the Hyperband paper's layout), so
    # the last bracket has no rung and no rung sits just below the full budget.
    hb = hpopt.HyperbandScheduler(1, 30)
    assert hb.n_brackets == 4
    assert [b.rung_resources() for b in hb.brackets] == [
        [30 / 27, 30 / 9, 10.0],
        [30 / 9, 10.0],
        [10.0],
        [],
    ]
    assert [
        b.rung_resources() for b in hpopt.HyperbandScheduler(2, 30, reduction_factor=2).brackets
    ] == [
        [3.75, 7.5, 15.0],
        [7.5, 15.0],
        [15.0],
        [],
    ]


def test_last_bracket_never_stops_a_trial_with_a_non_power_budget() -> None:
    hb = hpopt.HyperbandScheduler(1, 30)
    study = hpopt.create_study(direction="maximize", sampler=RandomSampler(seed=3), scheduler=hb)
    result = simulate(study, max_steps=30, n_trials=120, n_workers=4)
    bracket = {t.number: t.system_attrs[BRACKET_KEY] for t in study.trials}
    stopped = [e for e in result.events if e.decision is not Decision.CONTINUE]
    assert stopped
    assert all(bracket[e.trial] != 3 for e in stopped)
    # Bracket 0 is judged at the first report past 30/27, 30/9 and 10 epochs only.
    assert {e.step for e in stopped if bracket[e.trial] == 0} <= {2, 4, 10}
    assert all(e.step <= 10 for e in stopped)


def test_bracket_assignment_is_proportional_interleaved_and_deterministic() -> None:
    hb = hpopt.HyperbandScheduler(1, 27)
    study = hpopt.create_study(scheduler=hb)
    trials = [study.ask() for _ in range(2 * 49)]
    brackets = [hb.bracket_of(t) for t in trials]
    assert Counter(brackets[:49]) == {0: 27, 1: 12, 2: 6, 3: 4}
    assert brackets[:49] == brackets[49:]
    assert set(brackets[:8]) == {0, 1, 2, 3}  # every bracket early on, not in blocks
    again = hpopt.create_study(scheduler=hpopt.HyperbandScheduler(1, 27))
    assert [hb.bracket_of(again.ask()) for _ in range(49)] == brackets[:49]


def test_each_bracket_decides_only_on_its_own_trials_and_rungs() -> None:
    hb = hpopt.HyperbandScheduler(1, 27)
    study = hpopt.create_study(direction="maximize", sampler=RandomSampler(seed=1), scheduler=hb)
    result = simulate(study, max_steps=27, n_trials=150, n_workers=4)
    bracket = {t.number: t.system_attrs[BRACKET_KEY] for t in study.trials}
    first_rung = {0: 1, 1: 3, 2: 9, 3: 27}
    stopped = [e for e in result.events if e.decision is not Decision.CONTINUE]
    assert stopped
    for e in stopped:
        assert e.step in (1, 3, 9) and e.step >= first_rung[bracket[e.trial]]
    # No trial of the last bracket is ever stopped.
    assert all(bracket[e.trial] != 3 for e in stopped)
    # The decisions equal those of one ASHA per bracket, each run on that bracket alone.
    for b in range(4):
        asha = hpopt.ASHAScheduler(1, 27, min_early_stopping_rate=b)
        own = [e for e in result.events if bracket[e.trial] == b]
        replay = hpopt.create_study(direction="maximize", scheduler=asha)
        handles: dict[int, Trial] = {}
        for e in own:
            if e.trial not in handles:
                handles[e.trial] = replay.ask()
            handles[e.trial].report(e.value, e.step)
            assert handles[e.trial].decision() is e.decision, (b, e)


def test_history_filter_shows_the_sampler_only_the_trials_bracket() -> None:
    sampler = RecordingSampler(seed=0)
    hb = hpopt.HyperbandScheduler(1, 27)
    study = hpopt.create_study(direction="maximize", sampler=sampler, scheduler=hb)
    simulate(study, max_steps=27, n_trials=60, n_workers=3)
    bracket = {t.number: t.system_attrs[BRACKET_KEY] for t in study.trials}
    assert sum(len(v) for v in sampler.seen.values()) > 0
    for number, seen in sampler.seen.items():
        assert all(bracket[n] == bracket[number] for n in seen)


def test_pause_mode_resumes_within_brackets() -> None:
    study = hpopt.create_study(
        direction="maximize",
        sampler=RandomSampler(seed=2),
        scheduler=hpopt.HyperbandScheduler(1, 27, pause=True),
    )
    simulate(study, max_steps=27, n_trials=150, n_workers=4)
    resumed = [t for t in study.trials if t.system_attrs.get("resumed_from") is not None]
    assert resumed
    for t in resumed:
        parent = study.trials[t.system_attrs["resumed_from"]]
        assert t.system_attrs[BRACKET_KEY] == parent.system_attrs[BRACKET_KEY]


def _add(study: hpopt.Study, last_step: int, state: hpopt.TrialState) -> None:
    curve = {s: 0.1 * s for s in range(1, last_step + 1)}
    study.add_trial(
        hpopt.create_trial(
            params={"x": 0.5},
            distributions={"x": hpopt.Float(0.0, 1.0)},
            value=curve[last_step] if state is hpopt.TrialState.COMPLETE else None,
            state=state,
            intermediate_values=curve,
        )
    )


def test_bohb_sampler_sees_the_largest_budget_with_enough_points() -> None:
    bohb = hpopt.BOHBScheduler(1, 27, min_points_in_model=5)
    assert bohb.budgets == [1, 3, 9, 27]
    sampler = RecordingSampler(seed=0)
    study = hpopt.create_study(direction="maximize", sampler=sampler, scheduler=bohb)
    for _ in range(6):
        _add(study, 1, hpopt.TrialState.PRUNED)  # trials 0-5 stopped at budget 1
    study.ask()  # trial 6: no budget has 5 points yet: all history
    assert sampler.seen[6] == [0, 1, 2, 3, 4, 5]
    study.tell(6, state=hpopt.TrialState.FAIL)
    for _ in range(3):
        _add(study, 3, hpopt.TrialState.PRUNED)  # trials 7-9
    for _ in range(2):
        _add(study, 27, hpopt.TrialState.COMPLETE)  # trials 10-11
    assert bohb.modelled_budget(study._view()) == 3
    study.ask()  # trial 12 models budget 3: the 5 trials that reached it
    assert sampler.seen[12] == [7, 8, 9, 10, 11]
    study.tell(12, state=hpopt.TrialState.FAIL)
    for _ in range(3):
        _add(study, 9, hpopt.TrialState.PRUNED)  # trials 13-15: budget 9 has 5 points
    study.ask()
    assert sampler.seen[16] == [10, 11, 13, 14, 15]


def test_bohb_decides_like_hyperband() -> None:
    events = []
    for scheduler in (hpopt.HyperbandScheduler(1, 27), hpopt.BOHBScheduler(1, 27)):
        study = hpopt.create_study(
            direction="maximize", sampler=RandomSampler(seed=4), scheduler=scheduler
        )
        result = simulate(study, max_steps=27, n_trials=40, n_workers=1)
        events.append([(e.trial, e.step, e.decision) for e in result.events])
    assert events[0] == events[1]


@pytest.mark.skipif(
    importlib.util.find_spec("hpopt.samplers.tpe") is None,
    reason="hpopt.samplers.tpe (the TPE sampler) is not part of this installation",
)
def test_bohb_factory_uses_tpe() -> None:
    study = hpopt.bohb(1, 27, seed=0, direction="maximize")
    assert type(study.sampler).__name__ == "TPESampler"
    assert isinstance(study.scheduler, hpopt.BOHBScheduler)
    simulate(study, max_steps=27, n_trials=30, n_workers=2)
