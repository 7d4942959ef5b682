"""Authentication, negotiation, routing, error envelopes and precedence:
BEHAVIOR.md sections 1, 4, 5 and 8 (headers), over HTTP, both backends."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support import OTHER_STORE, OTHER_TOKEN, READONLY, STORE

RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms", "X-Rate-Limit-Requests-Quota", "X-Rate-Limit-Requests-Left")
UUID = "00000000-0000-4000-8000-000000000000"
WRITES = [
    ("POST", "/segments", [{"name": "n"}]),
    ("PUT", "/segments", [{"id": UUID}]),
    ("DELETE", "/segments?id:in=x", None),
    ("POST", f"/segments/{UUID}/shopper-profiles", [UUID]),
    ("DELETE", f"/segments/{UUID}/shopper-profiles?id:in=x", None),
    ("POST", "/shopper-profiles", [{"customer_id": 1}]),
    ("DELETE", "/shopper-profiles?id:in=x", None),
    ("POST", "/customers", [{"email": "a@b", "first_name": "a", "last_name": "b"}]),
    ("DELETE", "/customers?id:in=1", None),
]
READS = ["/segments", "/shopper-profiles", f"/shopper-profiles/{UUID}/segments", "/customers"]


def assert_envelope(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    if urlsplit(response.url).path.partition("/v3")[2].startswith("/promotions"):
        # BigCommerce's Promotions reference: the envelope is the one entry of an `errors` list.
        assert set(body) == {"errors"} and len(body["errors"]) == 1, body
        body = body["errors"][0]
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    assert isinstance(body["errors"], dict)
    for name in RATE_HEADERS:
        assert name in response.headers


@pytest.mark.parametrize("token", [None, "", "wrong", OTHER_TOKEN])
def test_missing_unknown_or_other_store_token_is_401(api, make, token):
    make.segment()
    response = api.get("/segments", token=token)
    assert_envelope(response, 401)
    assert "segment-" not in response.text  # no data of any store


def test_a_token_works_only_on_its_own_store(mock, make):
    make.segment()
    other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
    assert other.get("/segments").json()["data"] == []
    assert_envelope(other.get("/segments", token="modify-1"), 401)
    assert_envelope(mock.client(store="nosuchstore").get("/segments"), 401)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_read_only_token_cannot_write(readonly, method, path, body):
    assert_envelope(readonly.request(method, path, json=body), 403)


@pytest.mark.parametrize("path", READS)
def test_read_only_token_reads(readonly, path):
    assert readonly.get(path).status_code in (200, 404)


def test_stores_are_isolated(mock, make):
    make.segment(); make.profile()
    other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
    assert other.post("/segments", json=[{"name": "segment-1"}]).status_code == 201  # same name, other store
    assert other.get("/shopper-profiles").json()["data"] == []


@pytest.mark.parametrize(
    "accept",
    [None, "", "*/*", "application/*", "application/json", "Application/JSON", "application/json; charset=utf-8",
     "text/html, application/json;q=0.1", "application/json;q=0.5, */*;q=0", "*/*;q=0, application/json;q=0.001",
     "text/html;q=0, application/*", "application/json;q=0, application/json;q=1"],
)
def test_accept_values_that_allow_json(api, accept):
    headers = {} if accept is None else {"Accept": accept}
    assert api.get("/segments", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/xml", "application/json;q=0", "*/*;q=0", "application/*;q=0, */*",
     "application/json;q=0, application/*;q=1", "application/json;q=abc", "application/json;q=1.5", "text/*"],
)
def test_accept_values_that_exclude_json_are_406(api, accept):
    assert_envelope(api.get("/segments", headers={"Accept": accept}), 406)


@pytest.mark.parametrize(
    "content_type", ["application/json", "APPLICATION/JSON", "application/json; charset=utf-8",
                     'application/json;charset="UTF-8"', "application/json; boundary=x"],
)
def test_json_content_types_accepted(api, content_type):
    response = api.post("/segments", data=b'[{"name":"n"}]', headers={"Content-Type": content_type})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
                     "application/jsonx", "multipart/form-data"],
)
def test_other_content_types_are_415(api, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = api.post("/segments", data=b'[{"name":"n"}]', headers=headers)
    assert_envelope(response, 415)
    assert api.get("/segments").json()["data"] == []


@pytest.mark.parametrize("method", ["PATCH", "HEAD", "OPTIONS", "TRACE"])
def test_unsupported_method_on_known_path_is_405_with_allow(api, method):
    response = api.request(method, "/segments")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PUT, POST, DELETE"
    for name in RATE_HEADERS:
        assert name in response.headers
    if method != "HEAD":
        assert_envelope(response, 405)


def test_405_allow_lists_the_path_methods(api):
    response = api.request("PUT", f"/shopper-profiles/{UUID}/segments")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


@pytest.mark.parametrize("path", ["/segment", "/segments/", f"/segments/{UUID}", "/", "", "/_mock/health", "/promotions/x/y"])
def test_unknown_route_is_404_envelope(api, path):
    assert_envelope(api.get(path), 404)


PROMOTION_ERRORS = [
    (401, "GET", "/promotions", {"token": None}),
    (403, "POST", "/promotions", {"token": READONLY, "json": {}}),
    (404, "GET", "/promotions/999", {}),
    (405, "PATCH", "/promotions", {}),
    (406, "GET", "/promotions", {"headers": {"Accept": "text/html"}}),
    (415, "POST", "/promotions", {"data": b"{}", "headers": {"Content-Type": "text/plain"}}),
    (413, "GET", "/promotions/1/codes?limit=251", {}),
    (400, "POST", "/promotions", {"json": {"name": 5}}),
    (422, "DELETE", "/promotions", {}),
    (404, "GET", "/promotions/x/y", {}),
]


@pytest.mark.parametrize(("status", "method", "path", "options"), PROMOTION_ERRORS,
                         ids=[f"{s}-{m}-{p}" for s, m, p, _ in PROMOTION_ERRORS])
def test_every_error_under_promotions_takes_the_promotions_reference_shape(api, status, method, path, options):
    assert_envelope(api.request(method, path, **options), status)


def test_the_promotions_error_shape_stays_under_promotions(api):
    body = api.get("/promotionsx").json()  # a sibling path is not under /promotions
    assert body["status"] == 404 and isinstance(body["errors"], dict)


def test_control_plane_is_not_under_the_api(mock):
    import requests

    assert requests.get(f"{mock.url}/_mock/health", timeout=10).status_code == 200
    assert requests.get(f"{mock.url}/stores/{STORE}/v3/_mock/health", timeout=10).status_code == 404


def test_every_api_response_carries_rate_limit_headers(api, make):
    responses = [api.get("/segments"), api.get("/segments", token=None), api.post("/segments", json=[]),
                 api.get("/nope"), api.delete("/segments?id:in=x")]
    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS), response.status_code


class TestPrecedence:
    def test_401_before_406_and_415(self, api):
        response = api.post("/segments", token=None, data=b"x", headers={"Accept": "text/html", "Content-Type": "text/plain"})
        assert response.status_code == 401

    def test_403_before_406(self, mock):
        ro = mock.client(READONLY)
        assert ro.post("/segments", data=b"x", headers={"Accept": "text/html"}).status_code == 403

    def test_406_before_415(self, api):
        assert api.post("/segments", data=b"x", headers={"Accept": "text/html", "Content-Type": "text/plain"}).status_code == 406

    def test_415_before_413_and_400(self, api):
        response = api.post("/segments", data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "text/plain"})
        assert response.status_code == 415

    def test_413_before_400(self, api):
        assert api.get("/segments?limit=251&page=x").status_code == 413
        big = b"[" + b'{"name":"n"},' * 100_000 + b"1"
        assert api.post("/segments", data=big, headers={"Content-Type": "application/json"}).status_code == 413

    def test_400_before_path_404(self, api):
        assert api.post(f"/segments/{UUID}/shopper-profiles", json=[]).status_code == 400

    def test_path_404_before_422(self, api):
        assert api.post(f"/segments/{UUID}/shopper-profiles", json=[UUID]).status_code == 404

    def test_405_before_401(self, api):
        assert api.request("PATCH", "/segments", token=None).status_code == 405

    def test_404_route_before_401(self, api):
        assert api.get("/nope", token=None).status_code == 404


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"[", b'[{"name": "a"}', b"[{'name': 'a'}]", b'[{"name": NaN}]', b'[{"name": "a"}] x',
     b"\xff\xfe[]", b'[{"name": "\xff"}]', b"[" * 100_000 + b"]" * 100_000, b"null", b"42", b'"text"',
     b'[{"name": Infinity}]'],
)
def test_malformed_bodies_are_400_at_once(api, raw):
    response = api.post("/segments", data=raw, headers={"Content-Type": "application/json"})
    assert_envelope(response, 400)
    assert api.get("/segments").json()["data"] == []


def test_huge_body_is_413_and_writes_nothing(api):
    body = [{"name": f"n{i}", "description": "d" * 900} for i in range(2000)]
    response = api.post("/segments", json=body)
    assert_envelope(response, 413)
    assert api.get("/segments").json()["meta"]["pagination"]["total"] == 0


def test_validation_errors_name_the_field_at_fault(api):
    response = api.post("/segments", json=[{"name": "ok"}, {"name": None}, {"description": "x"}])
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert "1.name" in errors and "2.name" in errors and "0.name" not in errors
    response = api.get("/segments/not-a-uuid/shopper-profiles")
    assert "segmentId" in response.json()["errors"]
