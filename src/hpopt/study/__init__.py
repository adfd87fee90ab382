"""Studies: ask/tell, the optimize loop, and the read-only view samplers see."""

from __future__ import annotations

from hpopt.study.direction import StudyDirection
from hpopt.study.study import (
    Study,
    create_study,
    create_trial,
    delete_study,
    get_all_study_summaries,
    load_study,
)
from hpopt.study.view import StudyView

__all__ = [
    "Study",
    "StudyDirection",
    "StudyView",
    "create_study",
    "create_trial",
    "delete_study",
    "get_all_study_summaries",
    "load_study",
]
