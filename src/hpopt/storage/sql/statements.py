"""Prebuilt statements of the SQL storage's hot paths (asking and telling trials).

Building a SQLAlchemy statement costs several times more CPU than executing a cached one, so
the statements run once or more per trial are built once, here, with bind parameters:
``sid`` (study id), ``tid`` (trial id), ``cursor``, ``states``.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, bindparam, insert, select, update

from hpopt.storage.sql.records import trial_query
from hpopt.storage.sql.schema import studies, trials

__all__ = [
    "FINISHED_STATE_OF",
    "INSERT_TRIAL",
    "LOCK_STUDY",
    "LOCK_STUDY_NEW_TRIAL",
    "LOCK_STUDY_OF_TRIAL",
    "PEEK_WAITING",
    "STUDY_EXISTS",
    "TRIALS_BY_ID",
    "TRIALS_IN_STATES",
    "TRIALS_OF_STUDY",
    "TRIALS_SINCE",
    "UPDATE_TRIAL",
]

_SID: BindParameter[int] = bindparam("sid")
_TID: BindParameter[int] = bindparam("tid")

# Every transaction that changes a trial starts with one of these: the update locks the
# study row until commit and takes the next value of its change counter.
LOCK_STUDY = (
    update(studies)
    .where(studies.c.study_id == _SID)
    .values(seq=studies.c.seq + 1)
    .returning(studies.c.seq)
)
LOCK_STUDY_NEW_TRIAL = (
    update(studies)
    .where(studies.c.study_id == _SID)
    .values(seq=studies.c.seq + 1, next_number=studies.c.next_number + 1)
    .returning(studies.c.seq, studies.c.next_number)
)
LOCK_STUDY_OF_TRIAL = (
    update(studies)
    .where(
        studies.c.study_id
        == select(trials.c.study_id).where(trials.c.trial_id == _TID).scalar_subquery()
    )
    .values(seq=studies.c.seq + 1)
    .returning(studies.c.seq)
)

STUDY_EXISTS = select(studies.c.study_id).where(studies.c.study_id == _SID)
# The study's id (no row: no such study) and its oldest WAITING trial (NULL: none).
PEEK_WAITING = select(
    studies.c.study_id,
    select(trials.c.trial_id)
    .where(trials.c.study_id == _SID, trials.c.state == "WAITING")
    .order_by(trials.c.number)
    .limit(1)
    .scalar_subquery(),
).where(studies.c.study_id == _SID)

INSERT_TRIAL = insert(trials).returning(trials.c.trial_id)
FINISHED_STATE_OF = select(trials.c.number, trials.c.state).where(trials.c.trial_id == _TID)
UPDATE_TRIAL = update(trials).where(trials.c.trial_id == _TID)

TRIALS_BY_ID = trial_query(trials.c.trial_id == _TID)
TRIALS_OF_STUDY = trial_query(trials.c.study_id == _SID)
TRIALS_SINCE = trial_query((trials.c.study_id == _SID) & (trials.c.seq > bindparam("cursor")))
TRIALS_IN_STATES = trial_query(
    (trials.c.study_id == _SID) & trials.c.state.in_(bindparam("states", expanding=True))
)
