"""`assessor standards`: validate, list, show and load unit standards, print their JSON Schema, and export a unit as a
CASE 1.1 package (or draft a unit file from one)."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from assessor.case.queries import find_version, readable_versions
from assessor.cli.database import load_units, require_schema
from assessor.cli.users import admin_account
from assessor.core.database import database
from assessor.domain import case
from assessor.domain.case_import import NotAPackage, draft_text, draft_unit
from assessor.domain.errors import InvalidInput
from assessor.domain.standards import (
    Criterion,
    EvidenceItem,
    StandardsError,
    Unit,
    Usage,
    load_unit,
    parse_unit,
    schema,
)
from assessor.standards.operations import set_status
from assessor.standards.queries import catalogue, loaded_version

standards = AppGroup("standards", help="Validate, list and show unit standards.")


@standards.command("validate", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check unit standard files; print every problem of every file; exit 1 if any."""
    failed = False
    for name in files:
        try:
            unit = load_unit(name)
        except StandardsError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        click.echo(
            f"{name}: ok: {unit.key}, {len(unit.components)} {unit.component_label.lower()}s, "
            f"{len(unit.criteria())} criteria, {len(unit.assessable_items())} evidence items"
        )
    if failed:
        sys.exit(1)


@standards.command("list")
def list_units() -> None:
    """List the units in the standards folder."""
    for unit in sorted(catalogue().units, key=lambda u: (u.id, u.version)):
        click.echo(
            f"{unit.id}\tv{unit.version}\t{unit.code or '-'}\t{unit.framework}\t{unit.usage.status}\t{unit.title}"
        )


@standards.command("show")
@click.argument("code_or_id")
@click.option("--version", type=int, help="Show this version rather than the latest.")
def show(code_or_id: str, version: int | None) -> None:
    """Print one unit as an indented tree."""
    unit = catalogue().find(code_or_id, version)
    if unit is None:
        raise click.ClickException(f"no unit {code_or_id!r}{f' version {version}' if version else ''} in the catalogue")
    for line in unit_tree(unit):
        click.echo(line)


@standards.command("export-case")
@click.argument("code_or_id")
@click.option("--version", type=int, help="Export this version rather than the latest.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the package to this file rather than to standard output.",
)
def export_case(code_or_id: str, version: int | None, output: str | None) -> None:
    """Write a loaded unit version as a CASE 1.1 package (JSON), as /ims/case/v1p1/CFPackages/ID serves it."""
    require_schema()
    with database().read_sessions() as session:
        published = readable_versions(session, None)  # what anyone may read, as over the web
    found = find_version(published, code_or_id, version)
    if found is None:
        raise click.ClickException(_not_published(code_or_id, version, published))
    body = case.package(found, published, current_app.config["BASE_URL"])
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    items, associations = len(body["CFItems"]), len(body["CFAssociations"])
    click.echo(f"{found.unit.key}: {items} items and {associations} associations written to {output}")


