"""Pickling the objective for other processes, with an error that names the culprit."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any

import cloudpickle

__all__ = ["UnpicklableObjectiveError", "dump_objective"]

_MAX_DEPTH = 3


class UnpicklableObjectiveError(TypeError):
    """The objective cannot be sent to worker processes because it cannot be pickled."""


def dump_objective(objective: Callable[..., Any]) -> bytes:
    """Pickle ``objective`` with cloudpickle (closures and lambdas work).

    Raises
    ------
    UnpicklableObjectiveError
        Naming each captured value that could not be pickled, and how to fix it.
    """
    try:
        return cloudpickle.dumps(objective)  # type: ignore[no-any-return]
    except Exception as e:
        error = e
    culprits = list(_culprits("the objective", objective, 0))
    lines = [
        f"  - {where} ({type(value).__name__}): {problem}" for where, value, problem in culprits
    ]
    if not lines:
        lines = [f"  - the objective ({type(objective).__name__}): {_describe(error)}"]
    raise UnpicklableObjectiveError(
        "the objective cannot be sent to worker processes because it cannot be pickled:\n"
        + "\n".join(lines)
        + "\nFix: create such objects inside the objective (or load them there), define the "
        "objective as a module-level function of an importable module, or run trials in "
        "threads of this process with executor='thread'."
    ) from error


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _problem(value: Any) -> str | None:
    try:
        cloudpickle.dumps(value)
    except Exception as e:
        return _describe(e)
    return None


def _culprits(where: str, value: Any, depth: int) -> Iterator[tuple[str, Any, str]]:
    """The deepest parts of ``value`` that cannot be pickled, with a readable location."""
    problem = _problem(value)
    if problem is None:
        return
    found = False
    if depth < _MAX_DEPTH:
        for child_where, child in _parts(where, value):
            for culprit in _culprits(child_where, child, depth + 1):
                found = True
                yield culprit
    if not found:
        yield where, value, problem


def _parts(where: str, value: Any) -> Iterator[tuple[str, Any]]:
    """What pickling ``value`` also pickles, named for a user."""
    if isinstance(value, types.FunctionType):
        closure = inspect.getclosurevars(value)
        for name, v in closure.nonlocals.items():
            yield f"variable {name!r} captured by {value.__qualname__}", v
        if value.__module__ == "__main__" or value.__module__ is None:
            for name, v in closure.globals.items():
                yield f"global {name!r} used by {value.__qualname__}", v
        for i, v in enumerate(value.__defaults__ or ()):
            yield f"default argument {i} of {value.__qualname__}", v
        for name, v in (value.__kwdefaults__ or {}).items():
            yield f"default of {name!r} in {value.__qualname__}", v
    elif isinstance(value, types.MethodType):
        yield f"{where}.__self__", value.__self__
        yield f"{where}.__func__", value.__func__
    elif isinstance(value, functools.partial):
        yield f"{where}.func", value.func
        for i, v in enumerate(value.args):
            yield f"{where} argument {i}", v
        for name, v in value.keywords.items():
            yield f"{where} argument {name!r}", v
    elif isinstance(value, dict):
        for k, v in value.items():
            yield f"{where}[{k!r}]", v
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            yield f"{where}[{i}]", v
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for name, v in vars(value).items():
            yield f"{where}.{name}", v
