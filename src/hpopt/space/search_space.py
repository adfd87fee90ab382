"""Declarative search spaces: a dict (or YAML) of distributions, with conditional branches.

A declarative space is replayed through the same ``trial.suggest`` calls as a define-by-run
objective, so both forms produce identical records and every sampler handles both.

Two ways to write a condition:

* Nested branches. A key whose value is a mapping of *choice -> sub-space* becomes a
  categorical over the choices, and the parameters of a branch exist only when it is chosen::

      {"optimizer": {"sgd": {"momentum": Float(0.0, 0.99)}, "adam": {"beta1": Float(0.8, 0.999)}}}

* Explicit conditions, ``Condition(parent, values)``: the parameter exists only when ``parent``
  took one of ``values``. In YAML write ``when: {optimizer: sgd}`` inside the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpopt.space.distributions import (
    Categorical,
    Distribution,
    Float,
    Int,
    distribution_from_json,
)

if TYPE_CHECKING:
    from hpopt.trial.trial import Trial

__all__ = ["Condition", "SearchSpace"]


@dataclass(frozen=True)
class Condition:
    """The parameter is active only when ``parent`` took one of ``values``."""

    parent: str
    values: tuple[Any, ...]

    def __init__(self, parent: str, values: Any) -> None:
        if isinstance(values, (list, tuple, set, frozenset)):
            vals = tuple(values)
        else:
            vals = (values,)
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "values", vals)

    def holds(self, config: Mapping[str, Any]) -> bool:
        return self.parent in config and any(
            type(v) is type(config[self.parent]) and v == config[self.parent] for v in self.values
        )


class SearchSpace(Mapping[str, Distribution]):
    """An ordered mapping of parameter names to distributions, with optional conditions.

    Parameters
    ----------
    params
        Parameter name to distribution, in the order they are sampled.
    conditions
        Parameter name to the :class:`Condition` under which it exists.

    Examples
    --------
    >>> from hpopt import Float, Categorical
    >>> space = SearchSpace.from_dict({
    ...     "lr": Float(1e-4, 1e-1, log=True),
    ...     "opt": {"sgd": {"momentum": Float(0, 0.9)}, "adam": {}},
    ... })
    >>> list(space), space.conditions["momentum"].values
    (['lr', 'opt', 'momentum'], ('sgd',))
    """

    def __init__(
        self,
        params: Mapping[str, Distribution],
        conditions: Mapping[str, Condition] | None = None,
    ) -> None:
        self._params: dict[str, Distribution] = {}
        for name, dist in params.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(dist, Distribution):
                raise TypeError(
                    f"parameter {name!r}: expected a distribution (hpopt.Float, Int, "
                    f"Categorical), got {type(dist).__name__}"
                )
            self._params[name] = dist if dist.name == name else dist.with_name(name)
        self.conditions: dict[str, Condition] = dict(conditions or {})
        for name, cond in self.conditions.items():
            if name not in self._params:
                raise ValueError(f"condition given for unknown parameter {name!r}")
            if cond.parent not in self._params:
                raise ValueError(
                    f"parameter {name!r} depends on {cond.parent!r}, which is not in the space"
                )
            parent = self._params[cond.parent]
            for v in cond.values:
                if not parent.contains(v):
                    raise ValueError(
                        f"parameter {name!r} depends on {cond.parent!r} == {v!r}, which "
                        f"{cond.parent!r} can never take"
                    )
        self._order = self._topological_order()

    def _topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ValueError(f"conditions form a cycle: {' -> '.join((*path, name))}")
            state[name] = 1
            cond = self.conditions.get(name)
            if cond is not None:
                visit(cond.parent, (*path, name))
            state[name] = 2
            order.append(name)

        for name in self._params:
            visit(name, ())
        return order

    def __getitem__(self, key: str) -> Distribution:
        return self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"SearchSpace({self._params!r}, conditions={self.conditions!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchSpace):
            return NotImplemented
        return self._params == other._params and self.conditions == other.conditions

    __hash__ = None  # type: ignore[assignment]

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether ``name`` exists given the values in ``config`` chosen so far."""
        cond = self.conditions.get(name)
        return cond is None or cond.holds(config)

    def sample(self, trial: Trial) -> dict[str, Any]:
        """Suggest every active parameter through ``trial`` and return the config dict."""
        config: dict[str, Any] = {}
        for name in self._order:
            if self.is_active(name, config):
                config[name] = trial.suggest(name, self._params[name])
        return config

    def grid_size(self) -> int | None:
        """Number of points of a full grid over the space, or ``None`` if a float is unstepped."""
        total = 1
        for dist in self._params.values():
            if isinstance(dist, Categorical):
                total *= len(dist.choices)
            elif isinstance(dist, Int):
                total *= dist.n_values
            elif isinstance(dist, Float):
                if dist.step is None:
                    if dist.single():
                        continue
                    return None
                total *= round((dist.high - dist.low) / dist.step) + 1
        return total

    def to_dict(self) -> dict[str, Any]:
        """Serialize to a JSON/YAML-friendly dict (explicit ``when`` conditions)."""
        out: dict[str, Any] = {}
        for name in self._order:
            spec = self._params[name].to_json()
            cond = self.conditions.get(name)
            if cond is not None:
                vals = list(cond.values)
                spec["when"] = {cond.parent: vals[0] if len(vals) == 1 else vals}
            out[name] = spec
        return out

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | SearchSpace) -> SearchSpace:
        """Build a space from a dict of distributions, specs, lists and nested branches.

        Accepted values for a key: a distribution object; a spec dict with a ``type`` key
        (``float``, ``int``, ``categorical``) and optional ``when``; a list (categorical
        choices); a scalar (a constant: a categorical with one choice); a mapping of
        choice -> sub-space (a conditional branch).

        Raises
        ------
        ValueError
            If any parameter is invalid; the message names it.
        TypeError
            If ``data`` is not a mapping.
        """
        if isinstance(data, SearchSpace):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"a search space must be a mapping, got {type(data).__name__}")
        params: dict[str, Distribution] = {}
        conditions: dict[str, Condition] = {}
        _parse_level(data, params, conditions, parent=None)
        return cls(params, conditions)

    @classmethod
    def from_yaml(cls, source: str | Path) -> SearchSpace:
        """Build a space from YAML text or a path to a YAML file (see :meth:`from_dict`)."""
        import yaml  # lazy: keep `import hpopt` light

        if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
        ):
            text = Path(source).read_text()
        else:
            text = str(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"invalid YAML search space: {e}") from None
        if data is None:
            data = {}
        return cls.from_dict(data)


