"""Reading trial records from rows and writing a trial's data as rows."""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, insert, select

from hpopt.space.distributions import Distribution, distribution_from_json
from hpopt.storage.sql.schema import params, trial_attrs, trial_values, trials
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = [
    "dump_json",
    "encode_attrs",
    "encode_params",
    "load_trials",
    "upsert",
    "write_trial_data",
]

_USER, _SYSTEM = "user", "system"


def dump_json(value: Any, what: str) -> str:
    """``value`` as JSON text; ``TypeError`` naming ``what`` if it is not JSON-serializable."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be JSON-serializable: {e}") from None


@functools.lru_cache(maxsize=4096)
def _distribution(text: str, name: str) -> Distribution:
    # Distributions are immutable, so equal JSON may share one object across records.
    return distribution_from_json(json.loads(text), name=name)


def load_trials(
    conn: Connection, where: ColumnElement[bool]
) -> tuple[list[FrozenTrial], int | None]:
    """Records of the trials matching ``where`` (a condition on the trials table), by number,
    and the largest change sequence among them (``None`` if there are none).

    Four statements whatever the number of trials; run them in one read transaction so they
    see one snapshot.
    """
    rows = conn.execute(select(trials).where(where).order_by(trials.c.number)).all()
    if not rows:
        return [], None
    chosen = select(trials.c.trial_id).where(where).scalar_subquery()
    by_trial_params: dict[int, dict[str, Any]] = defaultdict(dict)
    by_trial_dists: dict[int, dict[str, Distribution]] = defaultdict(dict)
    for tid, name, internal, dist_json in conn.execute(
        select(
            params.c.trial_id, params.c.name, params.c.internal, params.c.distribution_json
        ).where(params.c.trial_id.in_(chosen))
    ):
        dist = _distribution(dist_json, name)
        by_trial_params[tid][name] = dist.to_external(internal)
        by_trial_dists[tid][name] = dist
    by_trial_iv: dict[int, dict[int, float]] = defaultdict(dict)
    for tid, step, value in conn.execute(
        select(trial_values.c.trial_id, trial_values.c.step, trial_values.c.value).where(
            trial_values.c.trial_id.in_(chosen)
        )
    ):
        by_trial_iv[tid][step] = math.nan if value is None else value
    attrs: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
    for tid, kind, key, value_json in conn.execute(
        select(
            trial_attrs.c.trial_id, trial_attrs.c.kind, trial_attrs.c.key, trial_attrs.c.value_json
        ).where(trial_attrs.c.trial_id.in_(chosen))
    ):
        attrs[tid, kind][key] = json.loads(value_json)
    empty: dict[str, Any] = {}
    records = [
        FrozenTrial(
            number=r.number,
            trial_id=r.trial_id,
            state=TrialState[r.state],
            values=None if r.values_json is None else tuple(json.loads(r.values_json)),
            params=by_trial_params.get(r.trial_id, empty),
            distributions=by_trial_dists.get(r.trial_id, empty),
            intermediate_values=by_trial_iv.get(r.trial_id, {}),
            user_attrs=attrs.get((r.trial_id, _USER), empty),
            system_attrs=attrs.get((r.trial_id, _SYSTEM), empty),
            datetime_start=r.datetime_start,
            datetime_complete=r.datetime_complete,
            error=r.error,
        )
        for r in rows
    ]
    return records, max(r.seq for r in rows)


def encode_params(
    values: Mapping[str, Any], distributions: Mapping[str, Distribution]
) -> list[dict[str, Any]]:
    """Parameter rows (without ``trial_id``): the internal float and the distribution."""
    out = []
    for name, value in values.items():
        dist = distributions.get(name)
        if dist is None:
            raise ValueError(f"parameter {name!r} has no distribution")
        out.append(
            {
                "name": name,
                "internal": dist.to_internal(value),
                "distribution_json": json.dumps(dist.to_json()),
            }
        )
    return out


def encode_attrs(user: Mapping[str, Any], system: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Attribute rows (without ``trial_id``); raises ``TypeError`` before anything is written."""
    rows = [
        {"kind": _USER, "key": k, "value_json": dump_json(v, f"user attribute {k!r}")}
        for k, v in user.items()
    ]
    rows += [
        {"kind": _SYSTEM, "key": k, "value_json": dump_json(v, f"system attribute {k!r}")}
        for k, v in system.items()
    ]
    return rows


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert ``rows`` into ``table``, overwriting rows with the same primary key ``keys``."""
    if not rows:
        return
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        stmt = (sqlite.insert if name == "sqlite" else postgresql.insert)(table)
        others = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=others), rows)
        return
    for row in rows:  # portable fallback for other databases
        conn.execute(delete(table).where(*(table.c[k] == row[k] for k in keys)))
    conn.execute(insert(table), rows)


def write_trial_data(
    conn: Connection,
    trial_id: int,
    param_rows: list[dict[str, Any]],
    intermediate: Mapping[int, float],
    attr_rows: list[dict[str, Any]],
) -> None:
    """Insert or overwrite a trial's params, intermediate values and attributes."""
    upsert(conn, params, [{"trial_id": trial_id, **r} for r in param_rows], ("trial_id", "name"))
    iv_rows = []
    for step, value in intermediate.items():
        v = float(value)
        iv_rows.append(
            {"trial_id": trial_id, "step": int(step), "value": None if math.isnan(v) else v}
        )
    upsert(conn, trial_values, iv_rows, ("trial_id", "step"))
    upsert(
        conn,
        trial_attrs,
        [{"trial_id": trial_id, **r} for r in attr_rows],
        ("trial_id", "kind", "key"),
    )
