"""The dict / YAML parser of declarative spaces: robustness, round trips, conditions."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hpopt import Categorical, Condition, Float, Int, SearchSpace
from hpopt.testing.strategies import search_spaces

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["1e-5", "1e3", "0.5", "-2", "inf", "nan", "true"]),
)

spec_dicts = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["float", "int", "categorical", "uniform", "loguniform", "choice", "?"]
        )
    },
    optional={
        "low": scalars,
        "high": scalars,
        "step": scalars,
        "log": scalars,
        "choices": st.one_of(scalars, st.lists(scalars, max_size=4)),
        "when": st.one_of(scalars, st.dictionaries(st.text(max_size=3), scalars, max_size=2)),
        "extra": scalars,
    },
)

nested = st.recursive(
    st.one_of(scalars, spec_dicts),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(0, 3)), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(st.one_of(nested, st.dictionaries(st.text(max_size=4), nested, max_size=5)))
def test_arbitrary_input_raises_only_value_or_type_errors(data: Any) -> None:
    try:
        space = SearchSpace.from_dict(data)
    except (ValueError, TypeError):
        return
    assert isinstance(space, SearchSpace)
    SearchSpace.from_dict(space.to_dict())  # whatever parses also serializes


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_yaml_text_raises_only_value_or_type_errors(text: str) -> None:
    with contextlib.suppress(ValueError, TypeError):
        SearchSpace.from_yaml(text + "\n")


@settings(max_examples=40, deadline=None)
@given(search_spaces())
def test_valid_spaces_round_trip_through_dict_and_yaml(space: SearchSpace) -> None:
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert SearchSpace.from_yaml(yaml.safe_dump(space.to_dict())) == space


def test_yaml_with_exponent_strings_branches_and_when(tmp_path: Path) -> None:
    text = """
lr: {type: float, low: 1e-5, high: 1e-1, log: true}
epochs: {type: int, low: 1, high: 1e2}
activation: [relu, tanh]
optimizer:
  sgd:
    momentum: {type: float, low: 0.0, high: 0.99}
    nesterov: [true, false]
  adam:
    beta1: {type: float, low: 0.8, high: 0.999}
  lbfgs:
dropout: {type: float, low: 0, high: 0.5, step: 0.1, when: {activation: relu}}
width: {type: int, low: 16, high: 256, log: true, when: {optimizer: [sgd, adam]}}
seed: 42
"""
    path = tmp_path / "space.yaml"
    path.write_text(text)
    for space in (SearchSpace.from_yaml(text), SearchSpace.from_yaml(path)):
        assert space["lr"] == Float(1e-5, 1e-1, log=True)
        assert space["epochs"] == Int(1, 100)
        assert space["optimizer"] == Categorical(("sgd", "adam", "lbfgs"))
        assert space["nesterov"] == Categorical((True, False))
        assert space.conditions["momentum"] == Condition("optimizer", "sgd")
        assert space.conditions["beta1"] == Condition("optimizer", "adam")
        assert space.conditions["dropout"] == Condition("activation", "relu")
        assert space.conditions["width"] == Condition("optimizer", ["sgd", "adam"])
        assert space["dropout"] == Float(0.0, 0.5, step=0.1)
        assert space["seed"] == Categorical((42,))
        assert space.is_active("width", {"optimizer": "adam"})
        assert not space.is_active("width", {"optimizer": "lbfgs"})
        assert SearchSpace.from_yaml(yaml.safe_dump(space.to_dict())) == space


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr: {type: float, low: 1, high: 0}", "'lr'"),
        ("lr: {type: float, low: abc, high: 1}", "'lr': low must be a number"),
        ("lr: {type: float, low: 0, high: 1, log: yes please}", "'lr': log must be"),
        ("x: {type: int, low: 0, high: 3, when: {y: 1}}", "depends on 'y'"),
        ("a: [1, 2]\nx: {type: int, low: 0, high: 3, when: {a: 5}}", "can never take"),
        ("x: {}", "'x'"),
        ("x: {a: {p: [1]}, b: 3}", "branch 'b'"),
        ("x: [1, 2\n", "invalid YAML"),
    ],
)
def test_yaml_errors_name_the_parameter(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SearchSpace.from_yaml(text + "\n")


def test_not_a_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SearchSpace.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SearchSpace.from_yaml("- a\n- b\n")


def test_condition_cycles_are_rejected() -> None:
    with pytest.raises(ValueError, match="cycle"):
        SearchSpace(
            {"a": Categorical([1, 2]), "b": Categorical([1, 2])},
            {"a": Condition("b", 1), "b": Condition("a", 1)},
        )
