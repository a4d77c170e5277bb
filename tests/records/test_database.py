"""The database itself: migrations match the models, SQLite settings, unit versions, and the commands that manage it."""

from __future__ import annotations

import datetime
import shutil
import threading
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql, sqlite

from assessor import create_app
from assessor.accounts.operations import create_user
from assessor.accounts.queries import invitable
from assessor.core import migrate
from assessor.core.access import sees_enrolment
from assessor.core.database import Base
from assessor.core.paging import Cursor
from assessor.core.passwords import UNUSABLE
from assessor.domain.errors import StandardChanged
from assessor.domain.standards import load_catalogue
from assessor.domain.text import folded
from assessor.domain.vocabulary import Role
from assessor.models import AmongIds, Enrolment, EnrolmentProgress, NameContains, UnitVersion, User
from assessor.models.accounts import NO_PASSWORD
from assessor.progress.queries import SORTS
from assessor.standards.operations import register_units
from assessor.standards.queries import unit_of
from tests.conftest import STANDARDS, only_sqlite
from tests.server import TEST_AUDIT_KEY, TEST_CREDENTIAL_KEY


def test_migrations_produce_exactly_the_models_schema(app):
    with app.extensions["database"].engine.connect() as connection:
        opts = {
            "compare_type": True,
            "compare_server_default": True,
            "include_object": migrate.on_this_database(connection.dialect.name),
        }
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, Base.metadata) == []


def test_init_creates_and_is_idempotent(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'a.sqlite'}")
    runner = app.test_cli_runner()
    head = migrate.head_revision(app.extensions["database"].engine)
    first = runner.invoke(args=["init"], input=None)
    assert first.exit_code == 0, first.output
    assert f"database at {head} (was empty)" in first.output
    assert "loaded us_case_mgmt@1" in first.output and "loaded cscofm023@1" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert f"database at {head} (unchanged)" in second.output
    assert "nothing new to load" in second.output


def test_init_makes_the_credential_signing_key_in_the_instance_folder_once(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'a.sqlite'}", CREDENTIAL_KEY=None)
    app.instance_path = str(tmp_path / "instance")
    key = tmp_path / "instance" / "credential_key"
    first = app.test_cli_runner().invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert f"credential signing key: made ({key}); back it up with the database" in first.output
    made = key.read_text()
    assert len(bytes.fromhex(made.strip())) == 32 and key.stat().st_mode & 0o777 == 0o600
    second = app.test_cli_runner().invoke(args=["init"])
    assert f"credential signing key: kept ({key})" in second.output and key.read_text() == made
    given = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'a.sqlite'}")
    assert "credential signing key: from CREDENTIAL_KEY" in given.test_cli_runner().invoke(args=["init"]).output


def test_database_url_from_the_environment_chooses_the_database(tmp_path, monkeypatch):
    target = tmp_path / "chosen.sqlite"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("ASSESSOR_SECRET_KEY", "x")
    monkeypatch.setenv("ASSESSOR_AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.setenv("ASSESSOR_CREDENTIAL_KEY", TEST_CREDENTIAL_KEY)  # init makes none in the checkout's instance
    monkeypatch.setenv("ASSESSOR_AUDIT_CHECKPOINT_DIR", str(tmp_path / "audit-checkpoints"))
    app = create_app()
    try:
        assert app.config["DATABASE_URL"] == f"sqlite:///{target}"
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        assert target.exists()
    finally:
        app.extensions["database"].dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app, database_url):
    only_sqlite(database_url)
    with app.extensions["database"].engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_read_then_write_never_fails_with_database_locked(app, database_url):
    """Two writers that each read and then write: with BEGIN IMMEDIATE the second waits instead of failing."""
    only_sqlite(database_url)
    sessions = app.extensions["database"].sessions
    with sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            start.wait()
            with sessions.begin() as session:
                session.scalar(sa.select(sa.func.count(UnitVersion.id)))
                time.sleep(0.2)
                create_user(session, None, name, name, Role.TRAINEE, "long enough password")
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as session:
        assert sorted(session.scalars(sa.select(User.username))) == ["first", "second"]


