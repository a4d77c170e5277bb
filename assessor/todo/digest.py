"""The daily e-mail of each person's to-do list, sent by the worker's hourly chore once a day after DIGEST_HOUR (UTC),
to those who have an e-mail address and have not turned it off; nobody is sent an empty one."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from flask import current_app

from assessor.core.database import database
from assessor.core.jobs import every_hour
from assessor.mail import sending
from assessor.models import User, utcnow
from assessor.todo.queries import to_do

BATCH = 200  # people per transaction


@every_hour
def send_digests() -> None:
    """Today's digests, once the hour has come; each person at most once a day."""
    now = utcnow()
    if now.hour < int(current_app.config["DIGEST_HOUR"]):
        return
    sent_before = sa.or_(User.digest_sent_on.is_(None), User.digest_sent_on < now.date())
    due = sa.select(User).where(User.active, User.digest, User.email.is_not(None), sent_before).order_by(User.id)
    while True:
        with database().sessions.begin() as session:
            people = session.scalars(due.limit(BATCH)).all()
            for person in people:
                digest_for(session, person, now.date())
        if len(people) < BATCH:
            return


def digest_for(session: sa.orm.Session, person: User, today: datetime.date) -> None:
    """Write `person`'s digest, if anything waits for them, and note that today's is done."""
    waiting = to_do(session, person, today, int(current_app.config["STALE_AFTER_DAYS"]))
    if not waiting.empty:
        sending.write(
            session,
            person,
            "digest",
            todo=waiting,
            stale_days=current_app.config["STALE_AFTER_DAYS"],
            home=sending.link("progress.enrolments"),
            settings=sending.link("accounts.account"),
            link=sending.link,
        )
    person.digest_sent_on = today
