"""Accounts and sign-in throttling."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from assessor.core.database import Base
from assessor.domain.text import folded
from assessor.domain.vocabulary import Role, TokenPurpose
from assessor.models.columns import Timestamp, enum_column, pending_import_index, utcnow

NO_PASSWORD = sa.text("password_hash = '!'")  # passwords.UNUSABLE: an account that has never set one


class User(Base):
    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role, "role"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # Part of every session cookie; a new token ends every session of the user on the server side.
    session_token: so.Mapped[str] = so.mapped_column(sa.String(64), default=lambda: secrets.token_urlsafe(32))
    # The second factor, when set up: the TOTP secret encrypted with a key derived from the app's secret key, and the
    # last time step whose code was used (a code works once).
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    totp_last_step: so.Mapped[int | None]
    # The daily e-mail of their to-do list: wanted or not, and the day the last one was done.
    digest: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    digest_sent_on: so.Mapped[datetime.date | None]
    # The name and username without case or diacritics, for search ("tui" finds "Tūī"); kept by the events below.
    search_name: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # The import still writing this account (see models.pending): nobody else sees it until that import is done.
    pending_import_id: so.Mapped[int | None]

    __table_args__ = (
        pending_import_index("user_account"),
        # A trigram index on PostgreSQL serves "contains" searches (NameContains; SQLite has NAME_INDEX).
        sa.Index(
            "ix_user_account_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
        # The few accounts still waiting for their first password (the coordinator's to-do list counts them).
        sa.Index("ix_user_account_no_password", "id", sqlite_where=NO_PASSWORD, postgresql_where=NO_PASSWORD),
    )

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """End every session of this user, on every device."""
        self.session_token = secrets.token_urlsafe(32)


class LoginFailure(Base):
    """A failed sign-in, kept briefly so that throttling holds across server processes."""

    __tablename__ = "login_failure"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    address: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow, index=True)


def search_name_of(display_name: str, username: str) -> str:
    """What a user is found by."""
    return folded(f"{display_name} {username}")


@sa.event.listens_for(User, "before_insert")
@sa.event.listens_for(User, "before_update")
def _keep_search_name(_mapper: object, _connection: object, user: User) -> None:
    user.search_name = search_name_of(user.display_name, user.username)


# On SQLite, a full-text table with the trigram tokenizer indexes every search_name (migration 0020 makes it and the
# triggers that keep it): its trigrams find a piece of a name the way PostgreSQL's trigram index does.
NAME_INDEX = "user_search"
TRIGRAM = 3  # a piece shorter than a trigram has none to look up: it is found by reading the names


class NameContains(sa.ColumnElement[bool]):
    """Accounts whose search_name contains `folded` (already folded), on each database's trigram index."""

    inherit_cache = False  # the statement depends on the piece's length
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition as it stands: SQLite must not be sent `(... IN ...) = 1`

    def __init__(self, folded: str):
        self.folded = folded

    def read_through(self) -> sa.ColumnElement[bool]:
        return User.search_name.contains(self.folded, autoescape=True)


@compiles(NameContains)
def _contains(element: NameContains, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.read_through(), **kw)


@compiles(NameContains, "sqlite")
def _contains_on_sqlite(element: NameContains, compiler: SQLCompiler, **kw: Any) -> str:
    if len(element.folded) < TRIGRAM:
        return compiler.process(element.read_through(), **kw)
    phrase = '"' + element.folded.replace('"', '""') + '"'  # the piece as one phrase: its characters, no operators
    found: sa.Select[Any] = sa.select(sa.literal_column("rowid")).select_from(sa.table(NAME_INDEX))
    return compiler.process(User.id.in_(found.where(sa.literal_column(NAME_INDEX).op("MATCH")(phrase))), **kw)


class AccountToken(Base):
    """A single-use way in to set a password: a link sent by e-mail, or a code printed for a trainee without e-mail.
    Only a keyed hash of it is kept; it expires, and it dies when used or when the account's password changes."""

    __tablename__ = "account_token"
    __table_args__ = (sa.Index("ix_account_token_user_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    purpose: so.Mapped[TokenPurpose] = so.mapped_column(enum_column(TokenPurpose, "token_purpose"))
    digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    printed: so.Mapped[bool] = so.mapped_column(default=False)  # a code handed over on paper, not a link by e-mail
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    expires_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp)
    used_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])


class RecoveryCode(Base):
    """A single-use code to sign in without the authenticator; only its keyed hash is kept."""

    __tablename__ = "recovery_code"
    __table_args__ = (sa.Index("ix_recovery_code_user_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)


class UserSession(Base):
    """One signed-in browser, for the page where people see where they are signed in. It lives while the account's
    session token is the one it began with (signing out everywhere, a new password or a new role change the token),
    it is not ended on its own, and it is within the idle and absolute limits."""

    __tablename__ = "user_session"
    __table_args__ = (sa.Index("ix_user_session_user_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    token: so.Mapped[str] = so.mapped_column(sa.String(64))  # the account's session token it belongs to
    started_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    last_seen_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    ended_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    address: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
