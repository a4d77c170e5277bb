"""The `eddsa-rdfc-2022` Data Integrity cryptosuite: sign and check a JSON-LD document with an Ed25519 key.

As the W3C "Data Integrity EdDSA Cryptosuites v1.0" specification lays it out: the document (without its proof) and
the proof's options (with the document's `@context`, without `proofValue`) are each canonicalised with RDFC-1.0
(URDNA2015) and hashed with SHA-256; Ed25519 signs the proof hash followed by the document hash; the signature is
written in multibase base58btc. Contexts come from the files shipped beside this module: nothing is fetched.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld  # type: ignore[import-untyped]

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
SHIPPED_CONTEXTS = {VC_V2: "credentials-v2.jsonld", OB_V3: "ob-v3p0-context-3.0.3.json"}

# Multicodec prefixes (unsigned varints) of an Ed25519 public key and private key, as Multikey writes them.
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

Loader = Callable[..., dict[str, Any]]


class ProofError(ValueError):
    """A document or proof that cannot be checked, with a reason code: `no_proof`, `unsupported`, `unknown_context`,
    `malformed`."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# Multibase base58btc.


def base58btc_encode(data: bytes) -> str:
    """`data` in multibase base58btc: the prefix `z`, then Bitcoin's base58 alphabet, one `1` per leading zero byte."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(BASE58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """The bytes of a multibase base58btc string; ValueError for anything else."""
    if not text.startswith("z"):
        raise ValueError("not multibase base58btc (no leading z)")
    body = text[1:]
    number = 0
    for char in body:
        digit = BASE58_ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a base58 digit")
        number = number * 58 + digit
    zeros = len(body) - len(body.lstrip("1"))
    return b"\0" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


def public_multibase(key: Ed25519PublicKey) -> str:
    """The public key as a Multikey `publicKeyMultibase` (z6Mk...)."""
    return base58btc_encode(ED25519_PUB + key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    """The Ed25519 public key a `publicKeyMultibase` names; ValueError for another kind of key."""
    raw = base58btc_decode(text)
    if not raw.startswith(ED25519_PUB) or len(raw) != len(ED25519_PUB) + 32:
        raise ValueError("not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw[len(ED25519_PUB) :])


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """The Ed25519 private key a `secretKeyMultibase` holds (its 32-byte seed)."""
    raw = base58btc_decode(text)
    if not raw.startswith(ED25519_PRIV) or len(raw) != len(ED25519_PRIV) + 32:
        raise ValueError("not an Ed25519 private key")
    return Ed25519PrivateKey.from_private_bytes(raw[len(ED25519_PRIV) :])


# Canonicalisation.


def shipped_context(url: str) -> dict[str, Any]:
    """A context shipped with the package; ProofError `unknown_context` for any other URL."""
    name = SHIPPED_CONTEXTS.get(url)
    if name is None:
        raise ProofError("unknown_context", url)
    document: dict[str, Any] = json.loads(resources.files(__package__).joinpath("contexts", name).read_text("utf-8"))
    return document


def document_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> Loader:
    """A pyld document loader serving the shipped contexts (and `extra` ones, for tests), and refusing every other
    URL: a credential naming a context we do not hold cannot be checked, and the server never fetches one."""
    known = dict(extra or {})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = known[url] if url in known else shipped_context(url)
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(document)}

    return load


def canonical(document: Mapping[str, Any], loader: Loader) -> str:
    """The document's RDF dataset canonicalised with RDFC-1.0 (URDNA2015), as N-Quads."""
    try:
        text: str = jsonld.normalize(
            dict(document), {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
        )
    except jsonld.JsonLdError as exc:
        unknown = _unknown_context(exc)
        if unknown is not None:
            raise unknown from None
        raise ProofError("malformed", str(exc).splitlines()[0]) from None
    return text


def _unknown_context(exc: BaseException) -> ProofError | None:
    """The ProofError a loader raised, wherever pyld wrapped it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ProofError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__ or seen.__context__
    return None


@dataclass(frozen=True)
class Hashes:
    """What the cryptosuite signs: the canonical proof options and document, and their SHA-256 hashes."""

    canonical_proof: str
    canonical_document: str
    proof_hash: bytes
    document_hash: bytes

    @property
    def combined(self) -> bytes:
        return self.proof_hash + self.document_hash


def hashes(unsecured: Mapping[str, Any], proof_options: Mapping[str, Any], loader: Loader) -> Hashes:
    """Canonicalise and hash a document without its proof and the proof's options without its value."""
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    options["@context"] = unsecured.get("@context")
    canonical_proof = canonical(options, loader)
    canonical_document = canonical(unsecured, loader)
    return Hashes(
        canonical_proof,
        canonical_document,
        hashlib.sha256(canonical_proof.encode()).digest(),
        hashlib.sha256(canonical_document.encode()).digest(),
    )


def sign(
    document: Mapping[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    loader: Loader | None = None,
    purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """The document with a `DataIntegrityProof` of the `eddsa-rdfc-2022` cryptosuite added."""
    loader = loader or document_loader()
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
    }
    signature = key.sign(hashes(unsecured, options, loader).combined)
    return {**unsecured, "proof": {**options, "proofValue": base58btc_encode(signature)}}


@dataclass(frozen=True)
class Checked:
    """Whether a proof's signature holds, and which verification method it names."""

    valid: bool
    verification_method: str


def check(
    document: Mapping[str, Any], public_key_of: Callable[[str], Ed25519PublicKey | None], loader: Loader | None = None
) -> Checked:
    """Check a document's `eddsa-rdfc-2022` proof with the public key `public_key_of` gives for its verification
    method (None: a method we do not know, so not valid). ProofError when it has no such proof or cannot be read."""
    loader = loader or document_loader()
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:  # a set of one proof, as Open Badges' JSON Schema asks
        proof = proof[0]
    elif isinstance(proof, list) and proof:
        raise ProofError("unsupported", "more than one proof")
    if not isinstance(proof, dict):
        raise ProofError("no_proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("unsupported", f"{proof.get('type')} / {proof.get('cryptosuite')}")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("malformed", "the proof lacks its verification method, value or purpose")
    try:
        signature = base58btc_decode(value)
    except ValueError:
        return Checked(False, method)
    public_key = public_key_of(method)
    if public_key is None:
        return Checked(False, method)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        public_key.verify(signature, hashes(unsecured, proof, loader).combined)
    except InvalidSignature:
        return Checked(False, method)
    return Checked(True, method)
