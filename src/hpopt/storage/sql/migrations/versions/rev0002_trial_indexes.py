"""Index trials by change sequence and by state.

Incremental reads (``seq > cursor``) and claiming enqueued trials (``state = 'WAITING'``) no
longer scan every trial of a study.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hpopt_trials_study_seq", "hpopt_trials", ["study_id", "seq"])
    op.create_index("ix_hpopt_trials_study_state", "hpopt_trials", ["study_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_hpopt_trials_study_state", table_name="hpopt_trials")
    op.drop_index("ix_hpopt_trials_study_seq", table_name="hpopt_trials")
