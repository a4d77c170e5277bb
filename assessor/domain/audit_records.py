"""What the audit trail says each record is: the state of every record, folded from the events in chain order, to set
beside the rows the database holds now.

The operations record each change with the state it leaves (`audit_states`); the last such state of a record is what
its row must still say. A row the trail never recorded was inserted outside the application, a row it recorded and
that is gone was deleted outside it, and a row that differs was changed outside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from assessor.domain.audit_chain import Rewrite, canonical

ACCOUNT = "account"
COHORT = "cohort"
UNIT_VERSION = "unit version"
ENROLMENT = "enrolment"
EVIDENCE = "evidence"
ATTACHMENT = "attachment"
JUDGEMENT = "judgement"
ACKNOWLEDGEMENT = "acknowledgement"
COMPLETION = "completion record"
REVOCATION = "revocation"
CREDIT = "credit"
LOGBOOK = "logbook entry"
KINDS = (
    ACCOUNT,
    COHORT,
    UNIT_VERSION,
    ENROLMENT,
    EVIDENCE,
    ATTACHMENT,
    JUDGEMENT,
    ACKNOWLEDGEMENT,
    COMPLETION,
    REVOCATION,
    CREDIT,
    LOGBOOK,
)

# The actions whose `after` is the whole state of an account, an enrolment, a piece of evidence.
ACCOUNT_ACTIONS = frozenset({"user.create", "user.update", "user.activate", "user.deactivate"})
ENROLMENT_ACTIONS = frozenset(
    {
        "enrolment.create",
        "enrolment.assign",
        "enrolment.withdraw",
        "enrolment.status",
        "enrolment.complete",
        "enrolment.reopen",
        "enrolment.transfer",
    }
)
CREDIT_ACTIONS = frozenset({"credit.record", "credit.withdraw"})
LOGBOOK_ACTIONS = frozenset({"logbook.log", "logbook.verify", "logbook.carry_over"})
# What an event says beside a record's state: why it was withdrawn, where a move came from or went.
BESIDE_THE_STATE = ("reason", "carried_from", "transferred_to")
EVIDENCE_ACTIONS = frozenset({"evidence.record", "evidence.edit"})
ERASE = "evidence.erase"  # its `after`: the evidence's state, its attachments' states, and the events it rewrote
SIGN_OFF = "completion.sign_off"
REVOKE = "completion.revoke"
ENROLMENT_COMPLETE = "enrolment.complete"
# An import that failed part-way removed what it had written (never seen by anyone): its `after` lists the records.
IMPORT_UNDO = "import.undo"
UNDONE = {"enrolments": ENROLMENT, "accounts": ACCOUNT, "cohorts": COHORT}

PRESENT = ""  # the state of a record whose existence is all the trail says (an acknowledgement)

Key = Hashable


@dataclass(frozen=True)
class Change:
    """What one event says of one record: its state after the event (canonical JSON), or None when it is gone."""

    kind: str
    key: Key
    state: str | None


def changes(action: str, entity_type: str, entity_id: str, before: str, after: str) -> Iterator[Change]:
    """The records one event sets, with the state it leaves each in; nothing for events that set no record."""
    if action in EVIDENCE_ACTIONS and entity_type == "evidence":
        yield Change(EVIDENCE, int(entity_id), after)
    elif action == ERASE and entity_type == "evidence":
        erasure = json.loads(after)
        yield Change(EVIDENCE, int(entity_id), canonical(erasure["state"]))
        for attachment in erasure["attachments"]:
            state = dict(attachment)
            yield Change(ATTACHMENT, state.pop("attachment"), canonical(state))
    elif action.startswith("mapping.") and entity_type == "evidence":
        if action == "mapping.remove":
            yield Change(JUDGEMENT, json.loads(before)["mapping"], None)
        elif action == "mapping.carry_over":
            state = _without(json.loads(after), BESIDE_THE_STATE)
            yield Change(JUDGEMENT, state["mapping"], judgement_state(canonical(state), int(entity_id)))
        else:
            yield Change(JUDGEMENT, json.loads(after)["mapping"], judgement_state(after, int(entity_id)))
    elif action in ENROLMENT_ACTIONS and entity_type == "enrolment":
        yield Change(ENROLMENT, int(entity_id), canonical(_without(json.loads(after), BESIDE_THE_STATE)))
    elif action in CREDIT_ACTIONS and entity_type == "credit":
        yield Change(CREDIT, int(entity_id), after)
    elif action in LOGBOOK_ACTIONS and entity_type == "logbook_entry":
        yield Change(LOGBOOK, int(entity_id), canonical(_without(json.loads(after), BESIDE_THE_STATE)))
    elif action == "evidence.acknowledge" and entity_type == "evidence":
        yield Change(ACKNOWLEDGEMENT, (int(entity_id), json.loads(after)["version"]), PRESENT)
    elif action == "attachment.add" and entity_type == "evidence":
        state = json.loads(after)
        yield Change(ATTACHMENT, state.pop("attachment"), canonical({**state, "evidence": int(entity_id)}))
    elif action in ACCOUNT_ACTIONS and entity_type == "user":
        yield Change(ACCOUNT, int(entity_id), after)
    elif action == SIGN_OFF and entity_type == "completion_record":
        yield Change(COMPLETION, int(entity_id), after)
    elif action == REVOKE and entity_type == "completion_record":
        yield Change(REVOCATION, int(entity_id), after)
    elif action == "cohort.create" and entity_type == "cohort":
        yield Change(COHORT, int(entity_id), cohort_state_text(json.loads(after)))
    elif action == "unit_version.load" and entity_type == "unit_version":
        yield Change(UNIT_VERSION, int(entity_id), after)
    elif action == IMPORT_UNDO and entity_type == "import":
        undone = json.loads(after)
        for name, kind in UNDONE.items():
            for key in undone[name]:
                yield Change(kind, int(key), None)


def _without(state: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in keys}


def rewrites(seq: int, after: str) -> list[Rewrite]:
    """The events an erasure event (number `seq`, its `after`) rewrote, as it vouches for them."""
    return [Rewrite(int(r["seq"]), str(r["hash"]), str(r["rewritten"]), seq) for r in json.loads(after)["events"]]


def judgement_state(mapping_state: str, evidence_id: int) -> str:
    """A mapping's state (canonical JSON) with the evidence it maps: moving a judgement to other evidence changes it
    too. Spliced in rather than parsed and written again: there are a great many judgements."""
    return (
        f'{{"evidence":{evidence_id},{mapping_state[1:]}' if mapping_state != "{}" else f'{{"evidence":{evidence_id}}}'
    )


def cohort_state_text(state: dict[str, Any]) -> str:
    """A cohort's state with its coordinators in a fixed order."""
    return canonical({**state, "coordinators": sorted(state["coordinators"])})


