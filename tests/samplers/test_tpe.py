"""Behaviour and search-quality tests of the TPE sampler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hpopt
from hpopt import Categorical, Float, Int, TPESampler, TrialState
from hpopt.samplers.tpe.history import TrialHistory, internal_value
from hpopt.samplers.tpe.multi_objective import (
    exclusive_contributions,
    non_domination_ranks,
    split_multi_objective,
)
from hpopt.samplers.tpe.parzen import (
    ParzenEstimator,
    dim_for,
    from_model,
    log_density_ratio,
    model_space,
    to_model,
)
from hpopt.samplers.tpe.sampler import _smallest
from hpopt.testing.functions import branin, hartmann6

ALL_KINDS = {
    "f": Float(-3.0, 2.5),
    "flog": Float(1e-6, 1e2, log=True),
    "fstep": Float(0.0, 1.0, step=0.125),
    "i": Int(-4, 7),
    "ilog": Int(1, 1000, log=True),
    "istep": Int(2, 30, step=4),
    "c": Categorical(("a", 1, 2.5, None, True)),
    "c2": Categorical(("x", "y")),
}


def _all_kinds_objective(trial: hpopt.Trial) -> float:
    total = 0.0
    for name, dist in ALL_KINDS.items():
        value = trial.suggest(name, dist)
        if isinstance(dist, Categorical):
            total += dist.index(value)
        else:
            total += abs(dist.to_unit(value) - 0.3)
    return total


def _branin(t: Any) -> float:
    return branin(np.array([t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)]))


def _hartmann6(t: Any) -> float:
    return hartmann6(np.array([t.suggest_float(f"x{i}", 0, 1) for i in range(6)]))


def _best_and_late_hits(
    make: Callable[[int], hpopt.samplers.BaseSampler], objective: Any, n: int, good: float
) -> tuple[float, float]:
    """Over 5 seeds: the mean best value, and the mean fraction of the last 20 trials whose
    value is below ``good`` (how much the later proposals concentrate in good regions)."""
    bests, hits = [], []
    for seed in range(5):
        study = hpopt.create_study(sampler=make(seed))
        study.optimize(objective, n_trials=n)
        bests.append(study.best_value)
        hits.append(np.mean([t.value < good for t in study.trials[-20:]]))
    return float(np.mean(bests)), float(np.mean(hits))


# ---------------------------------------------------------------------- conformance-style
@pytest.mark.parametrize("multivariate", [True, False])
def test_every_distribution_kind_stays_in_bounds(multivariate: bool) -> None:
    study = hpopt.create_study(
        sampler=TPESampler(seed=1, n_startup_trials=5, multivariate=multivariate)
    )
    study.optimize(_all_kinds_objective, n_trials=30)
    trials = study.get_trials((TrialState.COMPLETE,))
    assert len(trials) == 30
    for t in trials:
        for name, dist in ALL_KINDS.items():
            assert dist.contains(t.params[name]), (name, t.params[name])
            if isinstance(dist, Int):
                assert type(t.params[name]) is int
    # model-based proposals do not collapse onto one value per parameter
    later = trials[5:]
    assert len({t.params["f"] for t in later}) > 10
    assert len({t.params["istep"] for t in later}) > 1


def test_same_seed_same_proposals_and_different_seed_differs() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = hpopt.create_study(sampler=TPESampler(seed=seed, n_startup_trials=4))
        study.optimize(_all_kinds_objective, n_trials=15)
        return [dict(t.params) for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_reseed_restarts_the_stream() -> None:
    sampler = TPESampler(seed=5, n_startup_trials=3)
    first = hpopt.create_study(sampler=sampler)
    first.optimize(_branin, n_trials=8)
    sampler.reseed(5)
    second = hpopt.create_study(sampler=sampler)
    second.optimize(_branin, n_trials=8)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def test_startup_trials_follow_a_scrambled_sobol_sequence() -> None:
    from scipy.stats import qmc

    study = hpopt.create_study(sampler=TPESampler(seed=0, n_startup_trials=16))
    study.optimize(lambda t: t.suggest_float("u", 0, 1) + t.suggest_float("v", 0, 1), n_trials=16)
    points = np.array([[t.params["u"], t.params["v"]] for t in study.trials])
    # 16 Sobol points: every 1/4 x 1/4 cell holds exactly one point
    cells = {(int(u * 4), int(v * 4)) for u, v in points}
    assert len(cells) == 16
    assert qmc.discrepancy(points) < qmc.discrepancy(np.random.default_rng(0).random((16, 2)))


def test_conditional_space_is_grouped_and_the_better_branch_wins() -> None:
    def objective(t: hpopt.Trial) -> float:
        if t.suggest_categorical("branch", ["good", "bad"]) == "good":
            return (t.suggest_float("a", -1, 1) - 0.4) ** 2 + t.suggest_int("b", 0, 9) / 20
        return 1.0 + t.suggest_float("c", 0, 1, log=False)

    sampler = TPESampler(seed=0, n_startup_trials=8)
    study = hpopt.create_study(sampler=sampler)
    study.optimize(objective, n_trials=50)
    hist = sampler._histories[study.study_name]
    assert sorted(sorted(g) for g in hist.groups) == [["a", "b"], ["branch"], ["c"]]
    later = study.trials[25:]
    assert sum(t.params["branch"] == "good" for t in later) >= 17  # random: 12.5 of 25
    assert study.best_value < 0.05


def test_enqueued_trials_are_run_first_and_partial_ones_completed() -> None:
    study = hpopt.create_study(sampler=TPESampler(seed=0, n_startup_trials=2))
    study.optimize(_branin, n_trials=5)
    study.enqueue_trial({"x1": 1.0, "x2": 2.0})
    study.enqueue_trial({"x1": -3.0})
    study.optimize(_branin, n_trials=3)
    t5, t6, t7 = study.trials[5:8]
    assert dict(t5.params) == {"x1": 1.0, "x2": 2.0}
    assert t6.params["x1"] == -3.0 and 0 <= t6.params["x2"] <= 15
    assert -5 <= t7.params["x1"] <= 10


def test_multi_objective_study_runs_and_improves_the_front() -> None:
    def objective(t: hpopt.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0, 1)
        y = t.suggest_float("y", 0, 1)
        return x + 0.5 * y, (1 - x) + 0.5 * y

    def hypervolume(study: hpopt.Study) -> float:
        pts = np.array([t.values for t in study.best_trials])
        pts = pts[np.argsort(pts[:, 0])]
        ref = np.array([1.5, 1.5])
        xs = np.append(pts[1:, 0], ref[0])
        return float(((xs - pts[:, 0]) * (ref[1] - pts[:, 1])).sum())

    tpe, rnd = [], []
    for seed in range(3):
        s = hpopt.create_study(directions=["minimize", "minimize"], sampler=TPESampler(seed=seed))
        s.optimize(objective, n_trials=40)
        r = hpopt.create_study(
            directions=["minimize", "minimize"], sampler=hpopt.RandomSampler(seed=seed)
        )
        r.optimize(objective, n_trials=40)
        tpe.append(hypervolume(s))
        rnd.append(hypervolume(r))
    assert np.mean(tpe) > np.mean(rnd)


def test_maximize_direction_is_respected() -> None:
    study = hpopt.create_study(direction="maximize", sampler=TPESampler(seed=0))
    study.optimize(lambda t: -((t.suggest_float("x", -10, 10) - 3) ** 2), n_trials=40)
    assert abs(study.best_params["x"] - 3) < 0.5


def test_pruned_and_failed_trials_do_not_break_sampling() -> None:
    def objective(t: hpopt.Trial) -> float:
        x = t.suggest_float("x", -5, 5)
        if t.number % 5 == 3:
            raise ValueError("boom")
        t.report(x * x + 1, step=1)
        if t.number % 4 == 1:
            raise hpopt.TrialPruned()
        return x * x

    study = hpopt.create_study(sampler=TPESampler(seed=0, n_startup_trials=4))
    study.optimize(objective, n_trials=40, catch=(ValueError,))
    states = {t.state for t in study.trials}
    assert states == {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}
    assert study.best_value < 0.1


def test_pruned_trials_rank_after_complete_ones_by_step_then_value() -> None:
    hist = TrialHistory([1.0])
    dist = {"x": Float(0, 1)}
    records = [
        hpopt.create_trial(params={"x": 0.1}, distributions=dist, value=5.0),
        hpopt.create_trial(
            params={"x": 0.2},
            distributions=dist,
            state=TrialState.PRUNED,
            intermediate_values={1: 0.0},
        ),
        hpopt.create_trial(
            params={"x": 0.3},
            distributions=dist,
            state=TrialState.PRUNED,
            intermediate_values={1: 9.0, 3: 2.0},
        ),
        hpopt.create_trial(params={"x": 0.4}, distributions=dist, state=TrialState.FAIL),
    ]
    study = hpopt.create_study()
    for r in records:
        study.add_trial(r)
    assert hist.sync(study._view())
    assert hist.n == 3  # the FAIL trial is not used
    keys = hist.rank_keys
    order = np.lexsort((keys[:, 2], hist.signed_values[:, 0], keys[:, 1], keys[:, 0]))
    assert hist.column("x")[order].tolist() == [0.1, 0.3, 0.2]


def test_constant_liar_spreads_parallel_proposals() -> None:
    def spread(liar: bool, seed: int) -> float:
        study = hpopt.create_study(
            sampler=TPESampler(seed=seed, n_startup_trials=10, constant_liar=liar)
        )
        study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.5) ** 2, n_trials=20)
        pending = [study.ask() for _ in range(6)]
        xs = np.sort([p.suggest_float("x", 0, 1) for p in pending])
        return float(np.diff(xs).min())

    with_liar = np.mean([spread(True, s) for s in range(6)])
    without = np.mean([spread(False, s) for s in range(6)])
    assert with_liar > 2 * without


def test_history_is_extended_incrementally() -> None:
    sampler = TPESampler(seed=0, n_startup_trials=3)
    study = hpopt.create_study(sampler=sampler)
    study.optimize(_branin, n_trials=10)
    hist = sampler._histories[study.study_name]
    study.optimize(_branin, n_trials=5)
    assert sampler._history(study._view()) is hist
    assert hist.n == 15 and hist.frontier == 15
    assert hist.numbers.tolist() == list(range(15))


# ---------------------------------------------------------------------- parts
def test_parzen_density_is_normalized_on_every_kind() -> None:
    rng = np.random.default_rng(0)
    for dist in (Float(-2, 3), Float(1e-3, 10, log=True), Int(0, 6), Int(1, 50, log=True)):
        dim = dim_for(dist)
        obs = to_model(dim, np.array([[dist.from_unit(u)] for u in rng.random(5)])[:, 0])
        est = ParzenEstimator([dim], obs[:, None], np.ones(5))
        if isinstance(dist, Int):
            grid = np.arange(dist.low, dist.high + 1, dtype=float)
            mass = np.exp(est.log_pdf(to_model(dim, grid)[:, None])).sum()
            assert mass == pytest.approx(1.0, abs=1e-6)
        else:
            xs = np.linspace(dim.low, dim.high, 20001)
            dens = np.exp(est.log_pdf(xs[:, None]))
            assert np.trapezoid(dens, xs) == pytest.approx(1.0, abs=1e-3)
        draws = est.sample(rng, 200)
        assert np.all((draws >= dim.low) & (draws <= dim.high))


def _brute_force_log_pdf(est: ParzenEstimator, x: np.ndarray) -> float:
    """log sum_k w_k prod_d kernel_kd(x_d), kernel by kernel with scipy's normal law."""
    from scipy.stats import norm

    space = est.space
    log_terms = np.log(est.weights).copy()
    n_kernels = len(est.weights)
    for q, j in enumerate(space.numeric):
        dim = est.dims[j]
        mu, sigma = est._mus[q], est._sigmas[q]
        low, span = dim.low, dim.high - dim.low
        log_norm = np.log(norm.cdf((1 - mu) / sigma) - norm.cdf(-mu / sigma))
        if dim.step is None:
            u = (x[j] - low) / span
            log_terms += norm.logpdf(u, mu, sigma) - np.log(span) - log_norm
        else:
            v = float(from_model(dim, np.array([x[j]]))[0])
            lo, hi = v - dim.step / 2, v + dim.step / 2
            if dim.log:
                lo, hi = np.log(lo), np.log(hi)
            a, b = ((lo - low) / span - mu) / sigma, ((hi - low) / span - mu) / sigma
            log_terms += np.log(np.maximum(norm.sf(a) - norm.sf(b), 1e-300)) - log_norm
    for (j, n_choices), chosen in zip(space.categorical, est._cat_choices):
        p = 2.0 / n_kernels  # prior_weight / K
        probs = np.full(n_kernels, p / (n_choices * p + 1))
        probs[: len(chosen)][chosen == int(x[j])] = (p + 1) / (n_choices * p + 1)
        probs[-1] = 1.0 / n_choices
        log_terms += np.log(probs)
    peak = log_terms.max()
    return float(peak + np.log(np.exp(log_terms - peak).sum()))


