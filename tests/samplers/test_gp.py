"""GPSampler: bounds, reproducibility, spaces, objectives, batches and optimization quality."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hpopt
from hpopt.samplers.gp import optimize_acqf
from hpopt.samplers.gp import sampler as gp_sampler_module
from hpopt.samplers.gp.acquisition import log_ei, log_ei_with_grad, log_h
from hpopt.samplers.gp.encoding import SpaceEncoding
from hpopt.samplers.gp.model import GPModel, _neg_log_posterior, fit_gp
from hpopt.samplers.gp.targets import warp_targets
from hpopt.space.distributions import Categorical, Float, Int
from hpopt.testing.functions import branin, hartmann6
from hpopt.trial.state import TrialState

ALL_KINDS = {
    "f": Float(-3.0, 2.0),
    "flog": Float(1e-4, 10.0, log=True),
    "fstep": Float(0.0, 1.0, step=0.25),
    "i": Int(-2, 7),
    "ilog": Int(1, 1000, log=True),
    "istep": Int(0, 30, step=5),
    "c": Categorical(("x", 1, 2.5, None, True)),
}


def _bowl(p: dict[str, Any]) -> float:
    choices = ALL_KINDS["c"]
    assert isinstance(choices, Categorical)
    cat = [0.3, 0.0, 0.5, 0.9, 0.2][choices.index(p["c"])]
    return (
        (p["f"] - 0.5) ** 2
        + (math.log10(p["flog"]) + 1) ** 2
        + (p["fstep"] - 0.75) ** 2
        + 0.1 * (p["i"] - 3) ** 2
        + (math.log10(p["ilog"]) - 1) ** 2
        + 0.01 * (p["istep"] - 10) ** 2
        + cat
    )


def test_every_distribution_kind_stays_in_bounds() -> None:
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=1, n_startup_trials=3))
    for _ in range(12):
        trial = study.ask(ALL_KINDS)
        assert trial.config is not None
        study.tell(trial, _bowl(trial.config))
    trials = study.get_trials()
    assert all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        for name, dist in ALL_KINDS.items():
            assert dist.contains(t.params[name]), (name, t.params[name])
    # The model's proposals (after startup) improve on the Sobol startup points.
    values = [t.value for t in trials]
    assert min(values[3:]) < min(values[:3])


def _proposals(seed: int) -> list[dict[str, Any]]:
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=seed, n_startup_trials=3))
    for _ in range(8):
        trial = study.ask(ALL_KINDS)
        assert trial.config is not None
        study.tell(trial, _bowl(trial.config))
    return [dict(t.params) for t in study.get_trials()]


def test_same_seed_same_proposals_and_other_seed_differs() -> None:
    first, again, other = _proposals(7), _proposals(7), _proposals(8)
    assert first == again
    assert first != other
    assert first[3:] != other[3:]  # the model phase differs too, not only the startup


def test_conditional_space_samples_shared_params_jointly() -> None:
    def objective(t: hpopt.Trial) -> float:
        kind = t.suggest_categorical("kind", ["linear", "tree"])
        x = t.suggest_float("x", -2.0, 2.0)
        if kind == "linear":
            return x**2 + t.suggest_float("alpha", 1e-3, 1.0, log=True)
        return (x - 1) ** 2 + 0.1 * t.suggest_int("depth", 1, 8)

    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=3, n_startup_trials=4))
    study.optimize(objective, n_trials=14)
    trials = study.get_trials()
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert {t.params["kind"] for t in trials} == {"linear", "tree"}
    for t in trials:
        expected = {"kind", "x", "alpha" if t.params["kind"] == "linear" else "depth"}
        assert set(t.params) == expected
    sampler = study.sampler
    assert isinstance(sampler, hpopt.GPSampler)
    joint = sampler.infer_relative_search_space(study._view(), study.ask())
    assert set(joint) == {"kind", "x"}


def test_multi_objective_runs_and_spreads_over_the_front() -> None:
    def objective(t: hpopt.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0.0, 1.0)
        y = t.suggest_float("y", 0.0, 1.0)
        return x**2 + 0.1 * y, (1 - x) ** 2 + 0.1 * y

    study = hpopt.create_study(
        directions=["minimize", "minimize"],
        sampler=hpopt.GPSampler(seed=0, n_startup_trials=4),
    )
    study.optimize(objective, n_trials=16)
    trials = study.get_trials()
    assert all(t.state is TrialState.COMPLETE for t in trials)
    late = trials[4:]
    # Proposals favour y near 0 (it only hurts both objectives) and cover several x.
    assert np.median([t.params["y"] for t in late]) < 0.25
    assert np.ptp([t.params["x"] for t in late]) > 0.3


def test_batch_of_running_trials_gets_distinct_points() -> None:
    space = {"x": Float(-5.0, 10.0), "y": Float(0.0, 15.0)}
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, n_startup_trials=5))
    for _ in range(5):
        trial = study.ask(space)
        assert trial.config is not None
        study.tell(trial, branin(np.array([trial.config["x"], trial.config["y"]])))
    batch = [study.ask(space) for _ in range(4)]
    points = np.array([[t.params["x"] / 15, t.params["y"] / 15] for t in batch])
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(points) for b in points[i + 1 :]]
    assert min(gaps) > 1e-3


def test_running_trial_of_another_worker_is_avoided() -> None:
    """A RUNNING trial whose params were written by someone else is a kriging-believer point."""
    space = {"x": Float(0.0, 1.0)}
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, n_startup_trials=4))
    for x in (0.1, 0.35, 0.6, 0.9):
        study.enqueue_trial({"x": x})
        trial = study.ask(space)
        study.tell(trial, (trial.params["x"] - 0.45) ** 2)
    solo = hpopt.GPSampler(seed=5, n_startup_trials=4)
    first = study.ask(space)
    first.flush()
    study.sampler = solo
    second = study.ask(space)
    assert abs(second.params["x"] - first.params["x"]) > 1e-3


def test_startup_counts_running_trials_once_half_of_it_finished() -> None:
    """With parallel workers the model starts at the trial number it starts at sequentially."""
    space = {"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)}
    sampler = hpopt.GPSampler(seed=0, n_startup_trials=4)
    study = hpopt.create_study(sampler=sampler)

    def modelled(trial: hpopt.Trial) -> bool:
        return bool(sampler.infer_relative_search_space(study._view(), trial))

    first = [study.ask(space) for _ in range(4)]
    study.tell(first[0], 1.0)
    probe = study.ask(space)  # 1 finished + 3 running: fewer than half of the 4 finished
    assert not modelled(probe)
    study.tell(first[1], 2.0)
    assert modelled(probe)  # 2 finished + 2 running others (the probe itself is not counted)

    solo = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, n_startup_trials=4))
    for value in (1.0, 2.0, 3.0):
        solo.tell(solo.ask(space), value)
    alone = solo.ask(space)
    assert not solo.sampler.infer_relative_search_space(solo._view(), alone)


PROBLEMS = {
    "branin": (
        {"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)},
        lambda p: branin(np.array([p["x1"], p["x2"]])),
        0.397887,
        20,
    ),
    "hartmann6": (
        {f"x{i}": Float(0.0, 1.0) for i in range(6)},
        lambda p: hartmann6(np.array([p[f"x{i}"] for i in range(6)])),
        -3.32237,
        32,
    ),
}


def _final_regret(sampler: hpopt.samplers.BaseSampler, problem: str) -> float:
    space, f, f_opt, budget = PROBLEMS[problem]
    study = hpopt.create_study(sampler=sampler)
    for _ in range(budget):
        trial = study.ask(space)
        assert trial.config is not None
        study.tell(trial, f(trial.config))
    return study.best_value - f_opt


def _shuffled_targets(y: np.ndarray, *, warp: bool = True) -> np.ndarray:
    return np.random.default_rng(0).permutation(warp_targets(y, warp=warp))


@pytest.mark.parametrize("problem", ["branin", "hartmann6"])
@pytest.mark.parametrize(
    "broken", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["model", "shuffled"]
)
def test_gp_beats_random_search(
    problem: str, broken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Median final regret (over 8 seeds) below a third of random search's mean; a model
    fitted on shuffled observations (the same machinery, no information) must miss it."""
    random_regret = np.mean(
        [_final_regret(hpopt.RandomSampler(seed=100 + s), problem) for s in range(24)]
    )
    if broken:
        monkeypatch.setattr(gp_sampler_module, "warp_targets", _shuffled_targets)
    gp_regret = np.median([_final_regret(hpopt.GPSampler(seed=s), problem) for s in range(8)])
    beats = bool(gp_regret < random_regret / 3)
    assert beats is not broken, (gp_regret, random_regret)


