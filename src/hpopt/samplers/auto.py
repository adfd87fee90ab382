"""The default sampler: a Gaussian process where it pays, TPE elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hpopt.samplers.base import BaseSampler
from hpopt.samplers.gp import GPSampler
from hpopt.samplers.gp.sampler import modelled_trials
from hpopt.samplers.tpe import TPESampler
from hpopt.space.distributions import Distribution
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["AUTO_SAMPLER_KEY", "AutoSampler"]

#: System attribute of each trial naming the sampler that proposed it (``"gp"`` or ``"tpe"``).
AUTO_SAMPLER_KEY = "auto_sampler"

GP = "gp"
TPE = "tpe"


class AutoSampler(BaseSampler):
    """Picks a Gaussian-process or a TPE sampler for each trial, by search space and budget.

    The rule, evaluated on the study's history when each trial starts:

    1. several objectives -> **TPE** (its multi-objective variant);
    2. at least ``max_gp_trials`` finished trials -> **TPE** (a GP ask costs hundreds of
       milliseconds at that size; TPE stays at a few);
    3. a conditional space -> **TPE**: some parameter appears in some finished trials and not
       in others, or with different distributions (the GP models only the parameters all
       trials share and would draw the rest at random);
    4. more than ``max_gp_dims`` parameters seen -> **TPE** (a GP with one lengthscale per
       dimension needs far more than a small budget of points to fit there);
    5. otherwise -> **GP**.

    *Finished* means what both samplers learn from: COMPLETE trials and, with one objective,
    trials a scheduler pruned after reporting a value (without a scheduler, the COMPLETE ones).

    The first trials come from the chosen sampler's own quasi-random (scrambled Sobol) startup.
    Every condition can only become true as a study grows, so a study moves at most once,
    from GP to TPE; TPE then learns from the whole history, including the GP's trials. The
    choice is stored on each trial as the system attribute ``"auto_sampler"``.

    Parameters
    ----------
    seed
        Seed of both samplers' random streams; sequential runs with the same seed are
        reproducible.
    max_gp_dims
        Largest number of parameters the GP is used for.
    max_gp_trials
        Number of finished trials from which TPE takes over.
    deterministic_objective
        Passed to :class:`GPSampler`: the objective returns the same value for the same
        parameters, so the GP interpolates instead of fitting a noise level.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(sampler=hpopt.AutoSampler(seed=0))
    >>> study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=8)
    >>> study.trials[-1].system_attrs["auto_sampler"]
    'gp'
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        max_gp_dims: int = 12,
        max_gp_trials: int = 250,
        deterministic_objective: bool = False,
    ) -> None:
        if max_gp_dims < 1:
            raise ValueError(f"max_gp_dims must be >= 1, got {max_gp_dims}")
        if max_gp_trials < 1:
            raise ValueError(f"max_gp_trials must be >= 1, got {max_gp_trials}")
        self.max_gp_dims = max_gp_dims
        self.max_gp_trials = max_gp_trials
        self.gp = GPSampler(seed=seed, deterministic_objective=deterministic_objective)
        self.tpe = TPESampler(seed=seed)
        self._lock = threading.RLock()
        self._choices: dict[tuple[str, int], str] = {}

    def reseed(self, seed: int | None) -> None:
        self.gp.reseed(seed)
        self.tpe.reseed(seed)

    # ------------------------------------------------------------------ the rule
    def choose(self, view: StudyView) -> str:
        """``"gp"`` or ``"tpe"``: the sampler the rule picks for the next trial of ``view``."""
        if view.n_objectives > 1:
            return TPE
        completed = modelled_trials(view)  # with a scheduler, pruned trials count too
        if len(completed) >= self.max_gp_trials:
            return TPE
        seen: dict[str, Distribution] = {}
        first: frozenset[str] | None = None
        for t in completed:
            names = frozenset(t.distributions)
            if first is None:
                first = names
            elif names != first:
                return TPE
            for name, dist in t.distributions.items():
                if seen.setdefault(name, dist) != dist:
                    return TPE
        return TPE if len(seen) > self.max_gp_dims else GP

    def _sampler_for(self, view: StudyView, trial: Trial) -> BaseSampler:
        key = (view.study_name, trial.number)
        with self._lock:
            choice = self._choices.get(key)
        if choice is None:  # e.g. a resumed trial, for which before_trial is not called
            choice = trial.system_attrs.get(AUTO_SAMPLER_KEY) or self.choose(view)
            with self._lock:
                self._choices[key] = choice
        return self.gp if choice == GP else self.tpe

    # ------------------------------------------------------------------ sampler interface
    def before_trial(self, view: StudyView, trial: Trial) -> None:
        choice = self.choose(view)
        with self._lock:
            self._choices[(view.study_name, trial.number)] = choice
        trial.set_system_attr(AUTO_SAMPLER_KEY, choice)
        self._sampler_for(view, trial).before_trial(view, trial)

    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        return self._sampler_for(view, trial).infer_relative_search_space(view, trial)

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        return self._sampler_for(view, trial).sample_relative(view, trial, search_space)

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        return self._sampler_for(view, trial).sample_independent(view, trial, name, distribution)

    def after_trial(
        self,
        view: StudyView,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        with self._lock:
            self._choices.pop((view.study_name, trial.number), None)
        # Both: each may hold state about running trials (e.g. TPE's constant liar).
        self.gp.after_trial(view, trial, state, values)
        self.tpe.after_trial(view, trial, state, values)
