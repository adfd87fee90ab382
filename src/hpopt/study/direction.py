"""Optimization directions."""

from __future__ import annotations

import enum

__all__ = ["StudyDirection", "as_direction"]


class StudyDirection(enum.Enum):
    """Whether an objective is minimized or maximized."""

    MINIMIZE = 1
    MAXIMIZE = 2

    @property
    def sign(self) -> float:
        """+1 for MINIMIZE, -1 for MAXIMIZE: ``sign * value`` is always minimized."""
        return 1.0 if self is StudyDirection.MINIMIZE else -1.0

    def __repr__(self) -> str:
        return f"StudyDirection.{self.name}"


def as_direction(value: StudyDirection | str) -> StudyDirection:
    """Parse ``"minimize"``/``"maximize"`` (any case) or pass a direction through."""
    if isinstance(value, StudyDirection):
        return value
    if isinstance(value, str):
        key = value.strip().upper()
        if key in ("MINIMIZE", "MIN"):
            return StudyDirection.MINIMIZE
        if key in ("MAXIMIZE", "MAX"):
            return StudyDirection.MAXIMIZE
    raise ValueError(f"direction must be 'minimize' or 'maximize', got {value!r}")
