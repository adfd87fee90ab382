"""The tables of the SQL storage, as the current schema revision defines them.

The DDL that creates and changes these tables lives in the alembic migrations next to this
module (``migrations/versions``); this module describes the head revision for queries. A test
checks that the migrations produce exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "KNOWN_REVISIONS",
    "SCHEMA_HEAD",
    "VERSION_TABLE",
    "metadata",
    "params",
    "studies",
    "study_attrs",
    "trial_attrs",
    "trial_values",
    "trials",
]

#: Every schema revision this version of hpopt knows, oldest first.
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002")
#: The revision this version of hpopt reads and writes.
SCHEMA_HEAD = KNOWN_REVISIONS[-1]
#: Alembic's version table; prefixed so it cannot collide with an application's own.
VERSION_TABLE = "hpopt_alembic_version"

# ``BigInteger`` ids are plain INTEGER on SQLite so that they stay rowid aliases there.
_Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

studies = Table(
    "hpopt_studies",
    metadata,
    Column("study_id", _Id, primary_key=True, autoincrement=True),
    Column("study_name", String(512), nullable=False, unique=True),
    Column("directions", Text, nullable=False),  # JSON list of "minimize" / "maximize"
    Column("datetime_created", DateTime, nullable=False),
    # Trial numbers handed out so far; bumped in the transaction that inserts the trial.
    Column("next_number", Integer, nullable=False, default=0),
    # Change counter: every transaction that changes a trial of the study bumps it first and
    # stamps the trial with the new value (see ``SQLStorage.get_trials_since``).
    Column("seq", BigInteger, nullable=False, default=0),
    sqlite_autoincrement=True,  # ids are never reused, even after deleting the newest
)

study_attrs = Table(
    "hpopt_study_attrs",
    metadata,
    Column(
        "study_id",
        _Id,
        ForeignKey("hpopt_studies.study_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(8), primary_key=True),  # "user" or "system"
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)

trials = Table(
    "hpopt_trials",
    metadata,
    Column("trial_id", _Id, primary_key=True, autoincrement=True),
    Column(
        "study_id",
        _Id,
        ForeignKey("hpopt_studies.study_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("state", String(8), nullable=False),
    Column("values_json", Text, nullable=True),  # JSON list of objective values
    Column("datetime_start", DateTime, nullable=True),
    Column("datetime_complete", DateTime, nullable=True),
    Column("heartbeat", Float, nullable=True),  # database clock, seconds since the epoch
    Column("error", Text, nullable=True),
    Column("seq", BigInteger, nullable=False),
    UniqueConstraint("study_id", "number", name="uq_hpopt_trials_study_number"),
    Index("ix_hpopt_trials_study_seq", "study_id", "seq"),
    Index("ix_hpopt_trials_study_state", "study_id", "state"),
    sqlite_autoincrement=True,
)

params = Table(
    "hpopt_trial_params",
    metadata,
    Column(
        "trial_id",
        _Id,
        ForeignKey("hpopt_trials.trial_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(512), primary_key=True),
    Column("internal", Float, nullable=False),  # Distribution.to_internal(value)
    Column("distribution_json", Text, nullable=False),
)

trial_values = Table(
    "hpopt_trial_intermediate_values",
    metadata,
    Column(
        "trial_id",
        _Id,
        ForeignKey("hpopt_trials.trial_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("step", Integer, primary_key=True),
    Column("value", Float, nullable=True),  # NULL stands for NaN (SQLite cannot store NaN)
)

trial_attrs = Table(
    "hpopt_trial_attrs",
    metadata,
    Column(
        "trial_id",
        _Id,
        ForeignKey("hpopt_trials.trial_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(8), primary_key=True),  # "user" or "system"
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)
