"""The W3C test vectors of the `eddsa-rdfc-2022` cryptosuite, reproduced byte for byte."""

import json
from pathlib import Path

import pytest

from assessor.credentials import proof

VECTORS = Path(__file__).parent.parent / "data" / "interop" / "vc-di-eddsa"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def vector(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def as_json(name: str) -> dict:
    return json.loads(vector(name))


@pytest.fixture
def loader():
    return proof.document_loader({EXAMPLES_V2: as_json("examples-v2.jsonld")})


@pytest.fixture
def key_pair():
    return as_json("keyPair.json")


def test_the_key_pair_reads_and_writes_back_as_the_same_multikeys(key_pair):
    private = proof.private_key_from_multibase(key_pair["privateKeyMultibase"])
    assert proof.public_multibase(private.public_key()) == key_pair["publicKeyMultibase"]
    assert (
        proof.public_multibase(proof.public_key_from_multibase(key_pair["publicKeyMultibase"]))
        == (key_pair["publicKeyMultibase"])
    )


def test_the_canonical_document_and_proof_options_match(loader):
    found = proof.hashes(as_json("unsigned.json"), as_json("proofConfigDataInt.json"), loader)
    assert found.canonical_document == vector("canonDocDataInt.txt")
    assert found.canonical_proof == vector("proofCanonDataInt.txt")


def test_the_hashes_match(loader):
    found = proof.hashes(as_json("unsigned.json"), as_json("proofConfigDataInt.json"), loader)
    assert found.document_hash.hex() == vector("docHashDataInt.txt")
    assert found.proof_hash.hex() == vector("proofHashDataInt.txt")
    assert found.combined.hex() == vector("combinedHashDataInt.txt")


def test_the_signature_and_the_signed_document_match(loader, key_pair):
    config = as_json("proofConfigDataInt.json")
    private = proof.private_key_from_multibase(key_pair["privateKeyMultibase"])
    signed = proof.sign(as_json("unsigned.json"), private, config["verificationMethod"], config["created"], loader)
    assert proof.base58btc_decode(signed["proof"]["proofValue"]).hex() == vector("sigHexDataInt.txt")
    assert signed["proof"]["proofValue"] == vector("sigBTC58DataInt.txt")
    assert signed == as_json("signedDataInt.json")


def test_the_signed_vector_checks_and_a_changed_character_does_not(loader, key_pair):
    public = proof.public_key_from_multibase(key_pair["publicKeyMultibase"])
    signed = as_json("signedDataInt.json")
    assert proof.check(signed, lambda method: public, loader).valid
    signed["credentialSubject"]["alumniOf"] = "The School of Exampled"
    assert not proof.check(signed, lambda method: public, loader).valid


def test_an_unknown_verification_method_does_not_check(loader):
    assert not proof.check(as_json("signedDataInt.json"), lambda method: None, loader).valid


def test_a_context_not_shipped_is_refused_rather_than_fetched(key_pair):
    public = proof.public_key_from_multibase(key_pair["publicKeyMultibase"])
    with pytest.raises(proof.ProofError) as raised:
        proof.check(as_json("signedDataInt.json"), lambda method: public)
    assert raised.value.reason == "unknown_context"


@pytest.mark.parametrize(
    "data", [b"", b"\0", b"\0\0\x01", bytes(range(256)), b"\xff" * 40], ids=["empty", "zero", "zeros", "all", "ff"]
)
def test_base58btc_round_trips(data):
    assert proof.base58btc_decode(proof.base58btc_encode(data)) == data
