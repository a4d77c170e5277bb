"""Whatever it is fed, the loader either returns a unit or raises its own validation error."""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessor.domain.standards import StandardsError, Unit, parse_unit, schema

VALID = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "valid_unit.yaml").read_text())

KNOWN_KEYS = sorted(
    {
        key
        for spec in (
            schema.UNIT,
            schema.COMPONENT,
            schema.CRITERION,
            schema.EVIDENCE_ITEM,
            schema.EVIDENCE_GROUP,
            schema.GUIDANCE_NOTE,
            schema.USAGE,
            schema.RULES,
            schema.RESULTS,
            schema.SUPERSEDES,
            schema.TARGET_CHANGE,
            schema.RANGE_CONDITION,
            schema.DIMENSION,
        )
        for key in spec.fields
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["1", "1.1", "2.10", "NZQA", "current", "deleted", "workplace", "Outcome", "KE1"]),
    st.dates(min_value=datetime.date(1900, 1, 1)),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)


def load_or_refuse(text: str | bytes) -> None:
    try:
        assert isinstance(parse_unit(text, "fuzz.yaml"), Unit)
    except StandardsError as exc:
        assert exc.problems, "a refusal must say why"
        assert all(p.message for p in exc.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_arbitrary_yaml_documents(document):
    load_or_refuse(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(VALID)), documents, max_size=5))
def test_valid_unit_with_arbitrary_fields_replaced(replacements):
    load_or_refuse(yaml.safe_dump({**VALID, **replacements}, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    load_or_refuse(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data):
    load_or_refuse(data)
