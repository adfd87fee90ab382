"""Copying a study between storages (e.g. from a SQLite file to PostgreSQL)."""

from __future__ import annotations

from hpopt.storage import opened_storage
from hpopt.storage.base import BaseStorage

__all__ = ["copy_study"]


def copy_study(
    *,
    from_study_name: str,
    from_storage: BaseStorage | str,
    to_storage: BaseStorage | str,
    to_study_name: str | None = None,
) -> None:
    """Copy a study, its attributes and all its trials to another storage (or name).

    Trials keep their numbers, states, parameters, values, intermediate values, attributes
    and times; they get new ids. A trial that is RUNNING in the source is copied as RUNNING
    without a heartbeat.

    Raises
    ------
    StudyNotFoundError
        If the source study does not exist.
    DuplicatedStudyError
        If the destination already has a study of that name; nothing is written.

    Examples
    --------
    >>> import hpopt
    >>> src = hpopt.InMemoryStorage()
    >>> study = hpopt.create_study(storage=src, study_name="a")
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    >>> dst = hpopt.InMemoryStorage()
    >>> hpopt.copy_study(from_study_name="a", from_storage=src, to_storage=dst)
    >>> len(hpopt.load_study(study_name="a", storage=dst).trials)
    2
    """
    with opened_storage(from_storage) as src, opened_storage(to_storage) as dst:
        study_id = src.get_study_id_from_name(from_study_name)
        name = to_study_name or from_study_name
        directions = src.get_study_directions(study_id)
        user_attrs = src.get_study_user_attrs(study_id)
        system_attrs = src.get_study_system_attrs(study_id)
        trials = src.get_all_trials(study_id)
        new_id = dst.create_study(directions, name)
        try:
            for key, value in user_attrs.items():
                dst.set_study_user_attr(new_id, key, value)
            for key, value in system_attrs.items():
                dst.set_study_system_attr(new_id, key, value)
            for trial in trials:
                dst.create_trial(new_id, trial)
        except BaseException:
            dst.delete_study(new_id)  # all or nothing
            raise
