"""Authentication, scopes, error envelopes, bad input and the rate-limit headers."""

from __future__ import annotations

import pytest

from .helpers import expect_refusal

RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms", "X-Rate-Limit-Requests-Quota", "X-Rate-Limit-Requests-Left")


@pytest.mark.rule("AUTH")
@pytest.mark.parametrize("token", [None, "not-a-token-of-this-store"])
def test_missing_or_unknown_token_is_401(api, checks, token):
    response = api.get("/segments", token=token)
    checks.must(response.status_code == 401, f"expected 401, got {response.status_code}")


@pytest.mark.rule("AUTH-OTHER-STORE")
def test_token_on_another_store_shows_nothing(api, make, checks, target):
    if "/stores/" not in target.api_base:
        pytest.skip("not run: the API base names no store (no --store-hash), so there is no other store to ask")
    segment = make.segment()
    other = api.__class__(target.api_base.rsplit("/stores/", 1)[0] + "/stores/zz-conformance-other/v3", target.token, api.guard, api.journal)
    response = other.get("/segments")
    checks.must(400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}")
    checks.must(segment["id"] not in response.text and segment["name"] not in response.text, "no data of the token's store")


@pytest.mark.rule("SCOPES")
def test_read_only_token_reads_but_does_not_write(readonly_api, api, make, checks):
    segment = make.segment()
    checks.must(readonly_api.get("/segments").status_code == 200, "read-only token lists segments")
    checks.must(readonly_api.get("/shopper-profiles").status_code == 200, "read-only token lists shopper profiles")
    response = readonly_api.get(f"/segments/{segment['id']}/shopper-profiles")
    checks.must(response.status_code == 403, f"listing a segment's profiles needs modify; got {response.status_code}")
    response = readonly_api.post("/segments", [{"name": make.name()}])
    checks.must(response.status_code == 403, f"read-only create must be 403, got {response.status_code}")
    # Every other write, on what the run owns: refused, and nothing changed.
    profile = make.profile()
    writes = [("PUT", "/segments", [{"id": segment["id"], "name": make.name()}]),
              ("POST", f"/segments/{segment['id']}/shopper-profiles", [profile["id"]]),
              ("DELETE", f"/segments/{segment['id']}/shopper-profiles?id:in={profile['id']}", None),
              ("DELETE", f"/segments?id:in={segment['id']}", None),
              ("POST", "/shopper-profiles", [{"customer_id": profile["customer_id"]}]),
              ("DELETE", f"/shopper-profiles?id:in={profile['id']}", None)]
    for method, path, body in writes:
        response = readonly_api.request(method, path, json_body=body)
        checks.must(response.status_code == 403, f"read-only {method} {path.split('?')[0]} must be 403, got {response.status_code}")
    after = api.get(f"/segments?id:in={segment['id']}").json()["data"]
    checks.must([s["name"] for s in after] == [segment["name"]], "the read-only writes changed or deleted the segment")


@pytest.mark.rule("ERROR-ENVELOPE", "ERROR-STATUS")
def test_validation_error_uses_the_envelope(api, checks):
    response = api.post("/segments", [{"description": "no name"}])
    checks.must(400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}")
    body = response.json()
    for key, kind in (("status", int), ("title", str), ("type", str)):
        checks.must(isinstance(body.get(key), kind), f"error envelope field {key!r}: {body.get(key)!r}")
    checks.must(body["status"] == response.status_code, "status repeats the HTTP status")
    checks.must(isinstance(body.get("errors"), dict), f"errors maps fields to messages, got {body.get('errors')!r}")


BAD_BODIES = [
    ("malformed JSON", b'[{"name": "a"'),
    ("empty array", b"[]"),
    ("null name", b'[{"name": null}]'),
    ("number as name", b'[{"name": 5}]'),
    ("object instead of array", b'{"name": "a"}'),
]


