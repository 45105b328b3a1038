"""What part of the organisation a user may see. Every manager-facing query applies a Scope, so a guessed id
outside it finds nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute


@dataclass(frozen=True)
class Scope:
    everything: bool
    paths: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.paths

    def covers_path(self, path: str) -> bool:
        return self.everything or any(path.startswith(prefix) for prefix in self.paths)

    def department_filter(self, path_column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        """A WHERE clause on Department.path keeping only departments inside the scope."""
        if self.everything:
            return true()
        if not self.paths:
            return false()
        return or_(*(path_column.startswith(prefix, autoescape=True) for prefix in self.paths))


EVERYTHING = Scope(everything=True)
NOTHING = Scope(everything=False)
