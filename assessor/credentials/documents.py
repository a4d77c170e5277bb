"""The JSON-LD documents of the issuer, built from plain values: the OpenBadgeCredential of a completion record, the
issuer's profile, its verification methods and controller document, and the Bitstring Status List.

Nothing here reads the database or the request: the caller passes the addresses and facts, so that the shape of each
document is checked without an app.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assessor.credentials.proof import MULTIKEY_V1, OB_V3, VC_V2
from assessor.domain.standards import Unit

SECURITY_V2 = "https://w3id.org/security/v2"
# The smallest list the Bitstring Status List specification allows (16 KiB), so that one credential's index tells
# an observer little about who holds it.
STATUS_LIST_BITS = 131_072
REVOCATION = "revocation"


@dataclass(frozen=True)
class Addresses:
    """Where the issuer publishes what a credential refers to."""

    issuer: str  # the issuer's Profile, which is also the controller document of its keys
    key_prefix: str  # a verification method is this followed by its publicKeyMultibase
    achievement: str  # the unit version's page
    alignment: str  # the unit version's CASE CFDocument
    status_list: str  # the status list credential this credential's index is in

    def verification_method(self, public_key: str) -> str:
        return f"{self.key_prefix}{public_key}"


@dataclass(frozen=True)
class Earner:
    """The trainee, as the credential identifies them: hashed, with a salt, so that the credential names nobody to
    whoever does not already know the name or address."""

    name: str
    email: str | None
    salt: str


@dataclass(frozen=True)
class Award:
    """What the completion record says: its result and when it was signed off."""

    result: str
    signed_on: str  # ISO date
    status_index: int


def identity_hash(value: str, salt: str) -> str:
    """An Open Badges hashed identity: `sha256$` and the hex SHA-256 of the value followed by the salt."""
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def _identities(earner: Earner) -> list[dict[str, Any]]:
    found = [("name", earner.name)]
    if earner.email:
        found.append(("emailAddress", earner.email.strip().lower()))
    return [
        {
            "type": "IdentityObject",
            "identityHash": identity_hash(value, earner.salt),
            "identityType": kind,
            "hashed": True,
            "salt": earner.salt,
        }
        for kind, value in found
    ]


def criteria_narrative(unit: Unit) -> str:
    """The unit's performance criteria as Markdown, component by component, each in the unit's own words."""
    lines = [f"Every performance criterion of {unit.title} met, as the assessor judged:", ""]
    for component in unit.components:
        lines.append(f"**{unit.component_label} {component.number}: {component.title}**")
        lines.append("")
        lines.extend(f"- {criterion.number} {criterion.text}" for criterion in component.criteria)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def issuer_profile(addresses: Addresses, name: str) -> dict[str, Any]:
    """The issuer's Open Badges Profile, as embedded in each credential and served at its id."""
    return {"id": addresses.issuer, "type": ["Profile"], "name": name}


def achievement(unit: Unit, addresses: Addresses) -> dict[str, Any]:
    """The unit version as an Open Badges Achievement aligned to its CASE CFDocument."""
    found: dict[str, Any] = {
        "id": addresses.achievement,
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": unit.title,
        "description": unit.purpose or unit.title,
        "criteria": {"narrative": criteria_narrative(unit)},
        "version": str(unit.version),
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": unit.title,
                "targetUrl": addresses.alignment,
                "targetType": "ext:CFDocument",
                "targetFramework": unit.framework,
                **({"targetCode": unit.code} if unit.code else {}),
            }
        ],
    }
    if unit.code:
        found["humanCode"] = unit.code
    if unit.credits is not None:
        found["creditsAvailable"] = unit.credits
    return found


def open_badge_credential(
    credential_id: str,
    unit: Unit,
    earner: Earner,
    award: Award,
    addresses: Addresses,
    issuer_name: str,
    valid_from: str,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of one completion record."""
    return {
        "@context": [VC_V2, OB_V3],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": unit.title,
        "issuer": issuer_profile(addresses, issuer_name),
        "validFrom": valid_from,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": _identities(earner),
            "achievement": achievement(unit, addresses),
            "result": [{"type": ["Result"], "value": award.result}],
            "activityEndDate": f"{award.signed_on}T00:00:00Z",
        },
        "credentialStatus": {
            "id": f"{addresses.status_list}#{award.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": REVOCATION,
            "statusListIndex": str(award.status_index),
            "statusListCredential": addresses.status_list,
        },
    }


def verification_method(addresses: Addresses, public_key: str) -> dict[str, Any]:
    """One published key as a Multikey document."""
    return {
        "@context": MULTIKEY_V1,
        "id": addresses.verification_method(public_key),
        "type": "Multikey",
        "controller": addresses.issuer,
        "publicKeyMultibase": public_key,
    }


def issuer_document(addresses: Addresses, name: str, public_keys: Iterable[str]) -> dict[str, Any]:
    """What the issuer's id serves: its Profile, and, as the controller document of its keys, every key it vouches
    for as an assertion method, retired keys included (a credential a retired key signed was genuine when signed).

    Verifiers require the credential's issuer to be the controller of the key that signed it, and read
    `assertionMethod` in the security vocabulary: hence the third context, which defines it."""
    return {
        "@context": [VC_V2, OB_V3, SECURITY_V2],
        **issuer_profile(addresses, name),
        "assertionMethod": [addresses.verification_method(k) for k in public_keys],
    }


def encoded_list(revoked: Iterable[int], bits: int = STATUS_LIST_BITS) -> str:
    """A bitstring with the given positions set (position 0 is the first byte's most significant bit), GZIP'd, in
    multibase base64url without padding, as the Bitstring Status List specification writes it."""
    data = bytearray(bits // 8)
    for index in revoked:
        data[index // 8] |= 0x80 >> (index % 8)
    # mtime 0: the same list compresses to the same bytes, whenever it is served.
    compressed = gzip.compress(bytes(data), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decoded_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList`; ValueError when it is not one."""
    if not encoded.startswith("u"):
        raise ValueError("not multibase base64url")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"not a GZIP'd bitstring: {exc}") from None


def is_set(bitstring: bytes, index: int) -> bool:
    """Whether a position of a bitstring is set; IndexError beyond its end."""
    if index < 0 or index >= len(bitstring) * 8:
        raise IndexError(index)
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    addresses: Addresses, revoked: Iterable[int], issuer_name: str, valid_from: str
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential of the revocation list at `addresses.status_list`."""
    return {
        "@context": [VC_V2],
        "id": addresses.status_list,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": addresses.issuer,
        "name": f"Revoked credentials of {issuer_name}",
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{addresses.status_list}#list",
            "type": "BitstringStatusList",
            "statusPurpose": REVOCATION,
            "encodedList": encoded_list(revoked),
        },
    }
