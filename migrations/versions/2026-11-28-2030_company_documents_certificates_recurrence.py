"""company documents, acknowledgments, certificates, recurrence

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 20:16:30.378493
"""

from collections.abc import Sequence

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A copy of app/certificates/codes.py as it was when this migration was written: a migration must not change
# when the application's code does.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(14))
    digest = hashlib.sha256(body.encode("ascii")).digest()
    return body + "".join(ALPHABET[byte % 32] for byte in digest[:2])


def _certificates_for_earlier_completions() -> None:
    """Everyone who completed a course before certificates existed gets one, dated at their completion."""
    connection = op.get_bind()
    completions = connection.execute(
        sa.text(
            "SELECT c.user_id, c.course_id, c.version_id, c.completed_at, u.display_name, v.title, v.number "
            "FROM course_completions c JOIN users u ON u.id = c.user_id JOIN course_versions v ON v.id = c.version_id"
        )
    ).all()
    certificates = sa.table(
        "certificates",
        sa.column("code"),
        sa.column("user_id"),
        sa.column("course_id"),
        sa.column("version_id"),
        sa.column("holder_name"),
        sa.column("course_title"),
        sa.column("version_number"),
        sa.column("completed_at"),
        sa.column("issued_at"),
    )
    for user_id, course_id, version_id, completed_at, name, title, number in completions:
        connection.execute(
            certificates.insert().values(
                code=_new_code(),
                user_id=user_id,
                course_id=course_id,
                version_id=version_id,
                holder_name=name,
                course_title=title,
                version_number=number,
                completed_at=completed_at,
                issued_at=completed_at,
            )
        )


def upgrade() -> None:
    op.create_table(
        "company_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("draft_saved_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("draft_saved_by_id", sa.Integer(), nullable=True),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_company_documents_course_id_courses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_company_documents_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["draft_saved_by_id"],
            ["users.id"],
            name=op.f("fk_company_documents_draft_saved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_documents")),
        sa.UniqueConstraint("kind", name=op.f("uq_company_documents_kind")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("completed_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_certificates_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificates_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["course_versions.id"],
            name=op.f("fk_certificates_version_id_course_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_user_id"), ["user_id"], unique=False)

    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("requires_ack", sa.Boolean(), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("published_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["company_documents.id"],
            name=op.f("fk_document_versions_document_id_company_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_document_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_document_versions_document_id_number")),
    )
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_versions_document_id"), ["document_id"], unique=False)
    # The two tables point at each other: the pointer to the current version is added once both exist.
    with op.batch_alter_table("company_documents", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_company_documents_current_version_id_document_versions"),
            "document_versions",
            ["current_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "acknowledgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["company_documents.id"],
            name=op.f("fk_acknowledgments_document_id_company_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_acknowledgments_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_acknowledgments_version_id_document_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgments")),
        sa.UniqueConstraint("user_id", "version_id", name=op.f("uq_acknowledgments_user_id_version_id")),
    )
    with op.batch_alter_table("acknowledgments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_acknowledgments_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_acknowledgments_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opens_at", app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("recur_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
    # Existing assignments opened when they were created.
    op.execute(sa.text("UPDATE assignments SET opens_at = created_at"))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.alter_column("opens_at", existing_type=app.core.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_assignments_previous_id"), ["previous_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_assignments_previous_id_assignments"),
            "assignments",
            ["previous_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_months", sa.Integer(), nullable=True))

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cycle_started_at", app.core.db.UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        "lesson_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("lesson_slug", sa.String(length=63), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("read_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_lesson_readings_course_id_courses"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lesson_readings_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["course_versions.id"],
                                name=op.f("fk_lesson_readings_version_id_course_versions"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_readings")),
    )  # fmt: skip
    with op.batch_alter_table("lesson_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_readings_user_id"), ["user_id"], unique=False)
    # The readings recorded so far: the one each learner's progress holds.
    op.execute(sa.text(
        "INSERT INTO lesson_readings (user_id, course_id, lesson_slug, version_id, read_at) "
        "SELECT user_id, course_id, lesson_slug, read_version_id, read_at FROM lesson_progress "
        "WHERE read_at IS NOT NULL AND read_version_id IS NOT NULL"
    ))  # fmt: skip
    _certificates_for_earlier_completions()


def downgrade() -> None:
    with op.batch_alter_table("lesson_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_readings_user_id"))
    op.drop_table("lesson_readings")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_column("cycle_started_at")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("valid_months")

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assignments_previous_id_assignments"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_assignments_previous_id"), type_="unique")
        batch_op.drop_column("previous_id")
        batch_op.drop_column("recur_months")
        batch_op.drop_column("opens_at")

    with op.batch_alter_table("acknowledgments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgments_user_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgments_document_id"))

    op.drop_table("acknowledgments")
    with op.batch_alter_table("company_documents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_company_documents_current_version_id_document_versions"), type_="foreignkey"
        )
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_versions_document_id"))

    op.drop_table("document_versions")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_user_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_expires_at"))
        batch_op.drop_index(batch_op.f("ix_certificates_course_id"))

    op.drop_table("certificates")
    op.drop_table("company_documents")
