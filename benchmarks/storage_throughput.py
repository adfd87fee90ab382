"""Trials per second of a trivial objective on each storage, hpopt next to Optuna.

Every backend runs the same number of sequential trials of ``(x - 1) ** 2`` with a random
sampler, in this one process, one after another. Rows:

* ``hpopt memory``: ``Study.optimize`` over ``InMemoryStorage``.
* ``hpopt memory, bare ask/tell``: the in-memory baseline, a plain ``ask``/``tell`` loop over
  ``InMemoryStorage`` (the same loop without ``optimize``'s bookkeeping); the goal is that
  ``optimize`` on memory stays within 2x of it.
* ``hpopt SQLite`` / ``hpopt PostgreSQL``: ``SQLStorage`` on a fresh file / schema.
* Optuna ``InMemoryStorage``, ``RDBStorage`` (SQLite, PostgreSQL) and ``JournalStorage``
  (file), driven by ``optuna.Study.optimize``.

Usage::

    PYTHONPATH=src python benchmarks/storage_throughput.py --n-trials 1000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hpopt


def _hpopt_optimize(storage: Any, n: int) -> float:
    study = hpopt.create_study(storage=storage, sampler=hpopt.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(
        lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=n, show_progress_bar=False
    )
    elapsed = time.perf_counter() - start
    assert len(study.trials) == n
    study.storage.close()
    return n / elapsed


def _hpopt_ask_tell(n: int) -> float:
    study = hpopt.create_study(sampler=hpopt.RandomSampler(seed=0))
    start = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, (trial.suggest_float("x", -5, 5) - 1) ** 2)
    return n / (time.perf_counter() - start)


def _optuna(storage: Any, n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage,
        study_name=f"bench-{uuid.uuid4().hex[:8]}",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    start = time.perf_counter()
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=n)
    elapsed = time.perf_counter() - start
    assert len(study.trials) == n
    return n / elapsed


def _postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A URL that puts every table in a new schema, and a function that drops it."""
    import sqlalchemy as sa

    from hpopt.storage.sql.engine import normalize_url

    schema = f"hpopt_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def run(n: int, postgres: str | None, skip_optuna_rdb: bool) -> list[tuple[str, float]]:
    import optuna

    folder = Path(tempfile.mkdtemp(prefix="hpopt-bench-"))
    rows: list[tuple[str, float]] = []

    def add(name: str, fn: Callable[[], float]) -> None:
        rate = fn()
        rows.append((name, rate))
        print(f"{name:<40} {rate:10.1f} trials/s", flush=True)

    _hpopt_optimize(None, 20)  # warm-up: imports and first-call costs stay out of the rows
    _hpopt_ask_tell(20)
    add("hpopt memory (optimize)", lambda: _hpopt_optimize(None, n))
    add("hpopt memory, bare ask/tell (baseline)", lambda: _hpopt_ask_tell(n))
    add("hpopt SQLite", lambda: _hpopt_optimize(f"sqlite:///{folder / 'hpopt.db'}", n))
    drops = []
    if postgres:
        url, drop = _postgres_schema(postgres)
        drops.append(drop)
        add("hpopt PostgreSQL", lambda: _hpopt_optimize(url, n))
    add("Optuna InMemoryStorage", lambda: _optuna(None, n))
    journal = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(folder / "optuna.log"))
    )
    add("Optuna JournalStorage (file)", lambda: _optuna(journal, n))
    if not skip_optuna_rdb:
        add("Optuna RDBStorage SQLite", lambda: _optuna(f"sqlite:///{folder / 'optuna.db'}", n))
        if postgres:
            url, drop = _postgres_schema(postgres)
            drops.append(drop)
            add("Optuna RDBStorage PostgreSQL", lambda: _optuna(url, n))
    for drop in drops:
        drop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("HPOPT_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-optuna-rdb", action="store_true")
    args = parser.parse_args()
    rows = dict(run(args.n_trials, args.postgres, args.skip_optuna_rdb))
    print(f"\n| storage | trials/s ({args.n_trials} trials) |\n|---|---:|")
    for name, rate in rows.items():
        print(f"| {name} | {rate:.1f} |")
    ratios = [
        ("hpopt SQLite / Optuna RDBStorage SQLite", "hpopt SQLite", "Optuna RDBStorage SQLite"),
        (
            "hpopt PostgreSQL / Optuna RDBStorage PostgreSQL",
            "hpopt PostgreSQL",
            "Optuna RDBStorage PostgreSQL",
        ),
        (
            "bare ask/tell baseline / hpopt memory",
            "hpopt memory, bare ask/tell (baseline)",
            "hpopt memory (optimize)",
        ),
    ]
    for label, a, b in ratios:
        if a in rows and b in rows:
            print(f"{label}: {rows[a] / rows[b]:.1f}x")


if __name__ == "__main__":
    main()
