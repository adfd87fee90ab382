"""The peer registry: every optimizer the benchmarks can run, by name.

``get_peer(name)`` returns a :class:`Peer` with one method that matters,
``peer.run(problem, budget, seed, batch=None, workers=None) -> list of losses``.
hpopt samplers are listed in :data:`~benchmarks.peers.hpopt_peers.HPOPT_SAMPLERS` (one line
each); ``hpopt:<module.Class>`` runs any other hpopt sampler class.
"""

from __future__ import annotations

from benchmarks.peers.base import Peer, PeerUnavailable, RunTrace, Session, SessionFactory, Space
from benchmarks.peers.hpopt_peers import HPOPT_SAMPLERS, hpopt_peer
from benchmarks.peers.optuna_peers import OPTUNA_SAMPLERS, OptunaSession

__all__ = [
    "PEERS",
    "REFERENCE",
    "Peer",
    "PeerUnavailable",
    "RunTrace",
    "get_peer",
    "resolve_optimizers",
]

#: The optimizer scores are measured against (score 0 by construction).
REFERENCE = "random"


def _session(module: str, cls: str) -> SessionFactory:
    def start(space: Space, seed: int, budget: int) -> Session:
        import importlib

        session_cls = getattr(importlib.import_module(f"benchmarks.peers.{module}"), cls)
        session: Session = session_cls(space, seed, budget)
        return session

    return start


def _optuna(name: str) -> Peer:
    make, requires, note = OPTUNA_SAMPLERS[name]
    return Peer(
        name,
        lambda space, seed, budget: OptunaSession(make, space, seed),
        requires=("optuna", *requires),
        asynchronous=True,
        note=note,
        package="optuna",
    )


def _build() -> dict[str, Peer]:
    peers = [
        Peer(
            REFERENCE,
            _session("random_search", "RandomSearchSession"),
            asynchronous=True,
            note="uniform random search (numpy), the scoring reference",
            package="numpy",
        ),
        *(hpopt_peer(name) for name in HPOPT_SAMPLERS),
        *(_optuna(name) for name in OPTUNA_SAMPLERS),
        Peer(
            "hyperopt",
            _session("hyperopt_peer", "HyperoptSession"),
            requires=("hyperopt",),
            note="hyperopt.tpe.suggest defaults",
            package="hyperopt",
        ),
        Peer(
            "skopt-gp",
            _session("skopt_peer", "SkoptSession"),
            requires=("skopt",),
            note="gp_minimize defaults through skopt.Optimizer; batches by cl_min",
            package="scikit-optimize",
        ),
        Peer(
            "smac",
            _session("smac_peer", "SmacSession"),
            requires=("smac", "ConfigSpace"),
            note="SMAC3 HyperparameterOptimizationFacade (set PYTHONHASHSEED=0)",
            package="smac",
        ),
    ]
    return {p.name: p for p in peers}


PEERS: dict[str, Peer] = _build()

_GROUPS: dict[str, list[str]] = {
    "hpopt": list(HPOPT_SAMPLERS),
    "peers": [n for n in PEERS if not n.startswith("hpopt")],
    "all": list(PEERS),
}


def get_peer(name: str) -> Peer:
    """The peer called ``name`` (or ``hpopt:<module.Class>``)."""
    if name.startswith("hpopt:"):
        return hpopt_peer(name)
    try:
        return PEERS[name]
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r}; see `python -m benchmarks list`") from None


def resolve_optimizers(spec: str) -> list[str]:
    """Expand a comma-separated list of optimizer and group names (``hpopt``, ``peers``,
    ``all``), keeping order, no repeats; unknown names raise ``KeyError``."""
    names: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if item:
            for name in _GROUPS.get(item, [item]):
                get_peer(name)
                names.append(name)
    return list(dict.fromkeys(names))
