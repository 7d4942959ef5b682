"""BEHAVIOR.md's request-shape rules, answered by the OpenAPI document alone.

Each case is a request that openapi-core validates against the document: the rules of
BEHAVIOR.md sections 2, 3, 5 and 7 that a schema can express must be expressed there,
so that the mock (which validates with openapi-core) and any generated client agree.
"""

from __future__ import annotations

import json
import warnings

import pytest
import schemathesis
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

from segmentation_contract import iter_operations, load_spec

API = OpenAPI.from_dict(load_spec())
UUID = "0b6b7c4e-3f4a-4d6b-9a52-1c2d3e4f5a6b"
SEG = f"/segments/{UUID}/shopper-profiles"


def uuids(n):
    return [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]


def errors_of(method, path, args=None, body=None, raw_body=None):
    data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
    request = MockRequest(
        "http://127.0.0.1:8080",
        method,
        "/stores/abc123/v3" + path,
        args=args,
        headers={"X-Auth-Token": "token"},
        data=data,
    )
    return API.unmarshal_request(request).errors


ACCEPTED = [
    ("GET", "/segments", {"page": "05", "limit": "250"}, None),
    ("GET", "/segments", {"page": "99999999999999999999"}, None),
    ("GET", "/segments", {"id:in": "not-a-uuid,,"}, None),
    ("GET", "/segments", {"ids": "typo-is-ignored"}, None),
    ("POST", "/segments", None, [{"name": "x" * 255, "description": "d" * 1000}]),
    ("POST", "/segments", None, [{"name": " a "}]),
    ("POST", "/segments", None, [{"name": "Ünïcødé 🎯"}]),
    ("PUT", "/segments", None, [{"id": UUID}]),
    ("PUT", "/segments", None, [{"id": UUID.upper(), "name": "n"}]),
    ("POST", SEG, None, uuids(50)),
    ("POST", "/shopper-profiles", None, [{"customer_id": 2147483647}]),
    ("GET", "/customers", {"id:in": "0007, abc ,2147483647", "include": "segment_ids,bogus"}, None),
    ("DELETE", "/customers", {"id:in": ""}, None),
    ("POST", "/customers", None, [{"email": "a@b", "first_name": "A", "last_name": "B", "customer_group_id": 0}]),
]

REJECTED = [
    ("limit above 250", "GET", "/segments", {"limit": "251"}, None),
    ("limit 0", "GET", "/segments", {"limit": "0"}, None),
    ("page 0", "GET", "/segments", {"page": "0"}, None),
    ("page -1", "GET", "/shopper-profiles", {"page": "-1"}, None),
    ("page 1.5", "GET", "/customers", {"page": "1.5"}, None),
    ("empty body array", "POST", "/segments", None, []),
    ("missing name", "POST", "/segments", None, [{"description": "d"}]),
    ("null name", "POST", "/segments", None, [{"name": None}]),
    ("empty name", "POST", "/segments", None, [{"name": ""}]),
    ("whitespace name", "POST", "/segments", None, [{"name": " \t "}]),
    ("256-char name", "POST", "/segments", None, [{"name": "x" * 256}]),
    ("1001-char description", "POST", "/segments", None, [{"name": "n", "description": "d" * 1001}]),
    ("body not an array", "POST", "/segments", None, {"name": "n"}),
    ("PUT without id", "PUT", "/segments", None, [{"name": "n"}]),
    ("PUT non-UUID id", "PUT", "/segments", None, [{"id": "42"}]),
    ("51 IDs", "POST", SEG, None, uuids(51)),
    ("same ID twice", "POST", SEG, None, [UUID, UUID]),
    ("non-UUID profile ID", "POST", SEG, None, ["42"]),
    ("undashed UUID", "POST", SEG, None, [UUID.replace("-", "")]),
    ("non-UUID path ID", "GET", "/segments/42/shopper-profiles", None, None),
    ("guest customer_id 0", "POST", "/shopper-profiles", None, [{"customer_id": 0}]),
    ("customer_id as string", "POST", "/shopper-profiles", None, [{"customer_id": "123"}]),
    ("customer_id 12.0", "POST", "/shopper-profiles", None, [{"customer_id": 12.0}]),
    ("customer_id 1e2", "POST", "/shopper-profiles", None, [{"customer_id": 1e2}]),
    ("customer_id 2^31", "POST", "/shopper-profiles", None, [{"customer_id": 2**31}]),
    ("customer id:in 0", "GET", "/customers", {"id:in": "0"}, None),
    ("customer id:in 2^31", "GET", "/customers", {"id:in": "2147483648"}, None),
    ("delete customers without id:in", "DELETE", "/customers", None, None),
    ("email without @", "POST", "/customers", None, [{"email": "ab", "first_name": "A", "last_name": "B"}]),
    ("email with blank", "POST", "/customers", None, [{"email": "a b@c", "first_name": "A", "last_name": "B"}]),
    ("email with two @", "POST", "/customers", None, [{"email": "a@b@c", "first_name": "A", "last_name": "B"}]),
    ("blank first name", "POST", "/customers", None, [{"email": "a@b", "first_name": " ", "last_name": "B"}]),
    ("negative group", "POST", "/customers", None, [{"email": "a@b", "first_name": "A", "last_name": "B", "customer_group_id": -1}]),
]


@pytest.mark.parametrize(("method", "path", "args", "body"), ACCEPTED)
def test_document_accepts(method, path, args, body):
    assert not errors_of(method, path, args, body)


@pytest.mark.parametrize(("why", "method", "path", "args", "body"), REJECTED, ids=[r[0] for r in REJECTED])
def test_document_rejects(why, method, path, args, body):
    assert errors_of(method, path, args, body), why


def test_document_rejects_malformed_json():
    assert errors_of("POST", "/segments", raw_body=b'[{"name": "a"')


def test_defaults_come_from_the_document():
    request = MockRequest("http://127.0.0.1:8080", "GET", "/stores/abc123/v3/segments", headers={"X-Auth-Token": "t"})
    result = API.unmarshal_request(request)
    assert result.parameters.query == {"page": 1, "limit": 50}


def test_schemathesis_loads_the_document_without_warnings_and_chains_links():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = schemathesis.openapi.from_dict(load_spec())
        labels = [result.ok().label for result in schema.get_all_operations()]
    assert len(labels) == len(list(iter_operations(load_spec()))) == 25
    assert "POST /segments/{segmentId}/shopper-profiles" in labels
    assert list(schema.analysis.iter_warnings()) == []
    machine = schema.as_state_machine()
    # Every link of the document becomes a transition of Schemathesis' state machine.
    rules = [name for name in dir(machine) if "___" in name]
    links = [
        (op["operationId"], status, name)
        for _, _, op in iter_operations(load_spec())
        for status, response in op["responses"].items()
        for name in response.get("links", {})
    ]
    assert links
    for operation_id, status, name in links:
        assert any(f"___{status}_{name}__" in rule for rule in rules), (operation_id, name)
