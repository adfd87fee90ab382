"""Hypothesis strategies for distributions and declarative spaces (needs ``hypothesis``,
part of the ``test`` extra)."""

from __future__ import annotations

from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("hpopt.testing.strategies needs hypothesis: pip install 'hpopt[test]'") from e

from hpopt.space.distributions import Categorical, Distribution, Float, Int
from hpopt.space.search_space import Condition, SearchSpace

__all__ = ["any_distribution", "categoricals", "choices", "floats", "ints", "search_spaces"]

#: Values a categorical may hold: None, bool, int, float (not NaN) and str.
choices = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)


@st.composite
def floats(draw: st.DrawFn) -> Float:
    """Linear, log and stepped ``Float`` distributions (including single-valued ones)."""
    kind = draw(st.sampled_from(["linear", "log", "step"]))
    if kind == "log":
        low = draw(st.floats(1e-8, 1e6))
        return Float(low, draw(st.floats(low, min(low * 1e8, 1e12))), log=True)
    low = draw(st.floats(-1e6, 1e6))
    high = low + draw(st.floats(0.0, 1e6))
    if kind == "step":
        return Float(low, high, step=draw(st.floats(1e-3, 1e3)))
    return Float(low, high)


@st.composite
def ints(draw: st.DrawFn) -> Int:
    """Linear, stepped and log ``Int`` distributions (including single-valued ones)."""
    if draw(st.booleans()):
        low = draw(st.integers(1, 10**6))
        return Int(low, draw(st.integers(low, low + 10**6)), log=True)
    low = draw(st.integers(-(10**6), 10**6))
    return Int(low, draw(st.integers(low, low + 10**6)), step=draw(st.integers(1, 1000)))


@st.composite
def categoricals(draw: st.DrawFn) -> Categorical:
    """``Categorical`` distributions over 1-8 distinct mixed-type choices."""
    values = draw(st.lists(choices, min_size=1, max_size=8, unique_by=_choice_key))
    return Categorical(tuple(values))


def _choice_key(c: Any) -> tuple[type, Any]:
    return (type(c), c)


#: Any distribution.
any_distribution: st.SearchStrategy[Distribution] = st.one_of(floats(), ints(), categoricals())


@st.composite
def search_spaces(draw: st.DrawFn, max_params: int = 6) -> SearchSpace:
    """Valid spaces; some parameters depend on an earlier categorical's value(s)."""
    names = draw(
        st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=max_params, unique=True)
    )
    params = {name: draw(any_distribution) for name in names}
    conditions: dict[str, Condition] = {}
    for i, name in enumerate(names[1:], start=1):
        parent = names[draw(st.integers(0, i - 1))]
        dist = params[parent]
        if isinstance(dist, Categorical) and draw(st.booleans()):
            values = draw(st.lists(st.sampled_from(dist.choices), min_size=1, max_size=2))
            conditions[name] = Condition(parent, values)
    return SearchSpace(params, conditions)