def test_changed_text_under_a_loaded_version_is_refused(app, db, tmp_path):
    register_units(db, app.extensions["catalogue"])
    db.commit()
    folder = tmp_path / "standards"
    shutil.copytree(STANDARDS, folder, ignore=shutil.ignore_patterns("*.md"))
    text = (folder / "cscofm023.yaml").read_text(encoding="utf-8")
    (folder / "cscofm023.yaml").write_text(
        text.replace("Complete all relevant reporting procedures.", "Complete all reporting."), encoding="utf-8"
    )
    with pytest.raises(StandardChanged, match="cscofm023@1 differs from the text already loaded.*raise the version"):
        register_units(db, load_catalogue(folder))
    db.rollback()
    (folder / "cscofm023.yaml").write_text(
        text.replace("version: 1", "version: 2").replace(
            "Complete all relevant reporting procedures.", "Complete all reporting."
        ),
        encoding="utf-8",
    )
    added = register_units(db, load_catalogue(folder))
    assert [v.key for v in added] == ["cscofm023@2"]
    old = db.scalars(sa.select(UnitVersion).where(UnitVersion.unit_id == "cscofm023", UnitVersion.version == 1)).one()
    assert "Complete all relevant reporting procedures." in old.source_text
    assert unit_of(old).criteria()[-1].text == "Complete all relevant reporting procedures."


def test_standards_load_command_reports_a_changed_version(make_app, tmp_path):
    folder = tmp_path / "standards"
    shutil.copytree(STANDARDS, folder, ignore=shutil.ignore_patterns("*.md"))
    runner = make_app(STANDARDS_DIR=str(folder)).test_cli_runner()
    assert runner.invoke(args=["standards", "load"]).exit_code == 0
    path = folder / "us_case_mgmt.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("professionalism, empathy.", "professionalism."), encoding="utf-8"
    )
    runner = make_app(STANDARDS_DIR=str(folder)).test_cli_runner()
    result = runner.invoke(args=["standards", "load"])
    assert result.exit_code == 1
    assert "us_case_mgmt@1 differs from the text already loaded" in result.output


