"""attempt numbers, unique per learner, course and test

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 17:25:20.940635
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE_NUMBER = "uq_attempts_user_id_course_id_test_key_attempt_number"
TEST_KEY_CHECK = "ck_attempts_test_key_matches_lesson_slug"

BACKFILL = [
    # The final test's slug is NULL; its key is '' so that its attempts collide in the unique constraint too.
    "UPDATE attempts SET test_key = COALESCE(lesson_slug, '')",
    # Existing attempts numbered 1, 2, … per learner, course and test in the order they were started.
    """UPDATE attempts SET attempt_number = (
         SELECT COUNT(*) FROM attempts AS earlier
         WHERE earlier.user_id = attempts.user_id AND earlier.course_id = attempts.course_id
           AND earlier.test_key = attempts.test_key
           AND (earlier.started_at < attempts.started_at
                OR (earlier.started_at = attempts.started_at AND earlier.id <= attempts.id)))""",
]


# On SQLite the table rebuilds below run with foreign keys off (migrations/env.py): dropping the old attempts
# table would otherwise delete every attempt's answers through ON DELETE CASCADE.


def upgrade() -> None:
    _upgrade()


def downgrade() -> None:
    _downgrade()


def _upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_key", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("attempt_number", sa.Integer(), nullable=True))

    for statement in BACKFILL:
        op.execute(sa.text(statement))

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.alter_column("test_key", existing_type=sa.String(length=63), nullable=False)
        batch_op.alter_column("attempt_number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f(UNIQUE_NUMBER), ["user_id", "course_id", "test_key", "attempt_number"]
        )
        batch_op.create_check_constraint(batch_op.f(TEST_KEY_CHECK), "test_key = COALESCE(lesson_slug, '')")


def _downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(TEST_KEY_CHECK), type_="check")
        batch_op.drop_constraint(batch_op.f(UNIQUE_NUMBER), type_="unique")
        batch_op.drop_column("attempt_number")
        batch_op.drop_column("test_key")
