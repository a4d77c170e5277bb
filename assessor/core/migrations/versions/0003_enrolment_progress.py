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

from assessor.domain.progress import Judgement, assess
from assessor.domain.standards import Unit, parse_unit

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_progress",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("outstanding", sa.Integer(), nullable=False),
        sa.Column("last_evidence", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_enrolment_progress_enrolment_id_enrolment")
        ),
        sa.PrimaryKeyConstraint("enrolment_id", name=op.f("pk_enrolment_progress")),
    )
    _fill()


# The tables as they stand at this revision, with only the columns the tally reads or writes. Verdicts and contexts are
# read as the plain strings stored; a Date column gives datetime.date on SQLite as well as PostgreSQL.
unit_version = sa.table("unit_version", sa.column("id", sa.Integer()), sa.column("source_text", sa.Text()))
enrolment = sa.table("enrolment", sa.column("id", sa.Integer()), sa.column("unit_version_id", sa.Integer()))
evidence = sa.table(
    "evidence", sa.column("id", sa.Integer()), sa.column("context", sa.String()), sa.column("observed_on", sa.Date())
)
evidence_mapping = sa.table(
    "evidence_mapping",
    sa.column("id", sa.Integer()),
    sa.column("evidence_id", sa.Integer()),
    sa.column("enrolment_id", sa.Integer()),
    sa.column("target", sa.String()),
    sa.column("verdict", sa.String()),
)
enrolment_progress = sa.table(
    "enrolment_progress",
    sa.column("enrolment_id", sa.Integer()),
    sa.column("tally", sa.JSON()),
    sa.column("percent", sa.Integer()),
    sa.column("outstanding", sa.Integer()),
    sa.column("last_evidence", sa.Date()),
)


def _fill() -> None:
    """A tally for every enrolment there is, by the same rules the application uses.

    Only this revision's tables and the pure domain rules are used, never the application's models or operations, so
    that this migration keeps doing the same thing however the application changes.
    """
    connection = op.get_bind()
    judgements: dict[int, list[Judgement]] = {}
    mapped = (
        sa.select(
            evidence_mapping.c.enrolment_id,
            evidence_mapping.c.evidence_id,
            evidence_mapping.c.target,
            evidence_mapping.c.verdict,
            evidence.c.context,
            evidence.c.observed_on,
        )
        .join(evidence, evidence.c.id == evidence_mapping.c.evidence_id)
        .order_by(evidence_mapping.c.id)
    )
    for row in connection.execute(mapped):
        judgements.setdefault(row.enrolment_id, []).append(
            Judgement(row.evidence_id, row.target, row.verdict, row.context, row.observed_on)
        )
    units: dict[int, Unit] = {}
    rows = []
    enrolments = (
        sa.select(enrolment.c.id, enrolment.c.unit_version_id, unit_version.c.source_text)
        .join(unit_version, unit_version.c.id == enrolment.c.unit_version_id)
        .order_by(enrolment.c.id)
    )
    for enrolled in connection.execute(enrolments):
        if enrolled.unit_version_id not in units:
            units[enrolled.unit_version_id] = parse_unit(enrolled.source_text, "<stored unit>")
        tally = assess(units[enrolled.unit_version_id], judgements.get(enrolled.id, [])).tally()
        rows.append(
            {
                "enrolment_id": enrolled.id,
                "tally": tally.to_json(),
                "percent": tally.percent,
                "outstanding": tally.outstanding,
                "last_evidence": tally.last_evidence,
            }
        )
    if rows:
        connection.execute(sa.insert(enrolment_progress), rows)


def downgrade() -> None:
    op.drop_table("enrolment_progress")
