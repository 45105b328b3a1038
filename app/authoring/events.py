"""What authoring announces to the layers above it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CurrentVersionChanged:
    """A course's current version moved (a publication or a rollback): learners' standings must follow it."""

    course_id: int
    version_id: int
