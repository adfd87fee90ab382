"""Exceptions raised by hpopt."""

from __future__ import annotations

__all__ = [
    "DuplicatedStudyError",
    "HPOptError",
    "SchemaVersionError",
    "SpaceExhausted",
    "StorageError",
    "StudyNotFoundError",
    "TrialFinishedError",
    "TrialNotFoundError",
    "TrialPruned",
]


class HPOptError(Exception):
    """Base class of hpopt's own errors."""


class TrialPruned(HPOptError):
    """Raise from an objective to stop a trial early; the trial becomes PRUNED."""


class SpaceExhausted(HPOptError):
    """A sampler has no configuration left to propose (e.g. a finished grid)."""


class StorageError(HPOptError):
    """A storage operation failed.

    ``transient`` is True for errors worth retrying (lock contention, lost connection).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class DuplicatedStudyError(StorageError, ValueError):
    """A study with that name already exists (pass ``load_if_exists=True`` to load it)."""


class StudyNotFoundError(StorageError, LookupError):
    """No study with that name or id exists."""


class TrialNotFoundError(StorageError, LookupError):
    """No trial with that id exists."""


class TrialFinishedError(StorageError, RuntimeError):
    """A write was attempted on a trial that is already finished (records are immutable)."""


class SchemaVersionError(StorageError):
    """The database schema is older or newer than this version of hpopt understands."""
