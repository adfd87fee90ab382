"""ASHA: rung decisions checked exactly, in stopping and pause/resume mode."""

from __future__ import annotations

import math

import pytest

import hpopt
from hpopt.schedulers import Decision
from hpopt.testing.schedulers import Event, simulate
from hpopt.trial.trial import PAUSED_AT_KEY, RESUMED_AT_KEY

MAXIMIZE_AT_RUNG_1 = [0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2, 0.1, 0.9]
# By the rule "best 1/3 of the values at the rung so far, or the best while fewer than 3":
# 0.5 best of 1; 0.6 best of 2; 0.4 not best of 3; 0.7 best of 4; 0.3 no; 0.8 top 2 of 6;
# 0.2 and 0.1 no; 0.9 top 3 of 9.
EXPECTED_GOES_ON = [True, True, False, True, False, True, False, False, True]


def _study(scheduler: hpopt.schedulers.BaseScheduler, **kw: object) -> hpopt.Study:
    return hpopt.create_study(
        direction="maximize",
        sampler=hpopt.RandomSampler(seed=0),
        scheduler=scheduler,
        **kw,  # type: ignore[arg-type]
    )


def _first_rung_decisions(study: hpopt.Study, values: list[float]) -> list[Decision]:
    out = []
    for v in values:
        trial = study.ask()
        trial.report(v, 1)
        out.append(trial.decision())
        study.tell(trial, state=hpopt.TrialState.PRUNED)
    return out


def test_first_rung_decisions_follow_the_top_fraction_rule() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27, reduction_factor=3))
    decisions = _first_rung_decisions(study, MAXIMIZE_AT_RUNG_1)
    assert [d is Decision.CONTINUE for d in decisions] == EXPECTED_GOES_ON
    assert set(decisions) <= {Decision.CONTINUE, Decision.STOP}


def test_minimizing_mirrors_maximizing() -> None:
    study = hpopt.create_study(direction="minimize", scheduler=hpopt.ASHAScheduler(1, 27))
    decisions = _first_rung_decisions(study, [-v for v in MAXIMIZE_AT_RUNG_1])
    assert [d is Decision.CONTINUE for d in decisions] == EXPECTED_GOES_ON


def test_a_rung_is_judged_once_and_steps_between_rungs_continue() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27))
    good = study.ask()
    good.report(0.9, 1)
    assert good.decision() is Decision.CONTINUE
    for v in (0.95, 0.97, 0.99):  # three later trials beat it at rung 1 ...
        t = study.ask()
        t.report(v, 1)
        assert t.decision() is Decision.CONTINUE
        study.tell(t, state=hpopt.TrialState.PRUNED)
    good.report(0.1, 2)  # ... but it passed rung 1 already and step 2 is no rung
    assert good.decision() is Decision.CONTINUE
    good.report(0.1, 3)  # rung 3: the only one there, so it goes on
    assert good.decision() is Decision.CONTINUE


def test_jumping_over_several_rungs_judges_each() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27))
    for v in (0.9, 0.8, 0.7):
        t = study.ask()
        t.report(v, 1)
        t.report(v, 3)
        study.tell(t, state=hpopt.TrialState.PRUNED)
    late = study.ask()
    late.report(0.5, 9)  # first report at step 9 counts at rungs 1, 3 and 9
    assert late.decision() is Decision.STOP
    rv = hpopt.ASHAScheduler(1, 27).rung_values(study.trials[-1], -1.0)
    assert [(r.rung, r.step) for r in rv] == [(0, 9), (1, 9), (2, 9)]


def test_no_rung_at_or_past_max_resource_and_min_early_stopping_rate() -> None:
    assert hpopt.ASHAScheduler(1, 27).rung_resources() == [1, 3, 9]
    assert hpopt.ASHAScheduler(2, 54, min_early_stopping_rate=1).rung_resources() == [6, 18]
    assert hpopt.ASHAScheduler(1, 1).rung_resources() == []


def test_nan_counts_as_worst() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27))
    assert _first_rung_decisions(study, [math.nan]) == [Decision.CONTINUE]  # alone
    decisions = _first_rung_decisions(study, [0.1, 0.2, math.nan])
    assert decisions == [Decision.CONTINUE, Decision.CONTINUE, Decision.STOP]


