"""Small helpers shared by the schedulers: signed values, argument checks, percentiles."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from hpopt.study.view import StudyView
from hpopt.trial.frozen import FrozenTrial

__all__ = [
    "IncrementalScan",
    "check_int",
    "linear_percentile",
    "loss",
    "objective_sign",
]


def objective_sign(view: StudyView) -> float:
    """+1 if the study minimizes, -1 if it maximizes (schedulers need one objective).

    Raises
    ------
    ValueError
        If the study has several objectives.
    """
    if view.n_objectives != 1:
        raise ValueError(
            f"schedulers need a single-objective study; this one has {view.n_objectives}"
        )
    return view.signs[0]


def loss(value: float, sign: float) -> float:
    """``sign * value`` (smaller is better); NaN and infinities count as the worst value."""
    v = sign * value
    return v if math.isfinite(v) else math.inf


def check_int(name: str, value: int, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def linear_percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ascending values, interpolating linearly.

    Same as ``numpy.percentile`` for finite values, but well defined with ``inf`` (an
    interpolation that touches ``inf`` gives ``inf``).
    """
    n = len(sorted_values)
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    a, b = sorted_values[lo], sorted_values[hi]
    frac = pos - lo
    if frac == 0.0 or a == b:
        return a
    return a + frac * (b - a)


def _number(trial: FrozenTrial) -> int:
    return trial.number


class IncrementalScan:
    """Finds the records of a study that are new or changed since the last scan.

    Finished records never change, so each is returned once; unfinished ones are watched
    until they finish. A scan costs O(new + unfinished trials), not O(all trials), which
    keeps a scheduler's decision cheap in a study with thousands of trials. ``trials``
    must be ordered by number (as every :class:`StudyView` is).
    """

    def __init__(self) -> None:
        self._high = -1
        self._pending: dict[int, FrozenTrial] = {}

    def changed(self, trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
        """Records not returned before (new trials, or newer records of unfinished ones)."""
        out = []
        for number, old in list(self._pending.items()):
            current = _find(trials, number)
            if current is None or current is old:
                continue
            out.append(current)
            if current.state.is_finished():
                del self._pending[number]
            else:
                self._pending[number] = current
        start = bisect.bisect_right(trials, self._high, key=_number)
        for t in trials[start:]:
            out.append(t)
            if not t.state.is_finished():
                self._pending[t.number] = t
        if trials:
            self._high = max(self._high, trials[-1].number)
        return out


def _find(trials: Sequence[FrozenTrial], number: int) -> FrozenTrial | None:
    """The record of trial ``number`` in ``trials`` (ordered by number), if present."""
    if number < len(trials) and trials[number].number == number:
        return trials[number]  # a full view: position == number
    i = bisect.bisect_left(trials, number, key=_number)
    return trials[i] if i < len(trials) and trials[i].number == number else None
