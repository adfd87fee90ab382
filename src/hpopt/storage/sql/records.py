"""Reading trial records from rows and writing a trial's data as rows."""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Executable,
    Float,
    Select,
    String,
    Table,
    Text,
    cast,
    delete,
    insert,
    literal_column,
    null,
    select,
    union_all,
)

from hpopt.space.distributions import Distribution, distribution_from_json
from hpopt.storage.sql.schema import params, trial_attrs, trial_values, trials
from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState

__all__ = [
    "dump_json",
    "encode_attrs",
    "encode_params",
    "TrialQuery",
    "load_trials",
    "trial_query",
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


class TrialQuery(NamedTuple):
    """Prebuilt statements reading the trials that match one condition (with bind params).

    Statements are built once: building a SQLAlchemy statement costs several times more CPU
    than executing a cached one.
    """

    rows: Select[Any]
    children: CompoundSelect[Any]


def trial_query(where: ColumnElement[bool]) -> TrialQuery:
    """The statements reading trials matching ``where`` and their params, values and attrs."""
    chosen = select(trials.c.trial_id).where(where).scalar_subquery()
    no_text = cast(null(), Text)
    no_float = cast(null(), Float)
    children = union_all(
        select(
            params.c.trial_id,
            literal_column("'param'"),
            params.c.name,
            params.c.internal,
            params.c.distribution_json,
        ).where(params.c.trial_id.in_(chosen)),
        select(
            trial_values.c.trial_id,
            literal_column("'step'"),
            cast(trial_values.c.step, String),
            trial_values.c.value,
            no_text,
        ).where(trial_values.c.trial_id.in_(chosen)),
        select(
            trial_attrs.c.trial_id,
            trial_attrs.c.kind,
            trial_attrs.c.key,
            no_float,
            trial_attrs.c.value_json,
        ).where(trial_attrs.c.trial_id.in_(chosen)),
    )
    return TrialQuery(select(trials).where(where).order_by(trials.c.number), children)


def load_trials(
    conn: Connection, query: TrialQuery, args: Mapping[str, Any]
) -> tuple[list[FrozenTrial], int | None]:
    """Records of the trials ``query`` selects with ``args``, by number, and the largest
    change sequence among them (``None`` if there are none).

    Two statements whatever the number of trials. Under READ COMMITTED (PostgreSQL) the
    second may see a later snapshot than the first, so a RUNNING trial's record may carry
    params or values newer than its row; any change after the first statement has a larger
    change sequence than the one returned, so the next incremental read returns the trial
    again, and finished trials no longer change.
    """
    rows = conn.execute(query.rows, args).all()
    if not rows:
        return [], None
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    dists: dict[int, dict[str, Distribution]] = defaultdict(dict)
    ivs: dict[int, dict[int, float]] = defaultdict(dict)
    attrs: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
    for tid, tag, key, number, text in conn.execute(query.children, args):
        if tag == "param":
            dist = _distribution(text, key)
            values[tid][key] = dist.to_external(number)
            dists[tid][key] = dist
        elif tag == "step":
            ivs[tid][int(key)] = math.nan if number is None else number
        else:
            attrs[tid, tag][key] = json.loads(text)
    empty: dict[str, Any] = {}
    records = [
        FrozenTrial(
            number=r.number,
            trial_id=r.trial_id,
            state=TrialState[r.state],
            values=None if r.values_json is None else tuple(json.loads(r.values_json)),
            params=values.get(r.trial_id, empty),
            distributions=dists.get(r.trial_id, empty),
            intermediate_values=ivs.get(r.trial_id, {}),
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


_UPSERTS: dict[tuple[str, str, tuple[str, ...]], Executable] = {}


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert ``rows`` into ``table``, overwriting rows with the same primary key ``keys``."""
    if not rows:
        return
    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):  # portable fallback for other databases
        for row in rows:
            conn.execute(delete(table).where(*(table.c[k] == row[k] for k in keys)))
        conn.execute(insert(table), rows)
        return
    cache_key = (name, table.name, tuple(rows[0]))
    stmt = _UPSERTS.get(cache_key)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        base = (sqlite.insert if name == "sqlite" else postgresql.insert)(table)
        others = {c: base.excluded[c] for c in rows[0] if c not in keys}
        stmt = base.on_conflict_do_update(index_elements=list(keys), set_=others)
        _UPSERTS[cache_key] = stmt
    conn.execute(stmt, rows)


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
