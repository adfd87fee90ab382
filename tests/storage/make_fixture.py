"""Build ``fixtures/schema_v<N>.db``: a small study written in schema revision N.

Run once per schema revision, when it is released, and commit the database; tests upgrade
every fixture to the current schema and check nothing was lost. The rows are written with
plain SQL in that revision's layout, so this script keeps producing the same database when
the code moves on. Usage::

    PYTHONPATH=src python tests/storage/make_fixture.py 1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlalchemy as sa

from hpopt.storage.sql import upgrade_storage

FIXTURES = Path(__file__).parent / "fixtures"

#: What every fixture holds; the upgrade test reads it back through SQLStorage.
STUDY_NAME = "fixture-study"
FLOAT = {"type": "float", "low": 1e-5, "high": 1e-1, "log": True, "step": None}
INT = {"type": "int", "low": 1, "high": 8, "log": False, "step": 1}
CAT = {"type": "categorical", "choices": ["relu", "tanh", None]}
TRIALS = [
    # number, state, values, params (name -> (internal, distribution)), intermediate values
    (
        0,
        "COMPLETE",
        [0.5],
        {"lr": (0.001, FLOAT), "layers": (3.0, INT), "act": (1.0, CAT)},
        {0: 0.9, 1: None},
    ),
    (1, "PRUNED", [0.8], {"lr": (0.01, FLOAT), "layers": (2.0, INT), "act": (2.0, CAT)}, {0: 0.8}),
    (2, "FAIL", None, {"lr": (0.05, FLOAT)}, {}),
    (3, "WAITING", None, {}, {}),
]


def build_v1(path: Path) -> None:
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade_storage(url, revision="0001")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run(
            "INSERT INTO hpopt_studies (study_id, study_name, directions, datetime_created, "
            "next_number, seq) VALUES (1, ?, ?, '2025-01-01 12:00:00.000000', 4, 4)",
            (STUDY_NAME, json.dumps(["minimize"])),
        )
        run(
            "INSERT INTO hpopt_study_attrs VALUES (1, 'user', 'dataset', ?)",
            (json.dumps("mnist"),),
        )
        for number, state, values, params, ivs in TRIALS:
            tid = number + 1
            finished = state in ("COMPLETE", "PRUNED", "FAIL")
            run(
                "INSERT INTO hpopt_trials (trial_id, study_id, number, state, values_json, "
                "datetime_start, datetime_complete, heartbeat, error, seq) "
                "VALUES (?, 1, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    tid,
                    number,
                    state,
                    None if values is None else json.dumps(values),
                    None if state == "WAITING" else f"2025-01-01 12:0{number}:00.000000",
                    f"2025-01-01 12:0{number}:30.000000" if finished else None,
                    "ValueError: boom" if state == "FAIL" else None,
                    number + 1,
                ),
            )
            for name, (internal, dist) in params.items():
                run(
                    "INSERT INTO hpopt_trial_params VALUES (?, ?, ?, ?)",
                    (tid, name, internal, json.dumps(dist)),
                )
            for step, value in ivs.items():
                run(
                    "INSERT INTO hpopt_trial_intermediate_values VALUES (?, ?, ?)",
                    (tid, step, value),
                )
            run(
                "INSERT INTO hpopt_trial_attrs VALUES (?, 'user', 'seed', ?)",
                (tid, json.dumps(number * 10)),
            )
    engine.dispose()


BUILDERS = {1: build_v1}

if __name__ == "__main__":
    version = int(sys.argv[1])
    target = FIXTURES / f"schema_v{version}.db"
    FIXTURES.mkdir(exist_ok=True)
    BUILDERS[version](target)
    print(f"wrote {target}")