@pytest.mark.rule("ERROR-STATUS", "BATCH-ATOMIC")
@pytest.mark.parametrize(("why", "raw"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_segment_bodies_are_4xx(api, checks, why, raw):
    response = api.post("/segments", data=raw, headers={"Content-Type": "application/json"})
    expect_refusal(checks, response, why, route_served=False)


@pytest.mark.rule("ERROR-STATUS")
def test_unknown_references_are_4xx_and_write_nothing(api, make, checks, guard):
    segment = make.segment()
    profile = make.profile()
    missing = guard.fresh_uuid()
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", [profile["id"], missing])
    checks.must(400 <= response.status_code < 500, f"an unknown profile must be refused, got {response.status_code}")
    checks.must(api.get(f"/segments/{segment['id']}/shopper-profiles").json()["data"] == [], "nothing was added")
    response = api.put("/segments", [{"id": missing, "name": make.name()}])
    checks.must(400 <= response.status_code < 500, f"updating an unknown segment must be refused, got {response.status_code}")
    response = api.get(f"/segments/{missing}/shopper-profiles")
    checks.must(400 <= response.status_code < 500, f"an unknown segment in the path must be refused, got {response.status_code}")


@pytest.mark.rule("ERROR-STATUS")
def test_wrong_content_type_and_accept_are_4xx(api, checks):
    response = api.post("/segments", data=b'[{"name": "x"}]', headers={"Content-Type": "text/plain"})
    checks.must(400 <= response.status_code < 500 and response.status_code not in (401, 403, 404, 405),
                f"a text/plain body must be refused, got {response.status_code}")
    checks.should(response.status_code == 415, f"BEHAVIOR's choice is 415; the target answered {response.status_code}")
    response = api.get("/segments", headers={"Accept": "application/xml"})
    checks.must(400 <= response.status_code < 500 and response.status_code not in (401, 403, 404, 405),
                f"Accept: application/xml excludes JSON and must be refused, got {response.status_code}")
    checks.should(response.status_code == 406, f"BEHAVIOR's choice is 406; the target answered {response.status_code}")


@pytest.mark.rule("RATE-LIMIT-HEADERS")
def test_rate_limit_headers_on_every_response(api, checks, target):
    responses = [api.get("/segments"), api.get("/segments", token=None), api.post("/segments", [])]
    if "/stores/" in target.api_base:  # an unknown store hash gets the headers too
        unknown = api.__class__(target.api_base.rsplit("/stores/", 1)[0] + "/stores/zz-conformance-unknown/v3", target.token,
                                api.guard, api.journal)
        responses.append(unknown.get("/segments"))
    for response in responses:
        missing = [h for h in RATE_HEADERS if h not in response.headers]
        checks.must(not missing, f"{response.status_code} answer to {response.request.url} lacks {missing}")


@pytest.mark.rule("ROUTES")
def test_unknown_routes_and_methods_are_refused(api, make, checks):
    response = api.get("/segmentz")
    checks.must(400 <= response.status_code < 500, f"unknown route: {response.status_code}")
    checks.should(response.status_code == 404, f"unknown route SHOULD be 404, got {response.status_code}")
    # An undocumented method, on a path that names only what the run owns.
    segment = make.segment()
    response = api.request("PATCH", f"/segments/{segment['id']}/shopper-profiles", json_body=[])
    checks.must(400 <= response.status_code < 500, f"PATCH on a segment's profiles: {response.status_code}")
    checks.should(response.status_code == 405 and "GET" in response.headers.get("Allow", ""),
                  f"SHOULD be 405 with Allow, got {response.status_code} Allow={response.headers.get('Allow')!r}")


JSON_ACCEPTS = [None, "application/json", "*/*", "application/json; charset=utf-8"]
# BEHAVIOR §5's precedence: the most specific range that matches application/json decides
# (parameters other than q add no specificity), the highest q among equally specific ones,
# and only q=0 there excludes; an unparsable q is refused.
JSON_ACCEPTS_SHOULD = ["application/*", "APPLICATION/JSON", "text/html, application/json;q=0.5", "application/json;q=1.0",
                       "application/json;q=0.1, */*;q=0", "*/*;q=0.5, application/json;q=0.2",
                       "application/json; charset=utf-8; q=0.3, application/json;q=0", "text/html;q=0.9, application/*;q=0.1"]
REFUSED_ACCEPTS = ["text/html", "application/xml", "text/plain, text/html;q=0.9"]
REFUSED_ACCEPTS_SHOULD = ["application/json;q=0", "*/*;q=0.8, application/json;q=0", "application/*;q=1, application/json;q=0",
                          "application/*;q=0, */*", "application/json;q=abc"]


@pytest.mark.rule("CONTENT-NEGOTIATION")
def test_accept_and_content_type(api, make, checks):
    for accept in JSON_ACCEPTS + JSON_ACCEPTS_SHOULD:
        response = api.get("/segments?limit=1", headers={"Accept": accept})  # None: no Accept header at all
        served = response.status_code == 200 and response.headers.get("Content-Type", "").lower().startswith("application/json")
        (checks.must if accept in JSON_ACCEPTS else checks.should)(served, f"Accept: {accept!r} means JSON; got {response.status_code}")
    for accept in REFUSED_ACCEPTS + REFUSED_ACCEPTS_SHOULD:
        response = api.get("/segments?limit=1", headers={"Accept": accept})
        refused = 400 <= response.status_code < 500 and response.status_code not in (401, 403, 404, 405, 429)
        (checks.must if accept in REFUSED_ACCEPTS else checks.should)(refused, f"Accept: {accept!r} excludes JSON; got {response.status_code}")
    response = api.post("/segments", data=f'[{{"name": "{make.name()}"}}]'.encode(),
                        headers={"Content-Type": "application/json; charset=utf-8"})
    checks.must(response.status_code == 201, f"Content-Type: application/json; charset=utf-8 is JSON; got {response.status_code}")
    for content_type in (None, "application/json; charset=latin-1", "application/vnd.api+json"):
        response = api.post("/segments", data=f'[{{"name": "{make.name()}"}}]'.encode(),
                            headers={"Content-Type": content_type} if content_type else {})
        checks.should(response.status_code == 415, f"Content-Type: {content_type!r}: BEHAVIOR's choice is 415; the target answered {response.status_code}")
