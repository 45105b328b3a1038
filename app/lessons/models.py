from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Lesson(Base):
    """A lesson as rendered and sanitised at import, frozen with its course version."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("version_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer)
    is_appendix: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(Integer)
    html: Mapped[str] = mapped_column(Text)
    toc: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
