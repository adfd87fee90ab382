"""Initial schema: studies, trials, params, intermediate values, attributes.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _trial_fk() -> sa.Column[int]:
    return sa.Column(
        "trial_id",
        _Id,
        sa.ForeignKey("hpopt_trials.trial_id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "hpopt_studies",
        sa.Column("study_id", _Id, primary_key=True, autoincrement=True),
        sa.Column("study_name", sa.String(512), nullable=False, unique=True),
        sa.Column("directions", sa.Text, nullable=False),
        sa.Column("datetime_created", sa.DateTime, nullable=False),
        sa.Column("next_number", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hpopt_study_attrs",
        sa.Column(
            "study_id",
            _Id,
            sa.ForeignKey("hpopt_studies.study_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("value_json", sa.Text, nullable=False),
    )
    op.create_table(
        "hpopt_trials",
        sa.Column("trial_id", _Id, primary_key=True, autoincrement=True),
        sa.Column(
            "study_id",
            _Id,
            sa.ForeignKey("hpopt_studies.study_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("values_json", sa.Text, nullable=True),
        sa.Column("datetime_start", sa.DateTime, nullable=True),
        sa.Column("datetime_complete", sa.DateTime, nullable=True),
        sa.Column("heartbeat", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("study_id", "number", name="uq_hpopt_trials_study_number"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hpopt_trial_params",
        _trial_fk(),
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("internal", sa.Float, nullable=False),
        sa.Column("distribution_json", sa.Text, nullable=False),
    )
    op.create_table(
        "hpopt_trial_intermediate_values",
        _trial_fk(),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("value", sa.Float, nullable=True),
    )
    op.create_table(
        "hpopt_trial_attrs",
        _trial_fk(),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("value_json", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "hpopt_trial_attrs",
        "hpopt_trial_intermediate_values",
        "hpopt_trial_params",
        "hpopt_trials",
        "hpopt_study_attrs",
        "hpopt_studies",
    ):
        op.drop_table(table)
