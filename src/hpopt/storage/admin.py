"""Storage administration behind the command line: upgrade, reap, copy.

Plain functions over storage URLs, so the CLI (``hpopt storage upgrade``, ``hpopt reap``,
``hpopt copy``) and scripts share one implementation.
"""

from __future__ import annotations

from hpopt.storage import default_storage_url, opened_storage, upgrade_storage
from hpopt.storage.base import BaseStorage
from hpopt.study.transfer import copy_study

__all__ = ["copy_study", "default_storage_url", "reap", "upgrade_storage"]


def reap(storage: BaseStorage | str, study_name: str, grace: float | None = None) -> list[int]:
    """Fail the stale RUNNING trials of a study now (what ``hpopt reap`` runs).

    Trials are re-enqueued as the study's heartbeat policy says (``retry_failed``).

    Parameters
    ----------
    storage
        A storage or URL.
    study_name
        The study.
    grace
        Seconds without a heartbeat after which a trial is stale; defaults to the grace
        period stored with the study.

    Returns
    -------
    list of int
        The numbers of the trials failed.

    Raises
    ------
    StudyNotFoundError
        If there is no such study.
    ValueError
        If ``grace`` is not given and the study has no heartbeat policy.
    """
    from hpopt.study.heartbeat import POLICY_ATTR, HeartbeatPolicy, reap_stale_trials

    with opened_storage(storage) as store:
        study_id = store.get_study_id_from_name(study_name)
        stored = store.get_study_system_attrs(study_id).get(POLICY_ATTR)
        policy = None if stored is None else HeartbeatPolicy.from_json(stored)
        if grace is None:
            if policy is None:
                raise ValueError(
                    f"study {study_name!r} has no heartbeat policy; "
                    "pass the grace period in seconds"
                )
            grace = policy.grace_seconds
        retries = 0 if policy is None else policy.retry_failed
        return reap_stale_trials(store, study_id, grace, retries)
