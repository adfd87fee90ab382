"""Running a trial again after its worker died: same parameters, linked records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpopt.trial.frozen import FrozenTrial
from hpopt.trial.state import TrialState
from hpopt.trial.trial import FIXED_PARAMS_KEY

if TYPE_CHECKING:
    from hpopt.study.study import Study

__all__ = ["RETRY_ATTEMPT_KEY", "RETRY_OF_KEY", "enqueue_retry"]

#: System attribute of a retry: the number of the trial it runs again.
RETRY_OF_KEY = "retry_of"
#: System attribute of a retry: 1 for the first retry of a trial, 2 for the next, ...
RETRY_ATTEMPT_KEY = "retry_attempt"


def enqueue_retry(study: Study, failed: FrozenTrial, max_retries: int) -> bool:
    """Queue a new trial with the parameters of ``failed`` unless it used up its retries.

    The retry is a WAITING trial (the next ``ask`` of any process takes it) whose system
    attributes ``retry_of`` and ``retry_attempt`` link it to ``failed``. Parameters the
    trial had not suggested yet when it died are sampled anew. Returns whether a retry
    was queued.
    """
    attempt = int(failed.system_attrs.get(RETRY_ATTEMPT_KEY, 0))
    if attempt >= max_retries:
        return False
    params = dict(failed.system_attrs.get(FIXED_PARAMS_KEY) or {})
    params.update(failed.params)
    template = FrozenTrial(
        number=-1,
        state=TrialState.WAITING,
        system_attrs={
            FIXED_PARAMS_KEY: params,
            RETRY_OF_KEY: failed.number,
            RETRY_ATTEMPT_KEY: attempt + 1,
        },
    )
    study.storage.create_trial(study.study_id, template)
    return True
