"""Property tests for distributions: round trips, unit cube, JSON, validation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hpopt
from hpopt.space import Categorical, Distribution, Float, Int, distribution_from_json
from hpopt.testing.strategies import any_distribution, categoricals, floats, ints

#: Each property runs on this many random distributions (no deadline: shared CI machines).
examples = settings(max_examples=100, deadline=None)

units = st.floats(0.0, 1.0)


def _identical(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (isinstance(a, float) and math.isnan(a)))


@examples
@given(any_distribution, units)
def test_from_unit_is_always_contained(dist: Distribution, u: float) -> None:
    assert dist.contains(dist.from_unit(u))


@examples
@given(any_distribution, units)
def test_external_internal_round_trip(dist: Distribution, u: float) -> None:
    value = dist.from_unit(u)
    internal = dist.to_internal(value)
    assert isinstance(internal, float)
    assert _identical(dist.to_external(internal), value)


@examples
@given(any_distribution, units)
def test_to_unit_stays_in_the_unit_interval(dist: Distribution, u: float) -> None:
    assert 0.0 <= dist.to_unit(dist.from_unit(u)) <= 1.0


@examples
@given(st.one_of(ints(), categoricals()), units)
def test_value_unit_value_round_trip_on_discrete_values(dist: Distribution, u: float) -> None:
    value = dist.from_unit(u)
    assert _identical(dist.from_unit(dist.to_unit(value)), value)


@examples
@given(floats(), units)
def test_value_unit_value_round_trip_on_floats(dist: Float, u: float) -> None:
    value = dist.from_unit(u)
    again = dist.from_unit(dist.to_unit(value))
    if dist.step is not None:  # grid values come back exactly
        assert again == value
    else:
        assert again == pytest.approx(value, rel=1e-9, abs=1e-9 * max(1.0, abs(dist.high)))


@examples
@given(any_distribution)
def test_json_round_trip(dist: Distribution) -> None:
    text = json.dumps(dist.to_json())
    again = distribution_from_json(json.loads(text))
    assert again == dist
    assert type(again) is type(dist)
    assert again.to_json() == dist.to_json()


@examples
@given(floats())
def test_unit_ends_are_the_bounds(dist: Float) -> None:
    assert dist.from_unit(0.0) == dist.low
    assert dist.from_unit(1.0) == dist.high


@examples
@given(st.floats(-1e6, 1e6), st.floats(1e-6, 1e6))
def test_low_above_high_names_the_parameter(high: float, gap: float) -> None:
    study = hpopt.create_study()
    trial = study.ask()
    with pytest.raises(ValueError, match=r"parameter 'lr'.*low .* greater than high"):
        trial.suggest_float("lr", high + gap, high)


def _suggest(trial: hpopt.Trial, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if kind == "float":
        return trial.suggest_float("p", *args, **kwargs)
    if kind == "int":
        return trial.suggest_int("p", *args, **kwargs)
    return trial.suggest_categorical("p", *args)


@pytest.mark.parametrize(
    ("kind", "args", "kwargs", "problem"),
    [
        ("float", (1.0, 0.0), {}, "greater than high"),
        ("float", (0.0, 1.0), {"log": True}, "log scale needs low > 0"),
        ("float", (-1.0, 1.0), {"log": True}, "log scale needs low > 0"),
        ("float", (0.0, 1.0), {"step": 0.0}, "step must be > 0"),
        ("float", (0.0, 1.0), {"step": -0.5}, "step must be > 0"),
        ("float", (0.1, 1.0), {"step": 0.1, "log": True}, "step and log"),
        ("float", (math.nan, 1.0), {}, "low must be finite"),
        ("float", (0.0, math.inf), {}, "high must be finite"),
        ("float", (-math.inf, 0.0), {}, "low must be finite"),
        ("float", (0.0, 1.0), {"step": math.nan}, "step must be finite"),
        ("float", ("a", 1.0), {}, "low must be a number"),
        ("int", (5, 1), {}, "greater than high"),
        ("int", (0, 10), {"log": True}, "log scale needs low >= 1"),
        ("int", (0, 10), {"step": 0}, "step must be > 0"),
        ("int", (1, 10), {"step": 2, "log": True}, "log=True cannot be used together"),
        ("int", (0.5, 10), {}, "low must be an integer"),
        ("categorical", ([],), {}, "must not be empty"),
        ("categorical", ([[1, 2], [3]],), {}, "unhashable"),
        ("categorical", ([{"a": 1}],), {}, "unhashable"),
        ("categorical", ([(1, 2)],), {}, "unsupported"),
        ("categorical", ([1.0, math.nan],), {}, "NaN"),
        ("categorical", (["a", "a"],), {}, "distinct"),
        ("categorical", ("abc",), {}, "list or tuple"),
    ],
)
def test_invalid_definitions_raise_naming_the_parameter(
    kind: str, args: tuple[Any, ...], kwargs: dict[str, Any], problem: str
) -> None:
    trial = hpopt.create_study().ask()
    with pytest.raises(ValueError) as info:
        _suggest(trial, kind, args, kwargs)
    assert "'p'" in str(info.value)
    assert problem in str(info.value)


def test_unnamed_distribution_errors_name_the_kind() -> None:
    with pytest.raises(ValueError, match="Float distribution: low"):
        Float(2.0, 1.0)
    with pytest.raises(ValueError, match="Int distribution"):
        Int(0, 1, step=-1)


def test_step_snaps_high_onto_the_grid() -> None:
    assert Float(0.0, 1.0, step=0.3).high == pytest.approx(0.9)
    assert Int(1, 10, step=4).high == 9
    assert Int(1, 10, step=4).n_values == 3


@pytest.mark.parametrize(
    "data",
    [{"type": "nope"}, {"low": 1}, [1, 2], {"type": "float", "low": 0}, {"type": "int", "x": 1}],
)
def test_bad_json_raises_value_error(data: Any) -> None:
    with pytest.raises(ValueError):
        distribution_from_json(data, name="w")


def test_categorical_keeps_types_apart() -> None:
    dist = Categorical((None, True, 1, 1.5, "1"))
    assert dist.index(True) == 1 and dist.index(1) == 2 and dist.index("1") == 4
    assert not dist.contains(2) and not dist.contains("True")
    assert dist != Categorical((None, 1, True, 1.5, "1"))
