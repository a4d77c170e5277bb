"""Issuing a completion record as a signed Open Badges credential, signing the status list, and checking a
credential someone presents; issuing and downloading audited.

Every address in a credential is made from BASE_URL, never from the request's Host: a credential names its issuer for
good, and a forged Host must not put another site in it.
"""

from __future__ import annotations

import datetime
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, require
from assessor.credentials import documents, proof
from assessor.credentials.keys import issuer_keys
from assessor.domain import case, policy
from assessor.domain.errors import ChangedMeanwhile, InvalidInput
from assessor.mail.sending import link
from assessor.models import CompletionRecord, IssuedCredential, Revocation, UnitVersion, User
from assessor.standards.queries import unit_of

MAX_BYTES = 256 * 1024  # a credential pasted or uploaded to be checked; ours are a few kilobytes


def case_document_url(unit_version: UnitVersion) -> str:
    """The address of the unit version's CASE CFDocument, which the achievement aligns to."""
    return case.document_uri(_base(), unit_version.unit_id, unit_version.version)


def _base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def issuer_name() -> str:
    """The issuer's name: the organisation's, else the application's."""
    return str(current_app.config["ORGANISATION_NAME"] or "Assessor")


def addresses(unit_version: UnitVersion | None = None, status_list: int = 1) -> documents.Addresses:
    """Where the issuer publishes what its credentials refer to."""
    issuer = link("credentials.issuer")
    return documents.Addresses(
        issuer=issuer,
        key_prefix=f"{issuer}/keys/",
        achievement=(
            link("standards.show_unit", unit_id=unit_version.unit_id, version=unit_version.version)
            if unit_version is not None
            else ""
        ),
        alignment=case_document_url(unit_version) if unit_version is not None else "",
        status_list=link("credentials.status_list", number=status_list),
    )


def now_text() -> str:
    """The time now as a credential writes it: UTC, whole seconds."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_of(session: so.Session, actor: User, record: CompletionRecord) -> IssuedCredential:
    """The record's credential, issued (signed and stored, once) the first time it is asked for; only the trainee
    asks, and never for a revoked record."""
    require(
        policy.may_take_credential(actor_of(actor), enrolment_facts(record.enrolment)),
        "Only the trainee downloads the credential of their completion record.",
    )
    issued = session.scalar(sa.select(IssuedCredential).where(IssuedCredential.record_id == record.id))
    if issued is not None:
        return issued
    if record.revocation is not None:
        raise InvalidInput({"record": "This completion record is revoked: it has no credential."})
    return _issue(session, actor, record)


def _issue(session: so.Session, actor: User, record: CompletionRecord) -> IssuedCredential:
    for _attempt in range(3):
        issued = _signed(session, actor, record)
        try:
            with session.begin_nested():  # the same record issued twice at once, or its position taken meanwhile
                session.add(issued)
                session.flush()
        except sa.exc.IntegrityError:
            if issued in session:
                session.expunge(issued)
            found = session.scalar(sa.select(IssuedCredential).where(IssuedCredential.record_id == record.id))
            if found is not None:
                return found  # the other request's: one credential per record, handed to both
            continue
        after = {
            "credential": issued.credential_id,
            "status_list": issued.status_list,
            "status_index": issued.status_index,
            "key": issued.public_key,
        }
        audit.record(session, actor, "credential.issue", "completion_record", record.id, None, after)
        return issued
    raise ChangedMeanwhile("credential")


def _signed(session: so.Session, actor: User, record: CompletionRecord) -> IssuedCredential:
    """A new credential of the record, signed, at a free position of the status list."""
    list_number, index = _free_status_index(session)
    version = record.enrolment.unit_version
    where = addresses(version, list_number)
    trainee = record.enrolment.trainee
    earner = documents.Earner(trainee.display_name, trainee.email, secrets.token_hex(16))
    award = documents.Award(record.result, record.signed_on.isoformat(), index)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    issued_at = now_text()
    unsigned = documents.open_badge_credential(
        credential_id, unit_of(version), earner, award, where, issuer_name(), issued_at
    )
    keys = issuer_keys()
    signed = proof.sign(unsigned, keys.signing, where.verification_method(keys.current), issued_at)
    signed["proof"] = [signed["proof"]]  # a set of one proof: Open Badges' JSON Schema asks for an array
    return IssuedCredential(
        record_id=record.id,
        credential_id=credential_id,
        status_list=list_number,
        status_index=index,
        public_key=keys.current,
        document=signed,
        issued_by_id=actor.id,
    )


def _free_status_index(session: so.Session) -> tuple[int, int]:
    """A random unused position in the newest status list with room (a new list when it is full): random, as the
    Bitstring Status List specification advises, so that positions tell nothing of the order of issue."""
    size = documents.STATUS_LIST_BITS
    list_number = 1 + (session.scalar(sa.select(sa.func.count(IssuedCredential.id))) or 0) // size
    in_list = sa.select(IssuedCredential.status_index).where(IssuedCredential.status_list == list_number)
    used = set(session.scalars(in_list))
    while True:
        index = secrets.randbelow(size)
        if index not in used:
            return list_number, index


def downloaded(session: so.Session, actor: User, issued: IssuedCredential) -> str:
    """The credential as the file handed out, the download audited."""
    after = {"credential": issued.credential_id}
    audit.record(session, actor, "credential.download", "completion_record", issued.record_id, None, after)
    return json.dumps(issued.document, indent=2, ensure_ascii=False) + "\n"


def revoked_indexes(session: so.Session, list_number: int) -> list[int]:
    """The positions set in a status list: those of credentials whose completion record is revoked."""
    query = (
        sa.select(IssuedCredential.status_index)
        .join(Revocation, Revocation.record_id == IssuedCredential.record_id)
        .where(IssuedCredential.status_list == list_number)
    )
    return sorted(session.scalars(query))


def status_list_credential(session: so.Session, list_number: int) -> dict[str, Any]:
    """The signed BitstringStatusListCredential of one list, as it stands now."""
    where = addresses(status_list=list_number)
    valid_from = now_text()
    unsigned = documents.status_list_credential(where, revoked_indexes(session, list_number), issuer_name(), valid_from)
    keys = issuer_keys()
    return proof.sign(unsigned, keys.signing, where.verification_method(keys.current), valid_from)


def issuer_document() -> dict[str, Any]:
    """The issuer's Profile and controller document."""
    return documents.issuer_document(addresses(), issuer_name(), issuer_keys().published)