def test_fast_density_equals_a_kernel_by_kernel_sum_on_a_large_mixed_set() -> None:
    # many kernels (several matrix-product blocks), tied grid values (shared stepped
    # kernels), kernels near the range ends and far-away kernels that the fast path skips
    space = model_space(tuple(dim_for(d) for d in ALL_KINDS.values()))
    rng = np.random.default_rng(1)

    def rows(n: int) -> np.ndarray:
        dists = list(ALL_KINDS.values())
        internal = [
            [internal_value(d, d.from_unit(float(u))) for d, u in zip(dists, r)]
            for r in rng.random((n, len(dists)))
        ]
        return space.to_model(np.array(internal))

    good = ParzenEstimator(space, rows(30), np.ones(30), prior_weight=2.0)
    bad = ParzenEstimator(space, rows(3000), np.linspace(0.1, 1.0, 3000), prior_weight=2.0)
    points = good.sample(rng, 40)
    ratio = log_density_ratio(good, bad, points)
    assert np.allclose(ratio, good.log_pdf(points) - bad.log_pdf(points), rtol=0, atol=1e-9)
    for x in points[:4]:
        for est in (good, bad):
            expected = _brute_force_log_pdf(est, x)
            assert est.log_pdf(x[None])[0] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_good_set_selection_matches_a_full_lexicographic_sort() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        values = rng.integers(0, 5, n).astype(float)  # many ties
        numbers = rng.permutation(n) * 3
        k = int(rng.integers(0, n + 2))
        expected = np.sort(np.lexsort((numbers, values))[:k])
        assert np.sort(_smallest(values, numbers, k)).tolist() == expected.tolist()


