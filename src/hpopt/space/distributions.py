"""Distribution types shared by define-by-run and declarative search spaces.

Every distribution is an immutable value object, validated in its constructor. Each maps a
user-facing ("external") value to an internal float (the value itself for numbers, the index
for categoricals) and to the unit interval, which model-based samplers work in.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Categorical",
    "CategoricalChoice",
    "Distribution",
    "Float",
    "Int",
    "check_compatible",
    "distribution_from_json",
]

CategoricalChoice = None | bool | int | float | str
_CHOICE_TYPES = (type(None), bool, int, float, str)


def _bad(name: str | None, kind: str, problem: str) -> ValueError:
    where = f"parameter {name!r}" if name else f"{kind} distribution"
    return ValueError(f"{where}: {problem}")


def _check_finite(name: str | None, kind: str, **values: float) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(name, kind, f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise _bad(name, kind, f"{key} must be finite, got {value!r}")


class Distribution:
    """Base class of all distributions.

    Subclasses are frozen dataclasses. ``name`` is only used to make error messages name the
    parameter; it is not part of equality.
    """

    type_tag: ClassVar[str]
    name: str | None

    def to_internal(self, value: Any) -> float:
        """Map an external value to its internal float representation."""
        raise NotImplementedError

    def to_external(self, internal: float) -> Any:
        """Map an internal float back to the external value."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """Map an external value into ``[0, 1]``."""
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:
        """Map a point of ``[0, 1]`` to the nearest valid external value."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid external value of this distribution."""
        raise NotImplementedError

    def single(self) -> bool:
        """Whether the distribution has exactly one value."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serializable dict with a ``type`` tag."""
        raise NotImplementedError

    def with_name(self, name: str) -> Distribution:
        """Return a copy that names ``name`` in its error messages."""
        raise NotImplementedError


def _numeric_unit_bounds(
    low: float, high: float, log: bool, step: float | None
) -> tuple[float, float]:
    """Bounds of the continuous range that ``to_unit`` maps onto ``[0, 1]``.

    Stepped ranges are widened by half a step on each side so that every grid value owns an
    equal share of the unit interval.
    """
    if log:
        if step is not None:  # only Int(log=True, step=1)
            return math.log(low - 0.5), math.log(high + 0.5)
        return math.log(low), math.log(high)
    if step is not None:
        return low - 0.5 * step, high + 0.5 * step
    return low, high


