from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.ids import MAX_ID, MAX_PAGE
from app.dashboard.roster import SORTS, Status

SortKey = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class DashboardQuery(BaseModel):
    """The dashboard's filters, as query parameters (shareable URLs; HTMX keeps them in the address bar)."""

    model_config = ConfigDict(extra="ignore")

    course: str | None = Field(default=None, max_length=63)
    department: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: Status | None = None
    # PostgreSQL text cannot hold NUL: compared with a column it was a 500, not "no match".
    q: str | None = Field(default=None, max_length=100, pattern=r"^[^\x00]*$")
    sort: SortKey = "name"
    dir: Literal["asc", "desc"] = "asc"
    page: int = Field(default=1, ge=1, le=MAX_PAGE)

    @field_validator("course", "department", "status", "q", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        """The filter forms' 「すべて」 option sends an empty value: the same as no filter (it was a 422)."""
        return None if value == "" else value

    def link(self, **changes: object) -> str:
        """This query with some parameters changed, as a URL query string."""
        from urllib.parse import urlencode

        values = {**self.model_dump(), **changes}
        if "page" not in changes and set(changes) - {"page"}:
            values["page"] = 1  # a new filter or sort starts again at the first page
        defaults = {"sort": "name", "dir": "asc", "page": 1}
        pairs = {
            k: (v.value if hasattr(v, "value") else v)
            for k, v in values.items()
            if v not in (None, "") and defaults.get(k) != v
        }
        return "?" + urlencode(pairs) if pairs else "?"
