"""Read-and-sign rules as pure functions: which version a person must have acknowledged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class VersionFacts:
    number: int
    requires_ack: bool


def required_number(versions: Iterable[VersionFacts]) -> int | None:
    """The newest version that asked for acknowledgment: acknowledging it, or anything newer, is enough. A
    correction published without asking for it does not make earlier acknowledgments stale."""
    asking = [version.number for version in versions if version.requires_ack]
    return max(asking) if asking else None


def is_acknowledged(acknowledged_numbers: Iterable[int], required: int | None) -> bool:
    if required is None:
        return True
    return any(number >= required for number in acknowledged_numbers)


def must_ask_again(*, first_version: bool, substantive: bool) -> bool:
    """The first version always asks; later ones ask unless the publisher marked the change as a correction."""
    return first_version or substantive


def in_audience(*, active: bool, person_path: str | None, audience_path: str | None) -> bool:
    """A document addressed to everyone (no department) reaches every active person; one addressed to a department
    reaches the active people of its subtree (paths are the materialised "/1/5/12/" of the department tree)."""
    if not active:
        return False
    return audience_path is None or bool(person_path and person_path.startswith(audience_path))