def digest(state: str) -> bytes:
    """A short fingerprint of a state, so that a million records' states fit in memory."""
    return hashlib.blake2b(state.encode(), digest_size=16).digest()


class RecordedStates:
    """The last state the trail gives each record, as fingerprints, folded one event at a time in chain order."""

    def __init__(self) -> None:
        self.states: dict[str, dict[Key, bytes | None]] = {kind: {} for kind in KINDS}
        self.unreadable: list[int] = []  # seqs of events whose states could not be read

    def add(self, seq: int, action: str, entity_type: str, entity_id: str, before: str, after: str) -> None:
        """Fold in one event."""
        try:
            for change in changes(action, entity_type, entity_id, before, after):
                self.states[change.kind][change.key] = None if change.state is None else digest(change.state)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.unreadable.append(seq)


@dataclass(frozen=True)
class Disagreement:
    """A record whose row and trail disagree: `problem` is "inserted", "deleted" or "changed"."""

    kind: str
    key: Key
    problem: str


class Comparison:
    """Rows set beside the trail's states, one kind at a time: call `row` for every row of the kind, then `rest`."""

    def __init__(self, recorded: RecordedStates, kind: str):
        self.kind = kind
        self.expected = dict(recorded.states[kind])

    def row(self, key: Key, state: str) -> Disagreement | None:
        """One row as it is now; a disagreement if the trail says otherwise."""
        found = self.expected.pop(key, None)
        if found is None:
            return Disagreement(self.kind, key, "inserted")
        if found != digest(state):
            return Disagreement(self.kind, key, "changed")
        return None

    def rest(self) -> Iterator[Disagreement]:
        """The records the trail says exist that had no row."""
        for key, state in self.expected.items():
            if state is not None:
                yield Disagreement(self.kind, key, "deleted")


def differing_fields(recorded: str, current: str) -> list[str]:
    """The fields in which two states differ, by name."""
    before, now = json.loads(recorded), json.loads(current)
    if not isinstance(before, dict) or not isinstance(now, dict):
        return []
    return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))


def last_state(events: Iterable[tuple[int, str, str, str, str, str]], kind: str, key: Key) -> tuple[int, str | None]:
    """The seq and state of the last event, of (seq, action, entity_type, entity_id, before, after), that sets the
    record; (0, None) when none does."""
    found: tuple[int, str | None] = (0, None)
    for seq, action, entity_type, entity_id, before, after in events:
        try:
            for change in changes(action, entity_type, entity_id, before, after):
                if change.kind == kind and change.key == key:
                    found = (seq, change.state)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return found
