"""roster and lesson counters for dashboards

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:36:41.796593
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BACKFILL = [
    # Roster counters: everyone enrolled, active and in a department, per course, department and due date.
    '''INSERT INTO roster_stats (course_id, department_id, due_at, assigned, started, completed, score_sum, score_count)
       SELECT e.course_id, u.department_id, e.due_at, COUNT(*), COUNT(s.started_at), COUNT(s.completed_at),
              COALESCE(SUM(s.best_score), 0), COUNT(s.best_score)
       FROM enrollments e JOIN users u ON u.id = e.user_id
       LEFT JOIN course_status s ON s.user_id = e.user_id AND s.course_id = e.course_id
       WHERE u.is_active AND u.department_id IS NOT NULL
       GROUP BY e.course_id, u.department_id, e.due_at''',
    # Lesson counters: opened and read from lesson progress, passed from attempts.
    '''INSERT INTO lesson_stats (course_id, department_id, lesson_slug, opened, read, passed)
       SELECT p.course_id, u.department_id, p.lesson_slug, COUNT(*), COUNT(p.read_at), 0
       FROM lesson_progress p JOIN users u ON u.id = p.user_id
       WHERE u.department_id IS NOT NULL
       GROUP BY p.course_id, u.department_id, p.lesson_slug''',
    '''UPDATE lesson_stats SET passed = (
         SELECT COUNT(DISTINCT a.user_id) FROM attempts a JOIN users u ON u.id = a.user_id
         WHERE a.passed AND a.course_id = lesson_stats.course_id AND a.lesson_slug = lesson_stats.lesson_slug
           AND u.department_id = lesson_stats.department_id)''',
]


def _backfill_completion_days() -> None:
    """Completions per day in Japan (UTC+9, no daylight saving), counted in Python to stay dialect-neutral."""
    from collections import Counter
    from datetime import datetime, timedelta

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        'SELECT c.course_id, u.department_id, c.completed_at FROM course_completions c '
        'JOIN users u ON u.id = c.user_id WHERE u.department_id IS NOT NULL'
    )).all()
    days = Counter()
    for course_id, department_id, completed_at in rows:
        when = completed_at if isinstance(completed_at, datetime) else datetime.fromisoformat(str(completed_at))
        if when.tzinfo is not None:
            when = when.replace(tzinfo=None) - (when.utcoffset() or timedelta())
        days[course_id, department_id, (when + timedelta(hours=9)).date()] += 1
    for (course_id, department_id, day), count in days.items():
        connection.execute(sa.text('INSERT INTO completion_day_stats (course_id, department_id, day, count) '
                                   'VALUES (:c, :d, :day, :n)'), {'c': course_id, 'd': department_id, 'day': day, 'n': count})


def upgrade() -> None:
    op.create_table('lesson_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('lesson_slug', sa.String(length=63), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_lesson_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_lesson_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_stats')),
    sa.UniqueConstraint('course_id', 'department_id', 'lesson_slug', name=op.f('uq_lesson_stats_course_id_department_id_lesson_slug'))
    )
    with op.batch_alter_table('lesson_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_stats_department_id'), ['department_id'], unique=False)

    op.create_table('roster_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('due_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('score_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_roster_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_roster_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_stats'))
    )
    with op.batch_alter_table('roster_stats', schema=None) as batch_op:
        batch_op.create_index('ix_roster_stats_course_department', ['course_id', 'department_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_display_name'), ['display_name'], unique=False)
    op.create_table('completion_day_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_completion_day_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_completion_day_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_day_stats')),
    sa.UniqueConstraint('course_id', 'department_id', 'day', name=op.f('uq_completion_day_stats_course_id_department_id_day'))
    )
    with op.batch_alter_table('completion_day_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_day_stats_department_id'), ['department_id'], unique=False)


    for statement in BACKFILL:
        op.execute(sa.text(statement))
    _backfill_completion_days()

def downgrade() -> None:
    with op.batch_alter_table('completion_day_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completion_day_stats_department_id'))
    op.drop_table('completion_day_stats')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_name'))

    with op.batch_alter_table('roster_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_stats_course_department')

    op.drop_table('roster_stats')
    with op.batch_alter_table('lesson_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_stats_department_id'))

    op.drop_table('lesson_stats')
