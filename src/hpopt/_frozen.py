"""A small read-only, picklable mapping used inside immutable records."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["FrozenMap", "freeze"]


class FrozenMap(Mapping[K, V]):
    """Read-only mapping. Unlike ``types.MappingProxyType`` it pickles and compares by value."""

    __slots__ = ("_d",)
    _d: dict[K, V]

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        object.__setattr__(self, "_d", dict(data) if data else {})

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    # The read methods delegate to the dict (read-only views), instead of the Mapping
    # mixins' Python-level loops: records are read on every trial.
    def get(self, key: K, default: Any = None) -> Any:
        return self._d.get(key, default)

    def keys(self) -> KeysView[K]:
        return self._d.keys()

    def values(self) -> ValuesView[V]:
        return self._d.values()

    def items(self) -> ItemsView[K, V]:
        return self._d.items()

    def __repr__(self) -> str:
        return repr(self._d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return bool(self._d == other._d)
        if isinstance(other, Mapping):
            return bool(self._d == dict(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._d.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._d,))

    def to_dict(self) -> dict[K, V]:
        """A mutable copy."""
        return dict(self._d)


def freeze(data: Mapping[K, V] | None) -> FrozenMap[K, V]:
    """Return ``data`` as a :class:`FrozenMap` (no copy if it already is one)."""
    if isinstance(data, FrozenMap):
        return data
    return FrozenMap(data)