@standards.command("import-case", with_appcontext=False)
@click.argument("package_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the draft unit file here (never over an existing file) rather than to standard output.",
)
def import_case(package_file: str, output: str | None) -> None:
    """Draft a unit standard file from a CASE 1.1 package, to review before loading; nothing is loaded. Lists what
    to check, and every problem that keeps the draft from loading (exit 1)."""
    try:
        package = json.loads(Path(package_file).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{package_file} is not a JSON file: {exc}") from exc
    try:
        draft = draft_unit(package)
    except NotAPackage as exc:
        raise click.ClickException(f"{package_file} is not a CASE package to draft a unit from: {exc}") from exc
    text = draft_text(draft, Path(package_file).name)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            with open(output, "x", encoding="utf-8") as file:
                file.write(text)
        except FileExistsError as exc:
            raise click.ClickException(f"{output} exists already: choose another name, nothing was written") from exc
        click.echo(f"drafted {draft.document['id']}@{draft.document['version']} in {output}", err=True)
    for note in draft.notes:
        click.echo(f"review: {note}", err=True)
    try:
        parse_unit(text, output or "<draft>")
    except StandardsError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo("the draft does not load yet: correct the problems above", err=True)
        sys.exit(1)


def _not_published(code_or_id: str, version: int | None, published: list[case.PublishedVersion]) -> str:
    """Why there is nothing to export, and what there is."""
    wanted = f"{code_or_id!r}" + (f" version {version}" if version else "")
    loaded = [p.unit.key for p in published if find_version([p], code_or_id) is not None]
    if loaded:
        return f"no unit {wanted} is loaded; loaded versions of it: {', '.join(loaded)}"
    if catalogue().find(code_or_id, version) is not None:
        return f"unit {wanted} is in the standards folder but not loaded: run `assessor init` (or `standards load`)"
    return f"no unit {wanted} is loaded; `assessor standards list` shows the units in the standards folder"


@standards.command("schema", with_appcontext=False)
def print_schema() -> None:
    """Print the JSON Schema of unit standard files."""
    click.echo(json.dumps(schema.json_schema(), indent=2, ensure_ascii=False))


def unit_tree(unit: Unit) -> Iterator[str]:
    """The unit as indented lines of text: everything its page shows, with the occasions each target really needs."""
    yield f"{unit.display_code} {unit.title} ({unit.key})"
    usage = f"status {unit.usage.status}" + (f" since {unit.usage.since}" if unit.usage.since else "")
    if not unit.usage.is_current:
        usage += f", replaced by {unit.usage.replaced_by}" if unit.usage.replaced_by else ", no replacement"
    facts = [unit.framework, f"version {unit.version}", usage]
    if unit.level is not None:
        facts.append(f"level {unit.level}")
    if unit.credits is not None:
        facts.append(f"{unit.credits} credits")
    facts.append(f"results {unit.results.achieved} / {unit.results.not_achieved}")
    yield "  " + "; ".join(facts)
    named = {
        "Publisher's version": unit.publisher_version,
        "Classification": unit.classification,
        "Competency field": unit.competency_field,
        "Sector": unit.sector,
        "Standard-setting body": unit.standard_setting_body,
        "Planned review": unit.review_date.isoformat() if unit.review_date else None,
    }
    for name, value in named.items():
        if value:
            yield f"  {name}: {value}"
    for prerequisite in unit.prerequisites:
        yield f"  Prerequisite: {prerequisite.unit}" + (f" {prerequisite.title}" if prerequisite.title else "")
    for dimension in unit.dimensions:
        kinds = f" (kinds: {', '.join(dimension.kinds)})" if dimension.kinds else ""
        yield f"  Occasions may have to differ in: {dimension.label}{kinds}"
    if unit.logbook:
        yield f"  Logbook: at least {unit.logbook.hours} hours of {unit.logbook.context}, verified by an assessor"
    for earlier in unit.supersedes:
        which = f"{earlier.unit}" + (f" version {earlier.version}" if earlier.version else "")
        yield f"  Supersedes: {which}" + (f" {earlier.title}" if earlier.title else "") + f" ({earlier.equivalence})"
        if earlier.note:
            yield f"    {earlier.note}"
        for m in earlier.criteria:
            yield f"    {m.source or '-'} -> {m.target or '-'}: {m.change}" + (f" ({m.note})" if m.note else "")
    if unit.purpose:
        yield from _section(unit.purpose_label, unit.purpose)
    for statement in unit.range:
        yield f"  Range: {statement}"
    yield f"  {unit.component_label}s and {unit.criteria_label.lower()}"
    for component in unit.components:
        yield f"  {unit.component_label} {component.number}: {component.title}"
        for statement in component.range:
            yield f"    Range: {statement}"
        for criterion in component.criteria:
            yield f"    {criterion.number} {criterion.text}{_occasions(unit, criterion)}"
            for statement in criterion.range:
                yield f"        Range: {statement}"
            for condition in unit.conditions_for(criterion):
                yield f"        Range of conditions, {condition.term}" + (
                    f": {condition.text}" if condition.text else ""
                )
                yield from (f"          - {item}" for item in condition.items)
    for group in unit.evidence_requirements:
        yield f"  {group.title} ({group.id})"
        if group.text:
            yield from _paragraphs(group.text, "    ")
        for item in group.items:
            yield from _item_tree(unit, item, "    ")
    if unit.assessment_conditions:
        yield from _section("Assessment conditions", unit.assessment_conditions)
    contexts = ", ".join(unit.rules.accepted_contexts) if unit.rules.accepted_contexts else "any context"
    yield f"  Evidence accepted from: {contexts}" + (f" ({unit.rules.basis})" if unit.rules.basis else "")
    yield f"  Occasions needed: {unit.rules.occasions} for each criterion and evidence item, unless stated"
    if unit.guidance:
        yield f"  {unit.guidance_label}"
    for note in unit.guidance:
        yield f"    {note.number}" + (f" {note.title}" if note.title else "")
        if note.text:
            yield from _paragraphs(note.text, "      ")
        for entry in note.items:
            yield f"      - {entry}"
        if note.closing:
            yield f"      {note.closing}"
        for definition in note.definitions:
            yield f"      {definition.term}: {definition.text}"
    if unit.foundation_skills or unit.foundation_skills_table:
        yield "  Foundation skills"
        if unit.foundation_skills:
            yield from _paragraphs(unit.foundation_skills, "    ")
        for row in unit.foundation_skills_table:
            yield f"    {row.skill}: {row.description}"
    yield f"  Source text SHA-256: {unit.source_sha256}"


def _section(title: str, text: str) -> Iterator[str]:
    yield f"  {title}"
    yield from _paragraphs(text, "    ")


def _paragraphs(text: str, indent: str) -> Iterator[str]:
    for paragraph in text.split("\n\n"):
        yield f"{indent}{paragraph}"


def _occasions(unit: Unit, target: Criterion | EvidenceItem) -> str:
    """How many occasions a criterion or item needs, where it is more than one, and what they must differ in."""
    needed = unit.occasions_for(target)
    if target.distinct:
        quota = "".join(f", at least {q.at_least} {q.kind}" for q in target.quota)
        return f" [{needed} different: {unit.dimension(target.distinct).label.lower()}{quota}]"
    return f" [{needed} occasions]" if needed > 1 else ""


def _item_tree(unit: Unit, item: EvidenceItem, indent: str) -> Iterator[str]:
    yield f"{indent}{item.id} {item.text}" + ("" if item.items else _occasions(unit, item))
    for child in item.items:
        yield from _item_tree(unit, child, indent + "  ")


@standards.command("status")
@click.argument("unit_id")
@click.argument("version", type=int)
@click.argument("status", type=click.Choice(schema.USAGE_STATUSES))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="The date it was superseded or deleted.")
@click.option("--replaced-by", help="The code of the unit that replaces it.")
@click.option("--as", "username", required=True, help="The administrator the change is recorded under.")
@with_appcontext
def change_status(
    unit_id: str, version: int, status: str, since: datetime.datetime | None, replaced_by: str | None, username: str
) -> None:
    """Change a loaded unit version's status, leaving its text and hash as they were; audited."""
    require_schema()
    with database().sessions.begin() as session:
        loaded = loaded_version(session, unit_id, version)
        if loaded is None:
            raise click.ClickException(f"no unit version {unit_id}@{version} is loaded")
        try:
            wanted = Usage(status, since.date() if since else None, replaced_by)
            set_status(session, admin_account(session, username), loaded, wanted)
        except InvalidInput as exc:
            raise click.ClickException(" ".join(exc.problems.values())) from exc
    click.echo(f"{unit_id}@{version} is now {status}.")


@standards.command("load")
@with_appcontext
def load_standards_command() -> None:
    """Register the unit versions in the standards folder that the database does not have yet."""
    require_schema()
    load_units()
