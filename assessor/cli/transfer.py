"""`assessor import` and `assessor export`: a coordinator's spreadsheets, in bulk, from the command line."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from assessor.cli.database import require_schema
from assessor.cli.users import staff_account
from assessor.core.access import visible_enrolments
from assessor.core.database import database
from assessor.models import Cohort, Enrolment
from assessor.transfer import imports, reports
from assessor.transfer.csvfiles import write_csv
from assessor.transfer.operations import apply_import, record_export
from assessor.transfer.queries import check_file
from assessor.transfer.workbook import write_workbook


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The coordinator or admin account the import is recorded under.")
@click.option("--dry-run", is_flag=True, help="Check the file and report, importing nothing.")
@with_appcontext
def import_command(file: str, username: str, dry_run: bool) -> None:
    """Import trainees and enrolments from an .xlsx or CSV file: every row valid, or nothing imported."""
    require_schema()
    path = Path(file)
    with database().sessions.begin() as session:
        actor = staff_account(session, username)
        try:
            plan = check_file(session, actor, path.read_bytes(), path.name)
        except imports.ImportRefused as exc:
            raise click.ClickException(exc.message) from None
        if plan.problems:
            for problem in plan.problems:
                click.echo(f"{path.name}: row {problem.row}, {problem.column}: {problem.message}", err=True)
            raise click.ClickException(f"{len(plan.problems)} problems: nothing was imported")
        summary = (
            f"{len(plan.new_trainees)} new trainees, {len(plan.new_enrolments)} new enrolments, "
            f"{len(plan.new_cohorts)} new cohorts, {plan.unchanged} rows already imported"
        )
        if dry_run:
            click.echo(f"would import: {summary}")
            session.rollback()
            return
        apply_import(session, actor, plan)
    click.echo(f"imported: {summary}")


@click.command("export")
@click.argument("kind", type=click.Choice(list(reports.KINDS)))
@click.option("--as", "username", required=True, help="The coordinator or admin account the export is recorded under.")
@click.option("--cohort", help="Only this cohort (by name).")
@click.option("--unit", help="Only this unit (catalogue id).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="From this date (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date (YYYY-MM-DD).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="The file to write: .xlsx, or CSV: .csv (.zip of .csv files for the matrix, a sheet per unit).",
)
@with_appcontext
def export_command(
    kind: str,
    username: str,
    cohort: str | None,
    unit: str | None,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
    output: str,
) -> None:
    """Write a spreadsheet export: progress, matrix, evidence or completions."""
    require_schema()
    suffix = Path(output).suffix.lower()
    as_csv = suffix in (".csv", ".zip")
    if as_csv and suffix != f".{reports.csv_suffix(kind)}":
        raise click.UsageError(f"as CSV, the {kind} export is a .{reports.csv_suffix(kind)} file")
    db = database()
    with db.sessions.begin() as session:
        actor = staff_account(session, username)
        described = {
            k: v
            for k, v in {
                "cohort": cohort,
                "unit": unit,
                "start": start and start.date().isoformat(),
                "end": end and end.date().isoformat(),
            }.items()
            if v
        }
        record_export(session, actor, kind, described)
    with db.read_sessions() as session:
        actor = staff_account(session, username)
        cohort_id = None
        if cohort:
            cohort_id = session.scalar(sa.select(Cohort.id).where(Cohort.name == cohort))
            if cohort_id is None:
                raise click.ClickException(f"no cohort called {cohort!r}")
        filters = reports.Filters(
            visible_enrolments(actor).with_only_columns(Enrolment.id),
            cohort_id,
            unit,
            start and start.date(),
            end and end.date(),
        )
        total = reports.row_count(session, kind, filters)
        with click.progressbar(length=max(total, 1), label=f"{kind} rows", show_pos=True, file=sys.stderr) as bar:

            def on_row(count: int) -> None:
                bar.update(min(count, total) - bar.pos)

            sheets = reports.sheets(session, kind, filters)
            if as_csv:
                written = write_csv(sheets, Path(output), on_row, archive=suffix == ".zip")
            else:
                written = write_workbook(sheets, output, on_row=on_row)
    click.echo(f"wrote {written} rows to {output}")