def _is_spec(value: Any) -> bool:
    return isinstance(value, Mapping) and "type" in value


def _parse_level(
    data: Mapping[str, Any],
    params: dict[str, Distribution],
    conditions: dict[str, Condition],
    parent: Condition | None,
) -> None:
    for name, value in data.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"parameter names must be non-empty strings, got {name!r}")
        cond = parent
        if isinstance(value, Distribution):
            dist = value.with_name(name)
        elif _is_spec(value):
            spec = dict(value)
            when = spec.pop("when", None)
            dist = _dist_from_spec(name, spec)
            if when is not None:
                if parent is not None:
                    raise ValueError(
                        f"parameter {name!r}: 'when' cannot be used inside a nested branch"
                    )
                if not isinstance(when, Mapping) or len(when) != 1:
                    raise ValueError(
                        f"parameter {name!r}: 'when' must map exactly one parent to its value(s)"
                    )
                ((pname, pvals),) = when.items()
                cond = Condition(str(pname), pvals)
        elif isinstance(value, Mapping):
            if not value:
                raise ValueError(f"parameter {name!r}: a branch mapping needs at least one choice")
            choices = list(value.keys())
            dist = Categorical(tuple(choices), name=name)
            _add(name, dist, cond, params, conditions)
            for choice, sub in value.items():
                if sub is None:
                    continue
                if not isinstance(sub, Mapping) or _is_spec(sub):
                    raise ValueError(
                        f"parameter {name!r}: branch {choice!r} must map to a sub-space "
                        f"(a dict of parameters) or be empty"
                    )
                _parse_level(sub, params, conditions, Condition(name, choice))
            continue
        elif isinstance(value, (list, tuple)):
            dist = Categorical(tuple(value), name=name)
        elif value is None or isinstance(value, (bool, int, float, str)):
            dist = Categorical((value,), name=name)
        else:
            raise TypeError(
                f"parameter {name!r}: cannot build a distribution from {type(value).__name__}"
            )
        _add(name, dist, cond, params, conditions)


def _add(
    name: str,
    dist: Distribution,
    cond: Condition | None,
    params: dict[str, Distribution],
    conditions: dict[str, Condition],
) -> None:
    if name in params:
        old = params[name]
        old_cond = conditions.get(name)
        if old != dist:
            raise ValueError(
                f"parameter {name!r} is defined twice with different distributions "
                f"({old.to_json()} and {dist.to_json()})"
            )
        if old_cond is not None and cond is not None and old_cond.parent == cond.parent:
            conditions[name] = Condition(cond.parent, (*old_cond.values, *cond.values))
            return
        raise ValueError(f"parameter {name!r} is defined twice")
    params[name] = dist
    if cond is not None:
        conditions[name] = cond


def _number(name: str, key: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"parameter {name!r}: {key} must be a number, got {value!r}") from None
    return value


def _dist_from_spec(name: str, spec: Mapping[str, Any]) -> Distribution:
    spec = dict(spec)
    kind = str(spec.get("type", "")).lower()
    if kind in ("float", "uniform", "loguniform"):
        if kind == "loguniform":
            spec["log"] = True
        spec["type"] = "float"
    elif kind in ("int", "integer"):
        spec["type"] = "int"
    elif kind in ("categorical", "choice"):
        spec["type"] = "categorical"
        if "choices" in spec and not isinstance(spec["choices"], (list, tuple)):
            raise ValueError(f"parameter {name!r}: choices must be a list")
    for key in ("low", "high", "step"):
        if key in spec and spec[key] is not None:
            spec[key] = _number(name, key, spec[key])
    if spec.get("type") == "float":
        for key in ("low", "high"):
            if isinstance(spec.get(key), int) and not isinstance(spec.get(key), bool):
                spec[key] = float(spec[key])
            if isinstance(spec.get(key), float) and math.isnan(spec[key]):
                raise ValueError(f"parameter {name!r}: {key} must be finite, got nan")
    if "log" in spec and not isinstance(spec["log"], bool):
        raise ValueError(f"parameter {name!r}: log must be true or false, got {spec['log']!r}")
    return distribution_from_json(spec, name=name)


def as_search_space(
    space: Mapping[str, Any] | SearchSpace | Sequence[Any] | None,
) -> SearchSpace | None:
    """Coerce user input into a :class:`SearchSpace` (``None`` stays ``None``)."""
    if space is None:
        return None
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, Mapping):
        return SearchSpace.from_dict(space)
    raise TypeError(f"a search space must be a mapping or SearchSpace, got {type(space).__name__}")
