"""hpopt's own samplers, driven through ``Study.ask`` / ``Study.tell``.

Adding a sampler is one entry in :data:`HPOPT_SAMPLERS` (name -> dotted path of a class
taking ``seed=``), plus its constructor options in :data:`HPOPT_OPTIONS` if any. A class
that does not exist yet (e.g. on a branch without it) makes the peer unavailable with a
note instead of failing. ``hpopt:<module.Class>`` names any other sampler class without a
registry entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from benchmarks.peers.base import Peer, PeerUnavailable, Space, Suggestion

__all__ = ["HPOPT_SAMPLERS", "hpopt_peer"]

HPOPT_SAMPLERS: dict[str, str] = {
    "hpopt-random": "hpopt.RandomSampler",
    "hpopt-tpe": "hpopt.TPESampler",
    "hpopt-gp": "hpopt.GPSampler",
    "hpopt-auto": "hpopt.samplers.AutoSampler",
    "hpopt-gp-det": "hpopt.GPSampler",
    "hpopt-auto-det": "hpopt.samplers.AutoSampler",
}

#: Constructor options besides ``seed``. ``-det``: told that the objective is deterministic
#: (every benchmark problem is), as the ``optuna-gp`` peer is.
HPOPT_OPTIONS: dict[str, dict[str, Any]] = {
    "hpopt-gp-det": {"deterministic_objective": True},
    "hpopt-auto-det": {"deterministic_objective": True},
}


def resolve_sampler_class(path: str) -> Any:
    """Import ``module.Class``; :class:`PeerUnavailable` if either is missing."""
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise PeerUnavailable(f"cannot import {module_name} ({e})") from e
    cls = getattr(module, attr, None)
    if cls is None:
        raise PeerUnavailable(f"{path} does not exist in this checkout")
    return cls


class _HpoptSession:
    def __init__(self, sampler_path: str, options: dict[str, Any], space: Space, seed: int) -> None:
        import hpopt

        cls = resolve_sampler_class(sampler_path)
        self._space = hpopt.SearchSpace(dict(space))
        self._study = hpopt.create_study(sampler=cls(seed=seed, **options))

    def ask(self, n: int) -> list[Suggestion]:
        trials = [self._study.ask(self._space) for _ in range(n)]
        return [(t, dict(t.config or {})) for t in trials]

    def tell(self, results: Sequence[tuple[Any, float]]) -> None:
        for trial, value in results:
            self._study.tell(trial, value)


class _HpoptPeer(Peer):
    """A peer whose availability is whether its sampler class resolves."""

    def unavailable(self) -> str | None:
        try:
            resolve_sampler_class(_path_of(self.name))
        except PeerUnavailable as e:
            return str(e)
        return None


def _path_of(name: str) -> str:
    return name.split(":", 1)[1] if name.startswith("hpopt:") else HPOPT_SAMPLERS[name]


def hpopt_peer(name: str) -> Peer:
    """The peer for a registry name or ``hpopt:<module.Class>``."""
    path = _path_of(name)
    options = HPOPT_OPTIONS.get(name, {})
    args = "".join(f", {k}={v!r}" for k, v in options.items())
    return _HpoptPeer(
        name,
        lambda space, seed, budget: _HpoptSession(path, options, space, seed),
        asynchronous=True,
        note=f"{path}(seed=...{args}) via Study.ask/tell; batch = n RUNNING trials",
        package="hpopt",
    )
