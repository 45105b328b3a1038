from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_versions.id", use_alter=True, ondelete="SET NULL")
    )
    # How long a completion stays valid: certificates expire this many months after completion (NULL: never).
    valid_months: Mapped[int | None] = mapped_column(Integer)
    # 読了 counts only after the lesson has been open this long (the page's heartbeat measures it); 0: no minimum.
    min_reading_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CourseVersion(Base):
    """An imported pack, frozen: attempts point at the quizzes of the version they were taken on."""

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    completion: Mapped[dict[str, Any]] = mapped_column(JSON)
    misconceptions: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A draft until published; a published version stays published (rollback only moves Course.current_version_id).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    # Lessons this version asked learners to read again, and for every lesson the version number since which a
    # reading counts (carried forward from version to version at publication).
    reread_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    reread_since: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class PackFile(Base):
    """The pack's files as uploaded, so that a version can be edited, compared and exported again."""

    __tablename__ = "pack_files"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Asset(Base):
    """An image or PDF handout from a pack, served from the database like the lessons."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
