"""The compiled first pass over request bodies (mock_server/http/acceptance.py): whatever
it accepts, openapi-core's validator accepts too; it accepts the common valid bodies
(so the mock really skips the slow walk for them); and what it cannot translate as
strictly, it leaves to openapi-core."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from mock_server.http import validation
from mock_server.http.acceptance import compile_acceptor
from mock_server.http.app import create_app, shared_contract
from mock_server.http.contract import _validator
from segmentation_contract import load_spec
from tests.support import STORE, TOKEN, default_config

CONTRACT = shared_contract()
WITH_BODY = sorted(op.operation_id for op in CONTRACT.by_id.values() if op.body is not None)
SCHEMA = schemathesis.openapi.from_dict(load_spec())


def _errors(operation, body) -> list[str]:
    return [error.message for error in operation.body.validator.iter_errors(body)]


def _json_value(body):
    """The body as the mock would see it after parsing (generated bodies may be bytes or
    hold values JSON has no text for); None when it cannot be sent as JSON."""
    try:
        return json.loads(json.dumps(body, allow_nan=False))
    except (TypeError, ValueError):
        return None


def test_every_body_of_the_document_gets_a_first_pass():
    assert WITH_BODY and all(CONTRACT.by_id[name].accepts_body is not None for name in WITH_BODY)


@pytest.mark.parametrize("operation_id", WITH_BODY)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_what_the_first_pass_accepts_openapi_core_accepts(operation_id, mode):
    operation = CONTRACT.by_id[operation_id]
    api_operation = SCHEMA[operation.path][operation.method]
    outcomes = {"accepted": 0, "valid": 0}

    @given(api_operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        body = _json_value(case.body)
        if body is None:
            return
        errors = _errors(operation, body)
        outcomes["valid"] += not errors
        if operation.accepts_body(body):
            outcomes["accepted"] += 1
            assert not errors, (body, errors)

    check()
    if mode is GenerationMode.POSITIVE:  # most valid bodies take the fast way
        assert outcomes["accepted"] >= outcomes["valid"] // 2 > 0, outcomes


PARAMETERS = sorted({(op.operation_id, p.name): p for op in CONTRACT.by_id.values() for p in op.parameters}.items())
_SCALARS = st.one_of(
    st.text(max_size=12), st.uuids().map(str), st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.integers(min_value=-(2**64), max_value=2**64), st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.sampled_from(["", " ", "a,b", "0", "250", "251", "1000000", "id", "-id", "asc", "desc"]),
    st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False),
)
_PARAMETER_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=5))


def test_every_parameter_of_the_document_gets_a_first_pass():
    assert PARAMETERS and all(parameter.accepts is not None for _, parameter in PARAMETERS)


@pytest.mark.parametrize("key", [key for key, _ in PARAMETERS], ids=[f"{o}.{n}" for (o, n), _ in PARAMETERS])
def test_what_the_first_pass_accepts_of_a_parameter_openapi_core_accepts(key):
    parameter = dict(PARAMETERS)[key]

    @given(_PARAMETER_VALUES)
    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(value):
        if parameter.accepts(value):
            assert not list(parameter.validator.validator.iter_errors(value)), value

    check()


def _acceptor(schema: dict):
    validator = _validator(schema)
    return compile_acceptor(schema, validator.validator.format_checker)


def test_int32_is_bounds_as_openapi_core_reads_it():
    accepts = _acceptor({"type": "integer", "format": "int32"})
    assert accepts(2**31 - 1) and accepts(-(2**31))
    assert not accepts(2**31) and not accepts(-(2**31) - 1) and not accepts(True) and not accepts(1.5)
    narrower = _acceptor({"type": "integer", "format": "int32", "minimum": 1, "maximum": 3})
    assert narrower(3) and not narrower(0) and not narrower(4)


def test_nullable_string_formats_and_patterns():
    accepts = _acceptor({"type": "string", "format": "uuid", "nullable": True})
    assert accepts(None) and accepts("0b6b7c4e-3f4a-4d6b-9a52-1c2d3e4f5a6b")
    assert not accepts("not-a-uuid") and not accepts(7)
    assert not _acceptor({"type": "string"})(None)
    named = _acceptor({"type": "string", "pattern": "^[a-z]+$", "maxLength": 3})
    assert named("abc") and not named("abcd") and not named("ab1")
    assert not named("abc\n")  # `$` is the end of the text here: stricter than Python's `re.search`
    null_or_object = {"oneOf": [{"type": "object", "nullable": True, "enum": [None]}, {"type": "object"}]}
    accepts = _acceptor(null_or_object)
    assert accepts({"a": 1}) and accepts(None) and not accepts([])
    assert not list(_validator(null_or_object).validator.iter_errors(None))  # openapi-core agrees


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "enum": [0, 1]},  # a Python `in` takes True for 1
        {"type": "string", "format": "hostname"},  # a format without the same check here
        {"type": "object", "properties": {"id": {"type": "string", "readOnly": True}}},
        {"type": "number", "multipleOf": 0.1},
        {"type": ["string", "null"]},  # not OpenAPI 3.0
        {"type": "string", "pattern": "[^$]"},  # fastjsonschema would rewrite it
        {"type": "object", "unknownKeyword": 1},
    ],
)
def test_what_cannot_be_translated_as_strictly_gets_no_first_pass(schema):
    assert _acceptor(schema) is None


def test_a_pattern_gets_no_first_pass_when_openapi_core_reads_it_otherwise():
    schema = {"type": "string", "pattern": "^a"}
    format_checker = _validator(schema).validator.format_checker
    assert compile_acceptor(schema, format_checker, python_patterns=False) is None
    assert compile_acceptor(schema, format_checker, python_patterns=True) is not None


def test_valid_bodies_skip_the_schema_walk_and_invalid_ones_still_get_its_messages(monkeypatch):
    walked = []
    real = validation._schema_errors

    def spy(validator, value, prefix):
        if not prefix:  # the body's walk (parameters have a prefix)
            walked.append(value)
        return real(validator, value, prefix)

    monkeypatch.setattr(validation, "_schema_errors", spy)
    client = create_app(default_config()).test_client()
    headers = {"X-Auth-Token": TOKEN}
    created = client.post(f"/stores/{STORE}/v3/segments", json=[{"name": "fast", "description": "x"}], headers=headers)
    assert created.status_code == 201 and walked == []
    refused = client.post(f"/stores/{STORE}/v3/segments", json=[{"name": 7}], headers=headers)
    assert refused.status_code == 400 and walked == [[{"name": 7}]]
    assert refused.json["errors"] == {"0.name": "7 is not of type 'string'"}
