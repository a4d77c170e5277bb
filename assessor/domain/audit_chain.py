"""The hash chain that makes the audit trail tamper-evident: how an event's hash is made, keyed or not, how seals and
checkpoints are signed, and how a chain is checked.

Events written before the database had an audit key are chained with plain SHA-256 ("unkeyed"). From the start seal
on, every event's hash is an HMAC-SHA256 with the audit key over the same fields, the chain's id and the hash before it
("keyed"): without the key nobody can recompute it, so an event cannot be deleted, inserted or changed and the hashes
after it made to fit again.

Content the law lets go (an evidence narrative past its retention) is erased from the events that hold it: each value
is replaced by the SHA-256 of what it was, and an erasure event, keyed like any other, vouches for each rewritten event
with its stored hash (so the chain still links) and the keyed hash of its new text (so nothing else in it can change).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

# Each kind of signature signs its own kind of text, so that none can pass for another.
EVENT_LABEL = "assessor audit event"
SEAL_LABEL = "assessor audit seal"
CHECKPOINT_LABEL = "assessor audit checkpoint"


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
class Rewrite:
    """An event whose content was erased, vouched for by the later erasure event `by`: its stored hash, and the keyed
    hash of its text as rewritten."""

    seq: int
    hash: str
    rewritten: str
    by: int


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which a chain stops being intact, and why (a code)."""

    seq: int
    problem: str  # "missing_before", "out_of_order", "wrong_link", "altered", "unkeyed"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces, so the same data always hashes the same."""
    return _CANONICAL.encode(value)


def _body(event: ChainedEvent) -> str:
    return canonical(
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


def event_hash(prev_hash: str, event: ChainedEvent) -> str:
    """The unkeyed hash of an event, chained to the hash of the event before it (events before the audit key)."""
    return hashlib.sha256(f"{prev_hash}\n{_body(event)}".encode()).hexdigest()


def keyed_event_hash(key: bytes, chain: str, prev_hash: str, event: ChainedEvent) -> str:
    """The keyed hash of an event of the chain `chain`, chained to the hash of the event before it."""
    return _mac(key, EVENT_LABEL, f"{chain}\n{prev_hash}\n{_body(event)}")


def seal_mac(key: bytes, kind: str, chain: str, seq: int, hash: str, sealed_at: str) -> str:
    """The signature of a seal: `kind` "start" (the keyed era begins after event `seq`, whose hash is `hash`) or
    "event" (an event from before the key, vouched for when the chain was sealed)."""
    return _mac(key, SEAL_LABEL, canonical([kind, chain, seq, hash, sealed_at]))


def checkpoint_mac(key: bytes, chain: str, seq: int, hash: str, at: str) -> str:
    """The signature of a checkpoint: at `at`, event `seq` of chain `chain` had the hash `hash`."""
    return _mac(key, CHECKPOINT_LABEL, canonical([chain, seq, hash, at]))


ERASED = "erased"


def erased(value: Any) -> dict[str, str]:
    """What stands in an event for a value erased from it: the SHA-256 of the value's canonical JSON."""
    return {ERASED: "sha256:" + hashlib.sha256(canonical(value).encode()).hexdigest()}


def erase_fields(text: str, names: Iterable[str]) -> str:
    """An event's `before` or `after` with each named field's value erased; the same text when it holds none."""
    value = json.loads(text)
    if not isinstance(value, dict):
        return text
    found = False
    for name in names:
        if name in value and not _is_erased(value[name]):
            value[name] = erased(value[name])
            found = True
    return canonical(value) if found else text


def _is_erased(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {ERASED}


def rewritten_hash(key: bytes, chain: str, event: ChainedEvent) -> str:
    """The keyed hash an erasure vouches for: of the event's text as rewritten, on its stored link."""
    return keyed_event_hash(key, chain, event.prev_hash, event)


def same(a: str, b: str) -> bool:
    """Compare two hashes or signatures in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def _mac(key: bytes, label: str, text: str) -> str:
    return hmac.digest(key, f"{label}\n{text}".encode(), "sha256").hex()


def find_break(events: Iterable[ChainedEvent]) -> tuple[int, ChainBreak | None]:
    """Walk unkeyed events in stored order; return how many were read and the first break, if any."""
    walk = ChainWalk()
    for event in events:
        if walk.step(event) is not None:
            break
    return walk.count, walk.broken


class ChainWalk:
    """Checks a chain one event at a time, in stored order: numbering, links, and each hash, plain SHA-256 up to event
    `keyed_after` and keyed with `key` (for the chain `chain`) after it. `keyed_after` None: no event is keyed. An event
    in `rewrites` had content erased: its stored hash and the keyed hash of its text must be those its erasure vouches
    for (the erasure event itself is checked when the walk reaches it).

    After the first break it goes on counting but checks nothing more (`broken` keeps the first)."""

    def __init__(
        self,
        key: bytes | None = None,
        chain: str = "",
        keyed_after: int | None = None,
        rewrites: dict[int, Rewrite] | None = None,
    ):
        self.key = key
        self.rewrites = rewrites or {}
        self.chain = chain
        self.keyed_after = keyed_after
        self.count = 0
        self.last_seq = 0
        self.broken: ChainBreak | None = None
        self._expected_seq = 1
        self._prev = GENESIS

    def is_keyed(self, seq: int) -> bool:
        """Whether event `seq` must carry a keyed hash."""
        return self.keyed_after is not None and seq > self.keyed_after

    def step(self, event: ChainedEvent) -> ChainBreak | None:
        """Check the next event; return the first break once there is one."""
        self.count += 1
        self.last_seq = event.seq
        if self.broken is None:
            self.broken = self._check(event)
            self._expected_seq, self._prev = event.seq + 1, event.hash
        return self.broken

    def _check(self, event: ChainedEvent) -> ChainBreak | None:
        if event.seq > self._expected_seq:
            return ChainBreak(event.seq, "missing_before")
        if event.seq < self._expected_seq:
            return ChainBreak(event.seq, "out_of_order")
        if event.prev_hash != self._prev:
            return ChainBreak(event.seq, "wrong_link")
        if (rewrite := self.rewrites.get(event.seq)) is not None:
            vouched = (
                self.key is not None
                and rewrite.by > event.seq
                and same(rewrite.hash, event.hash)
                and same(rewritten_hash(self.key, self.chain, event), rewrite.rewritten)
            )
            return None if vouched else ChainBreak(event.seq, "altered")
        if not self.is_keyed(event.seq):
            return None if same(event_hash(self._prev, event), event.hash) else ChainBreak(event.seq, "altered")
        assert self.key is not None
        if same(keyed_event_hash(self.key, self.chain, self._prev, event), event.hash):
            return None
        # Made without the key: a hash recomputed by someone who changed, removed or inserted events; or an edit.
        return ChainBreak(event.seq, "unkeyed" if same(event_hash(self._prev, event), event.hash) else "altered")


def event_is_keyed(key: bytes, chain: str, event: ChainedEvent) -> bool:
    """Whether one event's stored hash is its keyed hash (on its own stored link): made with the key, unchanged."""
    return same(keyed_event_hash(key, chain, event.prev_hash, event), event.hash)


def event_matches(event: ChainedEvent) -> bool:
    """Whether one event's stored hash is its unkeyed hash (on its own stored link)."""
    return same(event_hash(event.prev_hash, event), event.hash)
