"""Studies: ask/tell, the optimize loop, and the read-only view samplers see."""

from __future__ import annotations

from hpopt.study.direction import StudyDirection  # isort: skip

# study.study first: it imports the trial and storage layers in an order without cycles.
from hpopt.study.study import (  # isort: skip
    Study,
    create_study,
    create_trial,
    delete_study,
    get_all_study_summaries,
    load_study,
)
from hpopt.study.heartbeat import HeartbeatPolicy
from hpopt.study.transfer import copy_study
from hpopt.study.view import StudyView

__all__ = [
    "HeartbeatPolicy",
    "Study",
    "StudyDirection",
    "StudyView",
    "copy_study",
    "create_study",
    "create_trial",
    "delete_study",
    "get_all_study_summaries",
    "load_study",
]