@dataclass(frozen=True)
class Float(Distribution):
    """A float in ``[low, high]``, optionally on a log scale or on a grid of ``step``.

    Examples
    --------
    >>> Float(1e-5, 1e-1, log=True).contains(1e-3)
    True
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    name: str | None = None

    type_tag: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        n = self.name
        plain = type(self.low) is float and type(self.high) is float  # the common case
        if not (plain and math.isfinite(self.low) and math.isfinite(self.high)):
            _check_finite(n, "Float", low=self.low, high=self.high)
        if self.low > self.high:
            raise _bad(n, "Float", f"low ({self.low}) must not be greater than high ({self.high})")
        if self.log and self.low <= 0:
            raise _bad(n, "Float", f"log scale needs low > 0, got low={self.low}")
        if self.step is not None:
            _check_finite(n, "Float", step=self.step)
            if self.step <= 0:
                raise _bad(n, "Float", f"step must be > 0, got {self.step}")
            if self.log:
                raise _bad(n, "Float", "step and log=True cannot be used together")
            # Snap high down onto the grid, as users of other libraries expect.
            k = math.floor((self.high - self.low) / self.step + 1e-9)
            # An on-grid high (e.g. one this code snapped) keeps its k despite the
            # rounding of the division above: rebuilding a distribution is idempotent.
            if self.low + (k + 1) * self.step <= self.high:
                k += 1
            object.__setattr__(self, "high", float(self.low + k * self.step))
        if not plain:
            object.__setattr__(self, "low", float(self.low))
            object.__setattr__(self, "high", float(self.high))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Float) and (self.low, self.high, self.log, self.step) == (
            other.low,
            other.high,
            other.log,
            other.step,
        )

    def __hash__(self) -> int:
        return hash(("float", self.low, self.high, self.log, self.step))

    def _snap(self, x: float) -> float:
        x = min(max(x, self.low), self.high)
        if self.step is not None:
            k = round((x - self.low) / self.step)
            x = min(self.low + k * self.step, self.high)
        return float(x)

    def to_internal(self, value: Any) -> float:
        return float(value)

    def to_external(self, internal: float) -> float:
        return float(internal)

    def to_unit(self, value: Any) -> float:
        lo, hi = _numeric_unit_bounds(self.low, self.high, self.log, self.step)
        if hi == lo:
            return 0.5
        x = math.log(value) if self.log else float(value)
        return min(max((x - lo) / (hi - lo), 0.0), 1.0)

    def from_unit(self, u: float) -> float:
        if self.step is None and u <= 0.0:  # exact ends: exp(log(low)) may miss low
            return self.low
        if self.step is None and u >= 1.0:
            return self.high
        lo, hi = _numeric_unit_bounds(self.low, self.high, self.log, self.step)
        x = lo + u * (hi - lo)
        return self._snap(math.exp(x) if self.log else x)

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not (self.low <= value <= self.high):
            return False
        if self.step is not None:
            k = round((value - self.low) / self.step)
            nearest = self.low + k * self.step
            # Grid arithmetic rounds relative to both the step count and the magnitudes.
            tol = 1e-8 * self.step * max(1, abs(k)) + 1e-12 * max(abs(value), abs(self.low))
            return abs(value - nearest) <= tol
        return True

    def single(self) -> bool:
        if self.step is not None:
            return self.high - self.low < self.step
        return self.low == self.high

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "float",
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }

    def with_name(self, name: str) -> Float:
        return Float(self.low, self.high, log=self.log, step=self.step, name=name)


@dataclass(frozen=True)
class Int(Distribution):
    """An integer in ``[low, high]``, optionally on a log scale or with a ``step``.

    Examples
    --------
    >>> Int(1, 9, step=2).contains(5)
    True
    """

    low: int
    high: int
    log: bool = False
    step: int = 1
    name: str | None = None

    type_tag: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        n = self.name
        plain = type(self.low) is int and type(self.high) is int and type(self.step) is int
        for key in () if plain else ("low", "high", "step"):
            value = getattr(self, key)
            if isinstance(value, float) and value.is_integer():
                object.__setattr__(self, key, int(value))
            elif isinstance(value, bool) or not isinstance(value, int):
                raise _bad(n, "Int", f"{key} must be an integer, got {value!r}")
        if self.low > self.high:
            raise _bad(n, "Int", f"low ({self.low}) must not be greater than high ({self.high})")
        if self.step <= 0:
            raise _bad(n, "Int", f"step must be > 0, got {self.step}")
        if self.log:
            if self.low < 1:
                raise _bad(n, "Int", f"log scale needs low >= 1, got low={self.low}")
            if self.step != 1:
                raise _bad(n, "Int", "step other than 1 and log=True cannot be used together")
        if self.step != 1:
            k = (self.high - self.low) // self.step
            object.__setattr__(self, "high", self.low + k * self.step)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Int) and (self.low, self.high, self.log, self.step) == (
            other.low,
            other.high,
            other.log,
            other.step,
        )

    def __hash__(self) -> int:
        return hash(("int", self.low, self.high, self.log, self.step))

    def _snap(self, x: float) -> int:
        k = round((x - self.low) / self.step)
        v = self.low + int(k) * self.step
        return int(min(max(v, self.low), self.high))

    def to_internal(self, value: Any) -> float:
        return float(value)

    def to_external(self, internal: float) -> int:
        return round(internal)

    def to_unit(self, value: Any) -> float:
        lo, hi = _numeric_unit_bounds(self.low, self.high, self.log, self.step)
        x = math.log(value) if self.log else float(value)
        return min(max((x - lo) / (hi - lo), 0.0), 1.0)

    def from_unit(self, u: float) -> int:
        lo, hi = _numeric_unit_bounds(self.low, self.high, self.log, self.step)
        x = lo + min(max(u, 0.0), 1.0) * (hi - lo)
        if self.log:
            x = math.exp(x)
        return self._snap(x)

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, float):
            if not value.is_integer():
                return False
            value = int(value)
        if not isinstance(value, int):
            try:  # numpy integers
                import numbers

                if not isinstance(value, numbers.Integral):
                    return False
                value = int(value)
            except Exception:  # pragma: no cover
                return False
        return bool(self.low <= value <= self.high and (value - self.low) % self.step == 0)

    def single(self) -> bool:
        return self.low == self.high

    @property
    def n_values(self) -> int:
        """Number of distinct values."""
        return (self.high - self.low) // self.step + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "int",
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "step": self.step,
        }

    def with_name(self, name: str) -> Int:
        return Int(self.low, self.high, log=self.log, step=self.step, name=name)


@dataclass(frozen=True)
class Categorical(Distribution):
    """One of a finite list of choices (``None``, bool, int, float or str).

    Examples
    --------
    >>> Categorical(["relu", "tanh"]).to_internal("tanh")
    1.0
    """

    choices: tuple[CategoricalChoice, ...]
    name: str | None = None

    type_tag: ClassVar[str] = "categorical"
    _keys: tuple[tuple[str, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.name
        if type(self.choices) not in (tuple, list) and (
            isinstance(self.choices, (str, bytes)) or not isinstance(self.choices, Sequence)
        ):
            raise _bad(n, "Categorical", f"choices must be a list or tuple, got {self.choices!r}")
        choices = tuple(self.choices)
        if not choices:
            raise _bad(n, "Categorical", "choices must not be empty")
        for c in choices:
            if not isinstance(c, _CHOICE_TYPES):
                kind = "unhashable" if not isinstance(c, Hashable) else "unsupported"
                raise _bad(
                    n,
                    "Categorical",
                    f"choice {c!r} is {kind}; choices must be None, bool, int, float or str",
                )
            if isinstance(c, float) and math.isnan(c):
                raise _bad(n, "Categorical", "NaN is not a valid choice")
        keys = _choice_keys(choices)
        if len(set(keys)) != len(keys):
            raise _bad(n, "Categorical", f"choices must be distinct, got {list(choices)!r}")
        object.__setattr__(self, "choices", choices)
        # Type-aware identity of the choices (1, 1.0 and True differ), computed once:
        # equality checks run on every suggest.
        object.__setattr__(self, "_keys", keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Categorical) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(("categorical", self._keys))

    def index(self, value: Any) -> int:
        """Index of ``value`` among the choices (type-aware: ``1`` is not ``True``)."""
        for i, c in enumerate(self.choices):
            if type(c) is type(value) and c == value:
                return i
        for i, c in enumerate(self.choices):  # numpy scalars and int/float mixes
            if not isinstance(c, bool) and not isinstance(value, bool) and c == value:
                return i
        raise ValueError(f"{value!r} is not one of the choices {list(self.choices)!r}")

    def to_internal(self, value: Any) -> float:
        return float(self.index(value))

    def to_external(self, internal: float) -> CategoricalChoice:
        return self.choices[round(internal)]

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> CategoricalChoice:
        i = min(int(min(max(u, 0.0), 1.0) * len(self.choices)), len(self.choices) - 1)
        return self.choices[i]

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
        except (ValueError, TypeError):
            return False
        return True

    def single(self) -> bool:
        return len(self.choices) == 1

    def to_json(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}

    def with_name(self, name: str) -> Categorical:
        return Categorical(self.choices, name=name)


def _choice_keys(choices: Sequence[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((type(c).__name__, c) for c in choices)


def distribution_from_json(data: Mapping[str, Any], name: str | None = None) -> Distribution:
    """Rebuild a distribution from :meth:`Distribution.to_json` output.

    Raises
    ------
    ValueError
        If the ``type`` tag is unknown or a field is invalid.
    """
    if not isinstance(data, Mapping) or "type" not in data:
        raise _bad(name, "serialized", f"expected a mapping with a 'type' key, got {data!r}")
    kind = data["type"]
    fields = {k: v for k, v in data.items() if k != "type"}
    try:
        if kind == "float":
            return Float(name=name, **fields)
        if kind == "int":
            return Int(name=name, **fields)
        if kind == "categorical":
            return Categorical(tuple(fields["choices"]), name=name)
    except TypeError as e:
        raise _bad(name, str(kind), f"invalid fields {sorted(fields)}: {e}") from None
    except KeyError as e:
        raise _bad(name, str(kind), f"missing field {e}") from None
    raise _bad(name, "serialized", f"unknown distribution type {kind!r}")


def check_compatible(name: str, old: Distribution, new: Distribution) -> None:
    """Raise ``ValueError`` if ``new`` cannot be used for ``name`` after ``old``.

    Across trials of one study a parameter may change its range but not its kind, and a
    categorical parameter must keep its choices.
    """
    if type(old) is not type(new):
        raise ValueError(
            f"parameter {name!r} was defined as {_describe(old)} and is now suggested as "
            f"{_describe(new)}; a parameter keeps one kind within a study"
        )
    if isinstance(old, Categorical) and old != new:
        raise ValueError(
            f"parameter {name!r} was defined as {_describe(old)} and is now suggested as "
            f"{_describe(new)}; categorical choices cannot change within a study"
        )


def _describe(d: Distribution) -> str:
    return f"{type(d).__name__}({d.to_json()})"
