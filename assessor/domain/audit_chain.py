"""The hash chain that makes the audit trail tamper-evident: how an event's hash is made and how a chain is checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainedEvent:
    """The fields of an audit event that its hash covers, with the hashes stored beside them."""

    seq: int
    occurred_at: str
    actor_id: int | None
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: str
    after: str
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which a chain stops being intact, and why (a code)."""

    seq: int
    problem: str  # "missing_before", "out_of_order", "wrong_link", "altered"


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces, so the same data always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, event: ChainedEvent) -> str:
    """The hash of an event, chained to the hash of the event before it."""
    body = canonical(
        [
            event.seq,
            event.occurred_at,
            event.actor_id,
            event.actor,
            event.action,
            event.entity_type,
            event.entity_id,
            event.before,
            event.after,
        ]
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def find_break(events: Iterable[ChainedEvent]) -> tuple[int, ChainBreak | None]:
    """Walk events in stored order; return how many were read and the first break, if any."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for event in events:
        count += 1
        if event.seq > expected_seq:
            return count, ChainBreak(event.seq, "missing_before")
        if event.seq < expected_seq:
            return count, ChainBreak(event.seq, "out_of_order")
        if event.prev_hash != prev:
            return count, ChainBreak(event.seq, "wrong_link")
        if event_hash(prev, event) != event.hash:
            return count, ChainBreak(event.seq, "altered")
        expected_seq, prev = event.seq + 1, event.hash
    return count, None