# ---------------------------------------------------------------------- building blocks
def test_log_h_matches_the_closed_form_and_stays_finite() -> None:
    from scipy.stats import norm

    z = np.array([-30.0, -5.0, -1.5, -1.0, -0.5, 0.0, 2.0])
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    np.testing.assert_allclose(log_h(z), direct, rtol=1e-7)
    far = log_h(np.array([-1e3, -1e9]))
    assert np.isfinite(far).all() and far[1] < far[0]


def _toy_model(noise: float = 1e-2) -> tuple[GPModel, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((25, 3))
    x[:, 2] = rng.integers(3, size=25)
    y = np.sin(4 * x[:, 0]) + x[:, 1] ** 2 + 0.4 * x[:, 2]
    y = (y - y.mean()) / y.std()
    theta = np.array([1.0, 0.5, 0.2, 0.0, math.log(noise)])
    return GPModel(x, y, np.array([False, False, True]), theta), y


def test_fantasies_are_their_posterior_mean_floored_at_the_best_target() -> None:
    model, y = _toy_model()
    rng = np.random.default_rng(1)
    xs = rng.random((2000, 3))
    xs[:, 2] = rng.integers(3, size=2000)
    mu, _ = model.predict(xs)
    # A point predicted below the best observed target, and one predicted above it.
    near, far = xs[np.argmin(mu)], xs[np.argmax(mu)]
    assert mu.min() < y.min() < mu.max()
    fantasized = model.with_fantasies(np.array([near, far]))
    assert fantasized.n_fantasies == 2
    assert fantasized.y[-2] == pytest.approx(y.min())
    assert fantasized.y[-1] == pytest.approx(mu.max())
    assert fantasized.y.min() == pytest.approx(y.min())
    # Neither fantasy leaves an improvement over the incumbent where it stands.
    ei = log_ei(fantasized, np.array([near, far]), float(y.min()))
    assert (ei < log_ei(model, np.array([near, far]), float(y.min())) - 5).all()


#: Log hyperparameters of the toy model without and with the rough kernel term.
_PLAIN_THETA = [0.3, -0.4, 1.1, 0.2, math.log(1e-3)]
_ROUGH_EXTRA = [math.log(0.05), math.log(40.0)]  # [log s2r, log c]
_ROUGH_THETA = [*_PLAIN_THETA, *_ROUGH_EXTRA]


@pytest.mark.parametrize("values", [_PLAIN_THETA, _ROUGH_THETA], ids=["plain", "rough"])
def test_marginal_likelihood_gradient_matches_finite_differences(values: list[float]) -> None:
    from scipy.optimize import approx_fprime

    model, y = _toy_model()
    theta = np.array(values)
    _, grad = _neg_log_posterior(theta, model.x, y, model.is_cat)
    numeric = approx_fprime(
        theta, lambda t: _neg_log_posterior(t, model.x, y, model.is_cat)[0], 1e-6
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rough", [False, True], ids=["plain", "rough"])
def test_log_ei_gradient_matches_finite_differences(rough: bool) -> None:
    from scipy.optimize import approx_fprime

    model, y = _toy_model()
    if rough:
        model = GPModel(model.x, y, model.is_cat, np.r_[model.theta, _ROUGH_EXTRA])
    num = np.array([True, True, False])
    xs = np.array([[0.2, 0.7, 1.0], [0.9, 0.1, 2.0]])
    _, grad = log_ei_with_grad(model, xs, float(y.min()), num)
    for i, row in enumerate(xs):

        def f(v: np.ndarray, row: np.ndarray = row) -> float:
            return float(log_ei(model, np.r_[v, row[2]][None], float(y.min()))[0])

        np.testing.assert_allclose(grad[i], approx_fprime(row[:2], f, 1e-7), rtol=1e-4)


def test_encoding_round_trips_and_snaps_to_grids() -> None:
    enc = SpaceEncoding(ALL_KINDS)
    rng = np.random.default_rng(0)
    rows = enc.from_uniform(rng.random((50, enc.dim)))
    for row in rows:
        params = enc.decode(row)
        for name, dist in ALL_KINDS.items():
            assert dist.contains(params[name])
        np.testing.assert_allclose(enc.encode(params), row, atol=1e-9)
    assert sorted(enc.neighbours(6, 1.0)) == [0.0, 2.0, 3.0, 4.0]


def test_large_history_fits_on_a_bounded_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    space = {"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)}
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=0, max_fit_trials=40))
    rng = np.random.default_rng(0)
    for _ in range(120):
        p = {"x": float(rng.random()), "y": float(rng.random())}
        study.add_trial(
            hpopt.create_trial(params=p, distributions=space, values=[(p["x"] - 0.3) ** 2])
        )
    fits: list[int] = []
    original = gp_sampler_module.fit_gp

    def counting_fit(x: np.ndarray, *args: Any, **kwargs: Any) -> GPModel:
        fits.append(len(x))
        return original(x, *args, **kwargs)

    monkeypatch.setattr(gp_sampler_module, "fit_gp", counting_fit)
    trial = study.ask(space)
    assert fits == [40]
    assert abs(trial.params["x"] - 0.3) < 0.15


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_startup_trials"):
        hpopt.GPSampler(n_startup_trials=0)
    with pytest.raises(ValueError, match="max_fit_trials"):
        hpopt.GPSampler(max_fit_trials=3)


@pytest.mark.parametrize("seed", range(3))
def test_discrete_space_is_not_proposed_twice_until_exhausted(seed: int) -> None:
    """In a small discrete space every model-based proposal is a configuration not tried yet
    (a repeat of a deterministic objective is a wasted evaluation); once all 20 are tried,
    proposals repeat instead of failing."""
    space = {"k": Int(1, 5), "c": Categorical(("a", "b", "c", "d"))}
    bowl = {"a": 0.4, "b": 0.0, "c": 0.2, "d": 0.6}
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=seed, n_startup_trials=3))
    seen = []
    for _ in range(24):
        trial = study.ask(space)
        assert trial.config is not None
        seen.append((trial.config["k"], trial.config["c"]))
        study.tell(trial, 0.1 * (trial.config["k"] - 3) ** 2 + bowl[trial.config["c"]])
    startup = len(set(seen[:3]))
    assert len(set(seen[:20])) == 20 - (3 - startup)
    assert len(set(seen)) == 20


