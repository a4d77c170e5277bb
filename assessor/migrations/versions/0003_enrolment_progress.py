"""enrolment progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Each enrolment's tally (criteria and items satisfied, per component, and the
date of its latest evidence) is kept in its own row, so that enrolment lists
and cohort heat maps read one row per enrolment instead of reassessing every
judgement. Existing enrolments get their tally computed here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrolment_progress',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('tally', sa.JSON(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('outstanding', sa.Integer(), nullable=False),
    sa.Column('last_evidence', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_enrolment_progress_enrolment_id_enrolment')),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_enrolment_progress'))
    )
    _fill()


def _fill() -> None:
    """A tally for every enrolment there is, by the same rules the application uses."""
    from assessor.operations import tally_rows

    connection = op.get_bind()
    rows = tally_rows(connection)
    if rows:
        table = sa.table(
            'enrolment_progress', sa.column('enrolment_id', sa.Integer()), sa.column('tally', sa.JSON()), sa.column('percent', sa.Integer()),
            sa.column('outstanding', sa.Integer()), sa.column('last_evidence', sa.Date()),
        )
        connection.execute(sa.insert(table), rows)


def downgrade() -> None:
    op.drop_table('enrolment_progress')
