"""Quasi-Monte Carlo search: low-discrepancy Sobol or Halton sequences (via scipy)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpopt.samplers.base import BaseSampler, IntersectionSearchSpace
from hpopt.space.distributions import Distribution

if TYPE_CHECKING:
    from hpopt.study.view import StudyView
    from hpopt.trial.trial import Trial

__all__ = ["QMCSampler"]

_QMC_TYPES = ("sobol", "halton")

#: Points generated at once when a sequence is first used (a power of two keeps Sobol
#: balanced; later blocks double the total).
_FIRST_BLOCK = 64


class _Sequence:
    """The points of one low-discrepancy sequence, generated in growing blocks."""

    def __init__(self, qmc_type: str, dim: int, scramble: bool, seed: np.random.SeedSequence):
        from scipy.stats import qmc  # lazy: `import hpopt` must not import scipy

        rng = np.random.default_rng(seed)
        if qmc_type == "sobol":
            self._engine: Any = qmc.Sobol(dim, scramble=scramble, rng=rng)
        else:
            self._engine = qmc.Halton(dim, scramble=scramble, rng=rng)
        self._points = np.empty((0, dim))

    def __getitem__(self, k: int) -> np.ndarray:
        while k >= len(self._points):
            n = max(_FIRST_BLOCK, len(self._points))
            self._points = np.concatenate([self._points, self._engine.random(n)])
        point: np.ndarray = self._points[k]
        return point


class QMCSampler(BaseSampler):
    """Spreads configurations evenly with a scrambled Sobol or Halton sequence.

    The parameters that every completed trial has (the intersection search space) are
    sampled jointly: the k-th joint proposal of this sampler takes point k of the
    sequence, whose coordinates map to values through each distribution's unit
    representation (so log ranges are covered evenly in log space). A parameter met for
    the first time (e.g. in the first trial, or a new branch of a conditional space) is
    drawn uniformly at random.

    Parameters
    ----------
    qmc_type
        ``"sobol"`` (default) or ``"halton"``.
    scramble
        Randomize the sequence (recommended; unscrambled sequences start at the corner
        ``0, 0, ...``).
    seed
        Seed of the scrambling and of the random fallback; the same seed gives the same
        sequence of configurations for the same history.

    Notes
    -----
    Several processes sharing one study should use different seeds (the executors reseed
    samplers per worker); with one seed they would propose the same points.

    Examples
    --------
    >>> import hpopt
    >>> study = hpopt.create_study(sampler=hpopt.QMCSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=8,
    ...                show_progress_bar=False)
    >>> len(study.trials)
    8
    """

    def __init__(
        self, *, qmc_type: str = "sobol", scramble: bool = True, seed: int | None = None
    ) -> None:
        if qmc_type not in _QMC_TYPES:
            raise ValueError(f"qmc_type must be one of {_QMC_TYPES}, got {qmc_type!r}")
        self._qmc_type = qmc_type
        self._scramble = bool(scramble)
        self._lock = threading.RLock()
        self.reseed(seed)

    @property
    def qmc_type(self) -> str:
        return self._qmc_type

    def reseed(self, seed: int | None) -> None:
        fallback, sequences = np.random.SeedSequence(seed).spawn(2)
        with self._lock:
            self._rng = np.random.default_rng(fallback)
            self._sequence_seed = sequences
            self._sequences: dict[int, _Sequence] = {}
            self._n_joint = 0
            self._intersection = IntersectionSearchSpace()

    def infer_relative_search_space(self, view: StudyView, trial: Trial) -> dict[str, Distribution]:
        with self._lock:
            space = self._intersection.calculate(view)
        return {name: space[name] for name in sorted(space)}

    def sample_relative(
        self, view: StudyView, trial: Trial, search_space: dict[str, Distribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        dim = len(search_space)
        with self._lock:
            sequence = self._sequences.get(dim)
            if sequence is None:
                # One seed per dimension count, derived from the sampler's seed.
                parent = self._sequence_seed
                seed = np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, dim))
                sequence = self._sequences[dim] = _Sequence(
                    self._qmc_type, dim, self._scramble, seed
                )
            k = self._n_joint
            self._n_joint += 1
            point = sequence[k]
        return {
            name: dist.from_unit(float(u)) for (name, dist), u in zip(search_space.items(), point)
        }

    def sample_independent(
        self, view: StudyView, trial: Trial, name: str, distribution: Distribution
    ) -> Any:
        with self._lock:
            u = float(self._rng.random())
        return distribution.from_unit(u)