def _rippled(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """30 random points of a smooth trend with small ripples, and a dense test grid."""
    rng = np.random.default_rng(seed)
    x = rng.random((30, 1))

    def f(v: np.ndarray) -> np.ndarray:
        return np.asarray((v - 0.3) ** 2 + 0.03 * np.sin(60 * v))

    raw = f(x[:, 0])
    grid = np.linspace(0.0, 1.0, 400)[:, None]
    return x, (raw - raw.mean()) / raw.std(), grid, (f(grid[:, 0]) - raw.mean()) / raw.std()


def test_deterministic_objective_fixes_the_noise_and_interpolates() -> None:
    x, y, _, _ = _rippled(0)
    is_cat = np.array([False])
    # Without the rough term, a fitted noise explains the ripples away.
    noisy = fit_gp(x, y, is_cat, rng=np.random.default_rng(0), rough=False)
    exact = fit_gp(x, y, is_cat, rng=np.random.default_rng(0), fit_noise=False, rough=False)
    assert noisy.noise > 1e-4
    assert exact.noise == pytest.approx(1e-6)
    mu, _ = exact.predict(x)
    np.testing.assert_allclose(mu, y, atol=1e-3)
    assert np.abs(noisy.predict(x)[0] - y).max() > 1e-2

    def objective(trial: hpopt.Trial) -> float:
        v = trial.suggest_float("v", 0.0, 1.0)
        return float((v - 0.3) ** 2 + 0.03 * math.sin(60 * v))

    sampler = hpopt.GPSampler(seed=0, n_startup_trials=5, deterministic_objective=True)
    hpopt.create_study(sampler=sampler).optimize(objective, n_trials=8)
    (theta,) = sampler._theta.values()
    assert math.exp(theta[2]) == pytest.approx(1e-6)  # [log rho, log s2, log noise, ...]


def test_rough_term_models_ripples_that_a_white_noise_explains_away() -> None:
    errors: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(5):
        x, y, grid, truth = _rippled(seed)
        for rough in (True, False):
            model = fit_gp(x, y, np.array([False]), rng=np.random.default_rng(0), rough=rough)
            errors[rough].append(float(np.sqrt(np.mean((model.predict(grid)[0] - truth) ** 2))))
            if rough and seed == 0:
                # The ripples went into the rough term, at a much shorter lengthscale.
                assert model.noise < 1e-4 < model.s2r and model.c > 20
    assert np.mean(errors[True]) < 0.9 * np.mean(errors[False])


def test_rough_term_costs_little_on_independent_noise() -> None:
    """On noisy observations of a smooth function the rough term takes up part of the noise
    (the fitted values come closer to the observations), but its predictions of the
    function itself between the observations stay about as good as the plain fit's."""
    rng = np.random.default_rng(0)
    errors: dict[bool, list[float]] = {True: [], False: []}
    residuals: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(8):
        x, grid = rng.random((40, 2)), rng.random((500, 2))

        def f(v: np.ndarray) -> np.ndarray:
            return np.asarray((v[:, 0] - 0.3) ** 2 + v[:, 1])

        raw = f(x) + 0.1 * rng.standard_normal(40)
        y, truth = (raw - raw.mean()) / raw.std(), (f(grid) - raw.mean()) / raw.std()
        for rough in (True, False):
            model = fit_gp(
                x, y, np.array([False, False]), rng=np.random.default_rng(0), rough=rough
            )
            errors[rough].append(float(np.sqrt(np.mean((model.predict(grid)[0] - truth) ** 2))))
            residuals[rough].append(float(np.sqrt(np.mean((model.predict(x)[0] - y) ** 2))))
    # An interpolating fit (noise fixed at its floor) scores about 3.7x the plain error here.
    assert np.mean(errors[True]) < 1.25 * np.mean(errors[False])
    assert np.mean(residuals[True]) > 0.3 * np.mean(residuals[False]) > 0.05


def _plateau(t: hpopt.Trial) -> float:
    """A lasso-like landscape: a large penalty without ``a``; a flat plateau at large
    ``scale``; below it ``b=True`` is a shallow basin and ``b=False`` the deeper one; ``p``
    and ``q`` barely matter, so near-copies of the incumbent keep improving by a hair."""
    u = math.log10(t.suggest_float("scale", 1e-2, 1e2, log=True)) / 4 + 0.5
    a = t.suggest_categorical("a", [True, False])
    b = t.suggest_categorical("b", [True, False])
    p, q = t.suggest_float("p", 0.0, 1.0), t.suggest_float("q", 0.0, 1.0)
    base = 6.0 if u > 0.55 else (3.2 if b else 3.0) + 0.01 * u
    return base + (0.0 if a else 22.0) + 1e-4 * ((p - 0.3) ** 2 + (q - 0.6) ** 2)


@pytest.mark.parametrize("seed", range(3))
def test_stalled_search_leaves_a_shallow_basin_for_an_untried_branch(seed: int) -> None:
    """The startup trials never tried ``a=True, b=False`` at a small ``scale``, and the best
    of them sits in the shallow basin. Plain EI keeps proposing near-copies of the incumbent
    there, each a hair better, and never leaves in 32 trials (every seed); once the search
    stalls, every third ask EI asks for a real improvement, which only the untried branch
    can offer."""
    starts = [(31.0, True, False), (0.05, False, True), (0.15, True, True), (7.7, False, False),
              (2.8, True, False), (0.53, False, True), (0.014, True, True), (85.0, False, False),
              (44.0, True, True), (0.027, False, False)]  # fmt: skip
    study = hpopt.create_study(sampler=hpopt.GPSampler(seed=seed))
    for i, (scale, a, b) in enumerate(starts):
        study.enqueue_trial({"scale": scale, "a": a, "b": b, "p": i * 0.37 % 1, "q": i * 0.61 % 1})
    study.optimize(_plateau, n_trials=32)
    assert min(t.value for t in study.trials[:10] if t.value is not None) > 3.1
    assert study.best_value < 3.1


def test_each_acquisition_start_is_searched_to_its_own_local_maximum() -> None:
    model, y = _toy_model()
    # Lengthscales 20x apart: the search must be conditioned along both.
    model = GPModel(model.x, model.y, model.is_cat, np.array([4.0, -2.0, 0.2, 0.0, -4.6]))
    enc = SpaceEncoding({"a": Float(0.0, 1.0), "b": Float(0.0, 1.0), "c": Categorical((0, 1, 2))})
    acq = optimize_acqf._Acquisition(model, float(y.min()), None)
    # With these starts one joint L-BFGS-B run over the summed objectives leaves a start
    # 0.36 below the top of its hill.
    rng = np.random.default_rng(4)
    starts = rng.random((8, 3))
    starts[:, 2] = rng.integers(3, size=8)
    out = optimize_acqf._lbfgs(acq, enc, starts, enc.is_num, 200)
    assert (out[:, 2] == starts[:, 2]).all()
    assert (acq(out) >= acq(starts)).all()
    for row in out:
        value = acq(row[None])[0]
        for j in (0, 1):
            for step in (-1e-2, -1e-3, 1e-3, 1e-2):
                moved = row.copy()
                moved[j] = np.clip(moved[j] + step, 0.0, 1.0)
                assert acq(moved[None])[0] <= value + 1e-3
