"""answer statistics for item analysis

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:29:45.129093
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    """Count the answers graded before the counters existed, the same way grading now counts them."""
    import json
    from collections import Counter

    def key(answer: object) -> str:
        return json.dumps(answer, ensure_ascii=False, separators=(',', ':'), sort_keys=True)[:1000]

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        'SELECT a.course_id, u.department_id, aa.question_id, aa.answer, aa.is_correct, aa.misconceptions '
        'FROM attempt_answers aa JOIN attempts a ON a.id = aa.attempt_id JOIN users u ON u.id = a.user_id '
        'WHERE a.submitted_at IS NOT NULL AND u.department_id IS NOT NULL'
    )).all()
    answered, correct, wrong, chosen = Counter(), Counter(), Counter(), Counter()
    for course_id, department_id, question_id, raw_answer, is_correct, raw_misconceptions in rows:
        answer = json.loads(raw_answer) if isinstance(raw_answer, str) else raw_answer
        misconceptions = json.loads(raw_misconceptions) if isinstance(raw_misconceptions, str) else raw_misconceptions
        answered[course_id, department_id, question_id] += 1
        correct[course_id, department_id, question_id] += int(bool(is_correct))
        if not is_correct and answer is not None:
            wrong[course_id, department_id, question_id, key(answer)] += 1
        for name in misconceptions or []:
            chosen[course_id, department_id, name] += 1
    for (c, d, q), n in answered.items():
        connection.execute(sa.text('INSERT INTO question_stats (course_id, department_id, question_id, answered, correct) '
                                   'VALUES (:c, :d, :q, :n, :k)'), {'c': c, 'd': d, 'q': q, 'n': n, 'k': correct[c, d, q]})
    for (c, d, q, a), n in wrong.items():
        connection.execute(sa.text('INSERT INTO wrong_answer_stats (course_id, department_id, question_id, answer, count) '
                                   'VALUES (:c, :d, :q, :a, :n)'), {'c': c, 'd': d, 'q': q, 'a': a, 'n': n})
    for (c, d, m), n in chosen.items():
        connection.execute(sa.text('INSERT INTO misconception_stats (course_id, department_id, misconception, count) '
                                   'VALUES (:c, :d, :m, :n)'), {'c': c, 'd': d, 'm': m, 'n': n})


def upgrade() -> None:
    op.create_table('misconception_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('misconception', sa.String(length=63), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_misconception_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_misconception_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_misconception_stats')),
    sa.UniqueConstraint('course_id', 'department_id', 'misconception', name=op.f('uq_misconception_stats_course_id_department_id_misconception'))
    )
    with op.batch_alter_table('misconception_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_misconception_stats_department_id'), ['department_id'], unique=False)

    op.create_table('question_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=63), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_question_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_question_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_stats')),
    sa.UniqueConstraint('course_id', 'department_id', 'question_id', name=op.f('uq_question_stats_course_id_department_id_question_id'))
    )
    with op.batch_alter_table('question_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_stats_department_id'), ['department_id'], unique=False)

    op.create_table('wrong_answer_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=63), nullable=False),
    sa.Column('answer', sa.String(length=1000), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_wrong_answer_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_wrong_answer_stats_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wrong_answer_stats')),
    sa.UniqueConstraint('course_id', 'department_id', 'question_id', 'answer', name=op.f('uq_wrong_answer_stats_course_id_department_id_question_id_answer'))
    )
    with op.batch_alter_table('wrong_answer_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wrong_answer_stats_department_id'), ['department_id'], unique=False)


    _backfill()

def downgrade() -> None:
    with op.batch_alter_table('wrong_answer_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wrong_answer_stats_department_id'))

    op.drop_table('wrong_answer_stats')
    with op.batch_alter_table('question_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_stats_department_id'))

    op.drop_table('question_stats')
    with op.batch_alter_table('misconception_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_misconception_stats_department_id'))

    op.drop_table('misconception_stats')