def verification_method(public_key: str) -> dict[str, Any] | None:
    """One of the issuer's published keys as a Multikey document; None for a key it never published."""
    if public_key not in issuer_keys().published:
        return None
    return documents.verification_method(addresses(), public_key)


# Checking a credential someone presents.


@dataclass(frozen=True)
class Verdict:
    """What a presented credential turned out to be: `genuine`, `revoked`, `tampered` (its proof does not hold),
    `not_ours` (signed by no key of this issuer), `unreadable` (not a credential we can check), with what it says."""

    verdict: str
    reason: str = ""
    name: str = ""
    unit_code: str = ""
    unit_title: str = ""
    result: str = ""
    signed_on: str = ""
    issued_at: str = ""


def read_presented(data: bytes) -> dict[str, Any]:
    """A presented credential's JSON; InvalidInput saying why it is not one."""
    if len(data) > MAX_BYTES:
        raise InvalidInput({"credential": f"That is larger than any credential ({MAX_BYTES // 1024} KB at most)."})
    if not data.strip():
        raise InvalidInput({"credential": "Paste a credential or choose its file."})
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = "That is not JSON: a credential is a .json file, pasted or uploaded whole."
        raise InvalidInput({"credential": message}) from None
    if not isinstance(document, dict):
        raise InvalidInput({"credential": "That is JSON but not a credential (a credential is a JSON object)."})
    return document


def check_presented(session: so.Session, document: dict[str, Any]) -> Verdict:
    """Whether a credential is one this issuer signed, unchanged since, and whether its record is revoked."""
    keys = issuer_keys()
    prefix = addresses().key_prefix

    def public_key_of(method: str) -> Any:
        return keys.public_key(method.removeprefix(prefix)) if method.startswith(prefix) else None

    try:
        checked = proof.check(document, public_key_of)
    except proof.ProofError as exc:
        return Verdict("unreadable", exc.reason)
    except (TypeError, ValueError, KeyError):
        return Verdict("unreadable", "malformed")
    if not checked.verification_method.startswith(prefix) or public_key_of(checked.verification_method) is None:
        return Verdict("not_ours")
    if not checked.valid:
        return Verdict("tampered")
    issued = session.scalar(sa.select(IssuedCredential).where(IssuedCredential.credential_id == document.get("id")))
    if issued is None:
        return Verdict("unreadable", "unknown_credential")
    record = issued.record
    facts = Verdict(
        "revoked" if record.revocation is not None else "genuine",
        name=record.enrolment.trainee.display_name,
        unit_code=record.enrolment.unit_version.code or "",
        unit_title=record.enrolment.unit_version.title,
        result=record.result,
        signed_on=record.signed_on.isoformat(),
        issued_at=str(document.get("validFrom", "")),
    )
    return facts