def test_categorical_kernel_puts_mass_on_observed_choices() -> None:
    dim = dim_for(Categorical(("a", "b", "c", "d")))
    est = ParzenEstimator([dim], np.array([[2.0]] * 6 + [[0.0]]), np.ones(7))
    probs = np.exp(est.log_pdf(np.arange(4.0)[:, None]))
    assert probs.sum() == pytest.approx(1.0)
    assert probs[2] > probs[0] > probs[1] == pytest.approx(probs[3])


def test_multi_objective_split_uses_fronts_then_hypervolume() -> None:
    pts = np.array([[0, 3], [1, 1], [3, 0], [2, 2.5], [4, 4], [1.1, 1.05]], dtype=float)
    assert non_domination_ranks(pts).tolist() == [0, 0, 0, 2, 3, 1]
    assert split_multi_objective(pts, 3).tolist() == [True, True, True, False, False, False]
    # front 0 has 3 points; keep the 2 with the largest hypervolume
    ref = np.array([3.3, 3.3])
    contrib = exclusive_contributions(pts[:3], ref)
    assert contrib.tolist() == pytest.approx([1.0 * 0.3, 2.0 * 2.0, 0.3 * 1.0])
    good = split_multi_objective(pts[:3], 2)
    assert good[1] and good.sum() == 2
    assert split_multi_objective(pts, 5).tolist() == [True, True, True, True, False, True]


# ---------------------------------------------------------------------- search quality
@pytest.mark.parametrize(
    ("objective", "n_trials", "margin", "good", "min_hits"),
    [(_branin, 50, 0.5, 3.0, 0.12), (_hartmann6, 60, 0.25, -2.5, 0.3)],
    ids=["branin", "hartmann6"],
)
def test_tpe_beats_random_search(
    objective: Any, n_trials: int, margin: float, good: float, min_hits: float
) -> None:
    # Checked: with the observations' values shuffled (a broken model) the hit-fraction
    # assertion fails on both problems (Branin <= 0.06, Hartmann6 0.0, for three shuffles;
    # the working model reaches 0.18 and 0.49), and the best-value one on Hartmann6.
    tpe_best, tpe_hits = _best_and_late_hits(
        lambda s: TPESampler(seed=s), objective, n_trials, good
    )
    rnd_best, rnd_hits = _best_and_late_hits(
        lambda s: hpopt.RandomSampler(seed=s), objective, n_trials, good
    )
    assert tpe_best < rnd_best - margin, (tpe_best, rnd_best)
    assert tpe_hits >= min_hits and tpe_hits > rnd_hits + 0.1, (tpe_hits, rnd_hits)
