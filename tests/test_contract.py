"""The OpenAPI document: valid, complete against BEHAVIOR.md, and self-consistent.

The expected tables here are written from BEHAVIOR.md on purpose, as an oracle that
is independent of the document they check.
"""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec

from segmentation_contract import (
    dereference,
    iter_operations,
    load_spec,
    operation_parameters,
    resolve_ref,
    spec_path,
)

SPEC = load_spec()
API = OpenAPI.from_dict(load_spec())
BASE = "/stores/abc123/v3"
RATE_LIMIT_HEADERS = {
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
}
SEG = "/segments/{segmentId}/shopper-profiles"
PROF = "/shopper-profiles/{shopperProfileId}/segments"
PROMO = "/promotions/{id}"
CODES = "/promotions/{promotion_id}/codes"  # the platform names the promotion `promotion_id` under codes
# (method, path): (success statuses, error statuses, scope), from BEHAVIOR.md 1, 4, 5 and 7.
EXPECTED = {
    ("GET", "/segments"): ({"200"}, {"400", "401", "406", "413", "429"}, "read_only"),
    ("POST", "/segments"): ({"201"}, {"400", "401", "403", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("PUT", "/segments"): ({"200", "201"}, {"400", "401", "403", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("DELETE", "/segments"): ({"204"}, {"401", "403", "406", "429"}, "modify"),
    ("GET", SEG): ({"200"}, {"400", "401", "403", "404", "406", "413", "429"}, "modify"),
    ("POST", SEG): ({"201"}, {"400", "401", "403", "404", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("DELETE", SEG): ({"204"}, {"400", "401", "403", "404", "406", "429"}, "modify"),
    ("GET", "/shopper-profiles"): ({"200"}, {"400", "401", "406", "413", "429"}, "read_only"),
    ("POST", "/shopper-profiles"): ({"201"}, {"400", "401", "403", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("DELETE", "/shopper-profiles"): ({"204"}, {"401", "403", "406", "429"}, "modify"),
    ("GET", PROF): ({"200"}, {"400", "401", "404", "406", "413", "429"}, "read_only"),
    ("GET", "/customers"): ({"200"}, {"400", "401", "406", "413", "429"}, "read_only"),
    ("POST", "/customers"): ({"200"}, {"400", "401", "403", "406", "413", "415", "422", "429"}, "modify"),
    ("PUT", "/customers"): ({"200"}, {"400", "401", "403", "406", "413", "415", "422", "429"}, "modify"),
    ("DELETE", "/customers"): ({"204"}, {"400", "401", "403", "406", "429"}, "modify"),
    # BEHAVIOR.md 9.2: the Promotions slice
    ("GET", "/promotions"): ({"200"}, {"400", "401", "406", "413", "429"}, "read_only"),
    ("POST", "/promotions"): ({"201"}, {"400", "401", "403", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("DELETE", "/promotions"): ({"204"}, {"400", "401", "403", "406", "422", "429"}, "modify"),
    ("GET", PROMO): ({"200"}, {"400", "401", "404", "406", "429"}, "read_only"),
    ("PUT", PROMO): ({"200", "201"}, {"400", "401", "403", "404", "406", "409", "413", "415", "422", "429"}, "modify"),
    ("DELETE", PROMO): ({"204"}, {"400", "401", "403", "404", "406", "429"}, "modify"),
    ("POST", CODES): ({"201"}, {"400", "401", "403", "404", "406", "409", "413", "415", "422", "429"}, "modify"),
    # the reference's code operations (getPromotionCodes, deleteCouponCodes, deleteCouponCode)
    ("GET", CODES): ({"200"}, {"400", "401", "404", "406", "413", "429"}, "read_only"),
    ("DELETE", CODES): ({"204"}, {"400", "401", "403", "404", "406", "422", "429"}, "modify"),
    ("DELETE", CODES + "/{code_id}"): ({"204"}, {"400", "401", "403", "404", "406", "429"}, "modify"),
}
OPERATIONS = {(method, path): op for path, method, op in iter_operations(SPEC)}
OPERATION_IDS = {op["operationId"]: (method, path) for (method, path), op in OPERATIONS.items()}


def schema_validator(schema):
    return OAS30Validator(dereference(SPEC, schema), format_checker=oas30_format_checker)


def assert_valid(schema, value, where):
    errors = [e.message for e in schema_validator(schema).iter_errors(value)]
    assert not errors, f"{where}: example does not fit its schema: {errors}"


def test_document_validates_as_openapi_3_0():
    validate_spec(load_spec())
    assert SPEC["openapi"].startswith("3.0.")


def test_document_is_plain_yaml_loadable_from_its_path():
    with spec_path().open(encoding="utf-8") as handle:
        assert yaml.safe_load(handle) == SPEC


def test_server_url_has_store_hash_variable():
    [server] = SPEC["servers"]
    assert server["url"] == "{scheme}://{host}/stores/{store_hash}/v3"
    assert set(server["variables"]) == {"scheme", "host", "store_hash"}


def test_every_behavior_operation_is_documented_and_nothing_else():
    assert set(OPERATIONS) == set(EXPECTED)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_operation_documents_exactly_the_behavior_statuses(method, path):
    success, errors, _ = EXPECTED[(method, path)]
    assert set(OPERATIONS[(method, path)]["responses"]) == success | errors


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_operation_states_its_scope(method, path):
    operation = OPERATIONS[(method, path)]
    scope = EXPECTED[(method, path)][2]
    assert operation["x-required-scope"] == scope
    wording = "Customers modify" if scope == "modify" else "Customers read-only or Customers modify"
    assert f"Scope: {wording}" in operation["description"]
    # 403 can only happen where the read-only token is not enough.
    assert ("403" in operation["responses"]) == (scope == "modify")


# The platform's own operationIds, as BigCommerce's reference documents spell them
# (segments.v3.yml, customers.v3.yml, promotions.v3.yml): code generated from either
# document names the operations alike.
PLATFORM_OPERATION_IDS = {
    ("GET", "/segments"): "GetPaginatedSegmentsList", ("POST", "/segments"): "SegmentsPostRequest",
    ("PUT", "/segments"): "PutSegmentObjects", ("DELETE", "/segments"): "DeleteStoreSegment",
    ("GET", SEG): "GetSegmentProfiles", ("POST", SEG): "PostShopperProfile", ("DELETE", SEG): "DeleteShopperProfile",
    ("GET", "/shopper-profiles"): "GetShopperList", ("POST", "/shopper-profiles"): "ShopperProfilesRequest",
    ("DELETE", "/shopper-profiles"): "DeleteStoreShopperProfile", ("GET", PROF): "GetListShopperProfile",
    ("GET", "/customers"): "getCustomers", ("POST", "/customers"): "createCustomers", ("PUT", "/customers"): "updateCustomers",
    ("DELETE", "/customers"): "deleteCustomers",
    ("GET", "/promotions"): "getPromotions", ("POST", "/promotions"): "createPromotion", ("DELETE", "/promotions"): "deletePromotions",
    ("GET", PROMO): "getPromotion", ("PUT", PROMO): "updatePromotion", ("DELETE", PROMO): "deletePromotion",
    ("GET", CODES): "getPromotionCodes", ("POST", CODES): "createPromotionCode", ("DELETE", CODES): "deleteCouponCodes",
    ("DELETE", CODES + "/{code_id}"): "deleteCouponCode",
}


def test_operation_ids_and_path_parameters_are_the_platforms_and_tagged():
    assert {key: op["operationId"] for key, op in OPERATIONS.items()} == PLATFORM_OPERATION_IDS
    tags = {tag["name"] for tag in SPEC["tags"]}
    for op in OPERATIONS.values():
        assert op["tags"] and set(op["tags"]) <= tags


def test_every_response_requires_the_rate_limit_headers():
    responses = [
        (f"{method} {path} {status}", resolve_ref(SPEC, response))
        for (method, path), op in OPERATIONS.items()
        for status, response in op["responses"].items()
    ]
    responses += [(f"components {name}", r) for name, r in SPEC["components"]["responses"].items()]
    for where, response in responses:
        headers = {name: resolve_ref(SPEC, h) for name, h in response.get("headers", {}).items()}
        assert RATE_LIMIT_HEADERS <= set(headers), where
        for name in RATE_LIMIT_HEADERS:
            assert headers[name]["required"] is True
            assert headers[name]["schema"]["type"] == "integer"


def test_method_not_allowed_documents_the_allow_header():
    response = SPEC["components"]["responses"]["MethodNotAllowed"]
    assert resolve_ref(SPEC, response["headers"]["Allow"])["required"] is True


def test_error_responses_use_the_envelopes():
    batch_conflicts = {("POST", "/segments"), ("POST", SEG)}
    for (method, path), op in OPERATIONS.items():
        for status, response in op["responses"].items():
            if status.startswith("2"):
                continue
            schema = resolve_ref(SPEC, response)["content"]["application/json"]["schema"]
            expected = "BatchConflictResponse" if status == "409" and (method, path) in batch_conflicts else "ErrorResponse"
            if path.startswith("/promotions"):  # the Promotions reference's own error shape
                expected = "PromotionErrorResponse"
            assert schema == {"$ref": f"#/components/schemas/{expected}"}, (method, path, status)


def test_no_content_responses_have_no_body():
    for (method, path), op in OPERATIONS.items():
        if "204" in op["responses"]:
            assert method == "DELETE"
            assert "content" not in op["responses"]["204"]


def _examples():
    """Every (where, schema, example) pair in the document."""
    for (method, path), op in OPERATIONS.items():
        body = op.get("requestBody")
        if body:
            media = body["content"]["application/json"]
            assert "example" in media, f"{method} {path}: request body has no example"
            yield f"{method} {path} request", media["schema"], media["example"]
        for parameter in operation_parameters(SPEC, path, method):
            assert "example" in parameter, f"{method} {path}: parameter {parameter['name']} has no example"
            yield f"{method} {path} ?{parameter['name']}", parameter["schema"], parameter["example"]
        for status, response in op["responses"].items():
            response = resolve_ref(SPEC, response)
            for media in response.get("content", {}).values():
                assert "example" in media, f"{method} {path} {status}: response has no example"
                yield f"{method} {path} {status}", media["schema"], media["example"]
    for name, response in SPEC["components"]["responses"].items():
        for media in response.get("content", {}).values():
            yield f"responses/{name}", media["schema"], media["example"]
    for name, schema in SPEC["components"]["schemas"].items():
        if "example" in schema:
            yield f"schemas/{name}", schema, schema["example"]
    for name, header in SPEC["components"]["headers"].items():
        yield f"headers/{name}", header["schema"], header["example"]


EXAMPLES = list(_examples())


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(where, schema, example):
    assert_valid(schema, example, where)


def test_there_are_examples_for_every_operation():
    assert len(EXAMPLES) > 60


def test_the_validator_used_for_examples_rejects_bad_examples():
    segment = {"$ref": "#/components/schemas/Segment"}
    good = SPEC["components"]["schemas"]["Segment"]["example"]
    assert not list(schema_validator(segment).iter_errors(good))
    for change in ({"id": good["id"].upper()}, {"created_at": "2022-08-24T14:15:22.5Z"}, {"name": ""}):
        assert list(schema_validator(segment).iter_errors({**good, **change})), change


# --- links ---------------------------------------------------------------------------

def _links():
    for (method, path), op in OPERATIONS.items():
        for status, response in op["responses"].items():
            for name, link in resolve_ref(SPEC, response).get("links", {}).items():
                yield (method, path, status, name, link)


LINKS = list(_links())


def _evaluate(expression, source_method, source_path, response_example):
    """Apply a link's runtime expression to the source operation's examples."""
    if isinstance(expression, list):
        return [_evaluate(e, source_method, source_path, response_example) for e in expression]
    if isinstance(expression, dict):
        return {k: _evaluate(v, source_method, source_path, response_example) for k, v in expression.items()}
    if expression.startswith("$response.body#"):
        node = response_example
        for part in expression.split("#", 1)[1].strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node
    if expression.startswith("$request.path."):
        name = expression.removeprefix("$request.path.")
        [parameter] = [p for p in operation_parameters(SPEC, source_path, source_method) if p["name"] == name and p["in"] == "path"]
        return parameter["example"]
    raise AssertionError(f"unexpected runtime expression {expression!r}")


def test_links_cover_the_producers_and_consumers_the_issue_names():
    pairs = {(OPERATIONS[(m, p)]["operationId"], link["operationId"]) for m, p, _, _, link in LINKS}
    required = {
        ("SegmentsPostRequest", "PutSegmentObjects"),
        ("SegmentsPostRequest", "DeleteStoreSegment"),
        ("SegmentsPostRequest", "GetPaginatedSegmentsList"),
        ("SegmentsPostRequest", "GetSegmentProfiles"),
        ("SegmentsPostRequest", "PostShopperProfile"),
        ("ShopperProfilesRequest", "PostShopperProfile"),
        ("ShopperProfilesRequest", "GetListShopperProfile"),
        ("ShopperProfilesRequest", "DeleteStoreShopperProfile"),
        ("createCustomers", "ShopperProfilesRequest"),
    }
    assert required <= pairs


@pytest.mark.parametrize(("method", "path", "status", "name", "link"), LINKS, ids=[l[3] + "@" + l[0] + l[1] for l in LINKS])
def test_link_targets_an_existing_operation_with_existing_parameters(method, path, status, name, link):
    target_method, target_path = OPERATION_IDS[link["operationId"]]
    target_parameters = {(p["in"], p["name"]) for p in operation_parameters(SPEC, target_path, target_method)}
    for key in link.get("parameters", {}):
        location, parameter = key.split(".", 1)
        assert (location, parameter) in target_parameters, f"{name}: {key} is not a parameter of {link['operationId']}"
    if "requestBody" in link:
        assert "requestBody" in OPERATIONS[(target_method, target_path)], name


@pytest.mark.parametrize(("method", "path", "status", "name", "link"), LINKS, ids=[l[3] + "@" + l[0] + l[1] for l in LINKS])
def test_link_applied_to_the_source_example_makes_a_valid_request(method, path, status, name, link):
    example = resolve_ref(SPEC, OPERATIONS[(method, path)]["responses"][status])["content"]["application/json"]["example"]
    target_method, target_path = OPERATION_IDS[link["operationId"]]
    path_values, query = {}, {}
    for key, expression in link.get("parameters", {}).items():
        location, parameter = key.split(".", 1)
        value = _evaluate(expression, method, path, example)
        (path_values if location == "path" else query)[parameter] = str(value)
    for parameter in operation_parameters(SPEC, target_path, target_method):
        if parameter["in"] == "path" and parameter["name"] not in path_values:
            path_values[parameter["name"]] = parameter["example"]
    body = _evaluate(link["requestBody"], method, path, example) if "requestBody" in link else None
    if body is None and "requestBody" in OPERATIONS[(target_method, target_path)]:
        body = OPERATIONS[(target_method, target_path)]["requestBody"]["content"]["application/json"]["example"]
    request = MockRequest(
        "https://api.bigcommerce.com",
        target_method,
        BASE + target_path.format(**path_values),
        args=query,
        headers={"X-Auth-Token": "token"},
        data=json.dumps(body).encode() if body is not None else None,
    )
    result = API.unmarshal_request(request)
    assert not result.errors, f"{name}: {result.errors}"


def test_unscoped_deletes_are_marked():
    marked = {(m, p) for (m, p), op in OPERATIONS.items() if "x-unscoped-delete" in op}
    assert marked == {("DELETE", "/segments"), ("DELETE", SEG), ("DELETE", "/shopper-profiles")}
    for key in marked:
        assert OPERATIONS[key]["x-unscoped-delete"] == "id:in"
        assert "**Without `id:in`" in OPERATIONS[key]["description"]


def test_nullable_shopper_profile_id_accepts_null_and_issued_ids_only():
    customer = {"$ref": "#/components/schemas/Customer"}
    example = SPEC["components"]["schemas"]["Customer"]["example"]
    assert not list(schema_validator(customer).iter_errors({**example, "shopper_profile_id": None}))
    assert list(schema_validator(customer).iter_errors({**example, "shopper_profile_id": "ABC"}))
    issued = SPEC["components"]["schemas"]["IssuedUuid"]["pattern"]
    assert SPEC["components"]["schemas"]["Customer"]["properties"]["shopper_profile_id"]["pattern"] == issued