def _reference_decisions(events: list[Event], rungs: list[int], rf: int) -> list[bool]:
    """Re-derive every rung decision from the event log, independently of the scheduler."""
    at_rung: dict[int, list[float]] = {r: [] for r in rungs}
    goes_on = []
    for e in events:
        if e.step not in at_rung:
            continue
        loss = -e.value if math.isfinite(e.value) else math.inf
        at_rung[e.step].append(loss)
        competing = sorted(at_rung[e.step])
        goes_on.append(loss <= competing[max(len(competing) // rf - 1, 0)])
    return goes_on


@pytest.mark.parametrize("n_workers", [1, 4])
def test_simulated_decisions_match_a_reference_and_promotion_counts(n_workers: int) -> None:
    study = _study(hpopt.ASHAScheduler(1, 27, reduction_factor=3))
    result = simulate(study, max_steps=27, n_trials=90, n_workers=n_workers)
    rung_events = [e for e in result.events if e.step in (1, 3, 9)]
    observed = [e.decision is Decision.CONTINUE for e in rung_events]
    assert observed == _reference_decisions(result.events, [1, 3, 9], 3)
    reached = {r: sum(e.step == r for e in result.events) for r in (1, 3, 9, 27)}
    assert reached[1] == 90
    # Each rung passes about a third on (asynchronous: judged on arrival, not in batches).
    for lower, upper in ((1, 3), (3, 9), (9, 27)):
        assert abs(reached[upper] - reached[lower] / 3) <= 6, reached
    # Every step that is no rung continues.
    assert all(e.decision is Decision.CONTINUE for e in result.events if e.step not in (1, 3, 9))


def test_pause_mode_pauses_then_resumes_the_best_promotable_trial(tmp_path: object) -> None:
    study = _study(hpopt.ASHAScheduler(1, 27, pause=True), checkpoint_root=str(tmp_path))
    decisions = _first_rung_decisions(study, [0.5, 0.6, 0.4])
    assert decisions == [Decision.CONTINUE, Decision.CONTINUE, Decision.PAUSE]
    paused = study.trials[2]
    assert paused.state is hpopt.TrialState.PRUNED
    assert paused.system_attrs[PAUSED_AT_KEY] == 1
    # Not promotable yet: a new configuration comes next.
    assert study.ask().resumed_from is None
    study.tell(study.trials[-1].number, state=hpopt.TrialState.FAIL)
    # Six worse trials reach rung 1: 0.4 is now among the best 3 of 10.
    assert _first_rung_decisions(study, [0.1] * 6) == [Decision.PAUSE] * 6
    resumed = study.ask()
    assert resumed.resumed_from == 2
    assert resumed.params == dict(paused.params)
    assert resumed.intermediate_values == {1: 0.4}
    assert resumed.system_attrs[RESUMED_AT_KEY] == 1
    # It owns only the rungs after step 1: its value at rung 1 is not counted twice.
    resumed.report(0.45, 2)
    resumed.report(0.45, 3)
    assert resumed.decision() is Decision.CONTINUE  # alone at rung 3
    study.tell(resumed, 0.45)
    # The paused trial was resumed once; the next promotable paused trial is none (the
    # remaining 0.1s are not in the best third), so a new configuration comes.
    assert study.ask().resumed_from is None


def test_resumed_trial_gets_the_paused_trials_checkpoint_dir(tmp_path: object) -> None:
    study = _study(hpopt.ASHAScheduler(1, 27, pause=True), checkpoint_root=str(tmp_path))
    for v in [0.5, 0.6, 0.4, *[0.1] * 6]:
        trial = study.ask()
        (trial.checkpoint_dir / "state.txt").write_text(str(v))
        trial.report(v, 1)
        if trial.should_prune():
            study.tell(trial, state=hpopt.TrialState.PRUNED)
        else:
            study.tell(trial, v)
    resumed = study.ask()
    assert resumed.resumed_from == 2
    assert (resumed.checkpoint_dir / "state.txt").read_text() == "0.4"
    assert str(resumed.checkpoint_dir) == study.trials[2].system_attrs["checkpoint_dir"]


def test_stop_mode_never_resumes() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27))
    _first_rung_decisions(study, [0.5, 0.6, 0.4, *[0.1] * 6])
    assert all(PAUSED_AT_KEY not in t.system_attrs for t in study.trials)
    assert study.ask().resumed_from is None


def test_pause_mode_simulation_trains_fewer_epochs_than_restarting() -> None:
    """Resumed trials continue their curves: every (config, step) is trained once."""
    study = _study(hpopt.ASHAScheduler(1, 27, pause=True))
    result = simulate(study, max_steps=27, n_trials=120, n_workers=4)
    resumed = [t for t in study.trials if t.system_attrs.get("resumed_from") is not None]
    assert resumed, "no trial was ever resumed"
    params_steps = [(tuple(study.trials[e.trial].params.values()), e.step) for e in result.events]
    assert len(params_steps) == len(set(params_steps)) == result.epochs
    for t in resumed:
        parent = study.trials[t.system_attrs["resumed_from"]]
        assert dict(t.params) == dict(parent.params)
        assert parent.state is hpopt.TrialState.PRUNED
        assert min(s for s in t.intermediate_values if s > t.system_attrs[RESUMED_AT_KEY]) == (
            parent.system_attrs[PAUSED_AT_KEY] + 1
        )
    # Each paused trial is resumed at most once.
    parents = [t.system_attrs["resumed_from"] for t in resumed]
    assert len(parents) == len(set(parents))


def test_a_resumed_trial_that_restarts_from_scratch_gets_a_clear_error() -> None:
    study = _study(hpopt.ASHAScheduler(1, 27, pause=True))
    _first_rung_decisions(study, [0.5, 0.6, 0.4, *[0.1] * 6])
    resumed = study.ask()
    assert resumed.resumed_from == 2
    with pytest.raises(ValueError, match="load its checkpoint"):
        resumed.report(0.3, 1)