def test_users_create_with_password_file(runner, db, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("a long and careful password\n")
    result = runner.invoke(
        args=["users", "create", "--role", "assessor", "--name", "Sam Patel", "--password-file", str(secret), "Sam"]
    )
    assert result.exit_code == 0, result.output
    assert "created assessor sam" in result.output
    user = db.scalars(sa.select(User).where(User.username == "sam")).one()
    assert user.display_name == "Sam Patel" and user.password_hash.startswith("$argon2id$")
    db.rollback()  # end the read so that the command below can write
    again = runner.invoke(args=["users", "create", "--role", "assessor", "--password-file", str(secret), "sam"])
    assert again.exit_code == 1 and "The username 'sam' is taken." in again.output


def test_users_create_never_waits_for_input_off_a_terminal(runner):
    result = runner.invoke(args=["users", "create", "--role", "trainee", "kim"])
    assert result.exit_code == 2
    assert "give the password with --password-file" in result.output


def test_users_create_refuses_a_short_password(runner, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("short\n")
    result = runner.invoke(args=["users", "create", "--role", "trainee", "--password-file", str(secret), "kim"])
    assert result.exit_code == 1 and "Use at least 12 characters." in result.output


def test_commands_on_an_uninitialised_database_say_so(make_app, tmp_path):
    runner = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'none.sqlite'}").test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "run `assessor init` first" in result.output


def test_demo_creates_every_role_and_a_completed_unit(runner, db):
    result = runner.invoke(args=["demo", "--password", "demo password 1"])
    assert result.exit_code == 0, result.output
    assert "admin, coordinator, assessor, qa, trainee, trainee2" in result.output
    roles = dict(db.execute(sa.select(User.username, User.role)).all())
    assert {k: v.value for k, v in roles.items()} == {
        "admin": "admin",
        "coordinator": "coordinator",
        "assessor": "assessor",
        "qa": "quality_assurer",
        "trainee": "trainee",
        "trainee2": "trainee",
    }
    from assessor.models import CompletionRecord, Enrolment, SampleReview, SamplingPlan

    assert db.scalar(sa.select(sa.func.count(Enrolment.id))) == 6  # both trainees in both units; Tūī in two examples
    assert db.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
    assert db.scalar(sa.select(sa.func.count(SamplingPlan.id))) == 1  # its sample proposed, not yet confirmed
    assert db.scalar(sa.select(sa.func.count(SampleReview.id))) >= 1
    db.rollback()  # end the read so that the command below can write
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def plan_of(app, query: sa.Select, avoid: tuple[str, ...] = ("seqscan",), literal: bool = False) -> str:
    """The database's plan for `query`: PostgreSQL's EXPLAIN with the plans in `avoid` turned off (a test's tables
    hold a handful of rows, so only a plan no index can serve shows them), or SQLite's EXPLAIN QUERY PLAN. Sent with
    the statement's own bound parameters, as the application sends it, unless `literal`."""
    engine = app.extensions["database"].engine
    options = {"literal_binds": True} if literal else {"render_postcompile": True}
    compiled = query.compile(dialect=engine.dialect, compile_kwargs=options)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for other in avoid:
                connection.exec_driver_sql(f"SET LOCAL enable_{other} = off")
            return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
        values = tuple(compiled.params[name] for name in compiled.positiontup or ())
        return " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values))


def test_searching_names_is_served_by_a_trigram_index_on_either_database(app, database_url):
    plan = plan_of(app, sa.select(User.id).where(NameContains("ngati")), literal=True)
    if database_url.startswith("postgresql"):
        assert "ix_user_account_search_name" in plan
    else:
        assert "SCAN user_search VIRTUAL TABLE INDEX" in plan


# An empty table: every other plan ruled out, so that a sort shows only if no index can serve.
NOT_AN_INDEX = ("seqscan", "bitmapscan", "sort")
# The sorts kept on enrolment_progress: each has an index of its own.
PROGRESS_SORTS = [name for name, keys in SORTS.items() if all(k.column.class_ is EnrolmentProgress for k in keys)]


@pytest.mark.parametrize("sort", PROGRESS_SORTS)
def test_each_sort_kept_with_the_tally_is_served_by_an_index_without_sorting(app, database_url, sort):
    """The keys alone in their order, both ways: the database walks an index instead of sorting the rows."""
    assert set(PROGRESS_SORTS) == set(SORTS)  # every sort of the lists
    for forward in (True, False):
        keys = sa.select(*(k.column for k in SORTS[sort])).order_by(*(k.ordered(forward) for k in SORTS[sort]))
        plan = plan_of(app, keys.limit(100), avoid=NOT_AN_INDEX, literal=True)
        if database_url.startswith("postgresql"):
            assert "Sort" not in plan and "Index" in plan, plan
        else:
            assert "TEMP B-TREE" not in plan and "COVERING INDEX" in plan, plan


SOME = {str: "m", int: 5, datetime.date: datetime.date(2026, 1, 1)}  # a key value of each kind


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_a_page_deep_in_a_list_seeks_to_its_cursor_in_the_sorts_index(app, database_url, sort):
    """The cursor's leading bound is one comparison on the first key, which the index seeks to: a page deep in the
    list reads a page of the index, not everything before it (as `a = v OR a > v` did on PostgreSQL). Going back
    toward the NULLs of a key that has them (a Previous link in the last-evidence sort) is the one bound that stays
    two ranges, and is left out."""
    keys = SORTS[sort]
    for forward in (True,) if keys[0].nullable else (True, False):
        cursor = Cursor(tuple(SOME[k.kind] for k in keys), forward, 500)
        query = sa.select(*(k.column for k in keys)).where(cursor.condition(keys))
        plan = plan_of(app, query.order_by(*(k.ordered(forward) for k in keys)).limit(51), NOT_AN_INDEX, literal=True)
        if database_url.startswith("postgresql"):
            assert "Index Cond" in plan and "Sort" not in plan, plan
        else:
            assert "SEARCH" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ASSESSOR])
def test_a_long_list_is_walked_in_its_order_on_sqlite_not_sorted(app, database_url, sort, role):
    """A list known to be long asks of each row whether the user sees it, so that SQLite walks the sort's index and
    stops after a page instead of sorting every enrolment the user sees (PostgreSQL plans from its statistics)."""
    only_sqlite(database_url)
    user = User(id=7, username="u", display_name="U", password_hash="!", role=role, active=True)
    keys = SORTS[sort]
    query = (
        sa.select(*(k.column for k in keys))
        .select_from(Enrolment)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .where(sees_enrolment(user, many=True))
        .order_by(*(k.ordered(True) for k in keys))
        .limit(51)
    )
    plan = plan_of(app, query, literal=True)
    assert "TEMP B-TREE" not in plan and "CORRELATED" in plan, plan


