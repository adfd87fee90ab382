"""The immutable record of a trial, as stored and as handed to samplers and users."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from hpopt._frozen import FrozenMap, freeze
from hpopt.space.distributions import Distribution
from hpopt.trial.state import TrialState

__all__ = ["FrozenTrial"]


@dataclass(frozen=True, eq=True)
class FrozenTrial:
    """An immutable snapshot of a trial.

    Attributes
    ----------
    number
        0-based position of the trial in its study; never reused.
    trial_id
        Storage-wide id; never reused.
    state
        The :class:`TrialState`.
    values
        Objective values (one per direction) of a COMPLETE trial; the last reported value of a
        PRUNED trial when it reported one; otherwise ``None``.
    params
        Parameter name to external value.
    distributions
        Parameter name to the distribution it was drawn from.
    intermediate_values
        Step to value, from ``trial.report``.
    user_attrs, system_attrs
        JSON-serializable attributes; system attributes belong to hpopt's components.
    error
        For a FAIL trial, why it failed (message and traceback), else ``None``.
    """

    number: int
    state: TrialState
    values: tuple[float, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=FrozenMap)
    distributions: Mapping[str, Distribution] = field(default_factory=FrozenMap)
    intermediate_values: Mapping[int, float] = field(default_factory=FrozenMap)
    user_attrs: Mapping[str, Any] = field(default_factory=FrozenMap)
    system_attrs: Mapping[str, Any] = field(default_factory=FrozenMap)
    datetime_start: _dt.datetime | None = None
    datetime_complete: _dt.datetime | None = None
    error: str | None = None
    trial_id: int = -1

    def __post_init__(self) -> None:
        attrs = self.__dict__  # frozen: write the normalized mappings directly
        for key in _MAPPINGS:
            if type(attrs[key]) is not FrozenMap:
                attrs[key] = freeze(attrs[key])
        if self.values is not None and not isinstance(self.values, tuple):
            object.__setattr__(self, "values", tuple(float(v) for v in self.values))

    @property
    def value(self) -> float | None:
        """The single objective value (``None`` if there is none).

        Raises
        ------
        RuntimeError
            If the trial has several objective values.
        """
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise RuntimeError(
                f"trial {self.number} has {len(self.values)} objective values; use .values"
            )
        return self.values[0]

    @property
    def duration(self) -> _dt.timedelta | None:
        """Wall time from start to completion, if both are known."""
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    @property
    def last_step(self) -> int | None:
        """The largest reported step, or ``None``."""
        return max(self.intermediate_values) if self.intermediate_values else None

    def replace(self, **changes: Any) -> FrozenTrial:
        """Return a copy with ``changes`` applied (records themselves never change)."""
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"FrozenTrial has no field(s) {sorted(unknown)}")
        # A shallow copy of the fields, then the usual normalization: much cheaper than
        # dataclasses.replace, and this is on the path of every trial.
        new = object.__new__(FrozenTrial)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        new.__post_init__()
        return new


_FIELDS = frozenset(f.name for f in fields(FrozenTrial))
_MAPPINGS = ("params", "distributions", "intermediate_values", "user_attrs", "system_attrs")


def make_values(values: float | Sequence[float] | None) -> tuple[float, ...] | None:
    """Normalize a value or sequence of values to a tuple of floats."""
    if values is None:
        return None
    if isinstance(values, (int, float)):
        return (float(values),)
    return tuple(float(v) for v in values)
