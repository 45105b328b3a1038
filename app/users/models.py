from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class PasswordSetToken(Base):
    """A one-time link to set (or reset) a password: only the hash is stored, and it works once."""

    __tablename__ = "password_set_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserImport(Base):
    """An uploaded employee CSV, kept between the dry run and applying it so any worker can apply it."""

    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlipBatch(Base):
    """One print run of password slips. The admin first sees exactly whose links it will issue and whose valid
    links it will replace; printing claims the batch once, so reloading the printed page cannot void slips that
    are already in people's hands, and nobody outside the confirmed list is touched."""

    __tablename__ = "password_slip_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_ids: Mapped[list[int]] = mapped_column(JSON)
    # Each person's valid link when the admin confirmed ({user id: token id}, people without one left out):
    # printing refuses if any of them has a different valid link by then, so no link changes unannounced.
    links_seen: Mapped[dict[str, int]] = mapped_column(JSON)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