def test_the_enrolments_carried_over_to_one_are_found_on_their_own_small_index(app, database_url):
    """Every view of an enrolment page asks which enrolments were carried over to it: with the statement's own bound
    parameter, each database reads the partial index of carried-over enrolments instead of every enrolment."""
    plan = plan_of(app, sa.select(Enrolment.id).where(Enrolment.transferred_to_id == 5))
    assert "ix_enrolment_transferred_to_id" in plan, plan


def test_accounts_without_a_password_are_counted_from_their_own_small_index(app, database_url):
    """The coordinator's to-do list counts them on every view: with the statement's own bound parameters, as the
    application sends it, each database reads the partial index instead of every account."""
    assert str(NO_PASSWORD) == f"password_hash = '{UNUSABLE}'"
    admin = User(username="a", display_name="A", password_hash="!", role=Role.ADMIN, active=True)
    invited = invitable(admin)
    assert "IN (" in str(invited.compile(compile_kwargs={"render_postcompile": True}))  # roles an admin may invite
    plan = plan_of(app, sa.select(sa.func.count()).select_from(invited.subquery()))
    assert "ix_user_account_no_password" in plan, plan


def test_a_batch_of_ids_finds_the_same_rows_on_either_database_and_is_one_parameter_on_postgresql(db, database_url):
    made = [User(username=f"u{n}", display_name=f"U {n}", password_hash="!", role=Role.TRAINEE) for n in range(3)]
    db.add_all(made)
    db.flush()
    wanted = [made[0].id, made[2].id, made[2].id + 1_000_000]  # one id no row has
    assert set(db.scalars(sa.select(User.id).where(AmongIds(User.id, wanted)))) == {made[0].id, made[2].id}
    assert list(db.scalars(sa.select(User.id).where(AmongIds(User.id, [])))) == []
    statement = sa.select(User.id).where(AmongIds(User.id, list(range(1, 1001)))).compile(dialect=db.get_bind().dialect)
    if database_url.startswith("postgresql"):
        assert "= ANY (" in str(statement) and len(statement.params) == 1  # the same text for every batch
    else:
        assert " IN (" in str(statement)


@pytest.mark.parametrize(
    "condition", [AmongIds(User.id, [1, 2]), NameContains("ngati"), NameContains("ng")], ids=["ids", "name", "short"]
)
def test_a_condition_of_the_projects_own_is_sent_as_it_stands_so_that_sqlite_can_use_an_index(app, condition):
    """SQLite has no boolean type: a boolean expression not known to be a condition is sent as `(...) = 1`, which no
    index serves (the evidence register read every mapping for each batch of a thousand pieces of evidence)."""
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(sa.select(User.id).where(condition).compile(dialect=dialect))
        assert not sql.rstrip().endswith("= 1"), sql
    if app.extensions["database"].engine.dialect.name == "sqlite":
        ids = list(range(1, 1001))
        plan = plan_of(app, sa.select(EnrolmentProgress.tally).where(AmongIds(EnrolmentProgress.enrolment_id, ids)))
        assert plan.startswith("SEARCH"), plan


@pytest.mark.parametrize("piece", ["hēmi", "HEMI", "emi walk", "hemi_walker", "Hē"])
def test_a_name_is_found_by_any_piece_of_it_and_after_a_rename_only_by_its_new_name(app, piece):
    wanted = folded(piece)
    with app.extensions["database"].sessions.begin() as session:
        user = User(username="hemi_walker", display_name="Hēmi Walker", password_hash="!", role=Role.TRAINEE)
        session.add(user)
        session.flush()
        assert session.scalars(sa.select(User.id).where(NameContains(wanted))).all() == [user.id]
        user.display_name, user.username = "Rāwiri Kingi", "rawiri"
        session.flush()
        assert session.scalars(sa.select(User.id).where(NameContains(wanted))).all() == []
        assert session.scalars(sa.select(User.id).where(NameContains("rawiri king"))).all() == [user.id]
        assert session.scalars(sa.select(User.id).where(NameContains('ri "k'))).all() == []
