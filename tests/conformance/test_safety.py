"""The suite is safe to point at a real store: the guard refuses what could destroy data
the run did not create, Schemathesis cases are rewritten before sending, 429 is waited out."""

from __future__ import annotations

import socket
import types

import pytest

from conformance.client import ConformanceClient, SafetyGuard, UnsafeRequest
from conformance.fuzz import make_safe
from mock_server.http.ratelimit import RateLimitPolicy
from tests.conformance.test_suite_against_mock import outcomes, run_suite, serve_mock
from tests.support import default_config, make_storage

OWNED = "11111111-1111-4111-8111-111111111111"
FOREIGN = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def guard():
    found = SafetyGuard()
    found.owned |= {OWNED, "42"}
    return found


UNSAFE = [
    ("DELETE", "/segments", [], None),
    ("DELETE", "/segments", [("ids", OWNED)], None),
    ("DELETE", "/shopper-profiles", [], None),
    ("DELETE", "/segments", [("id:in", f"{OWNED},{FOREIGN}")], None),
    ("DELETE", "/shopper-profiles", [("id:in", FOREIGN.upper())], None),
    ("DELETE", "/customers", [("id:in", "5")], None),
    ("PUT", "/segments", [], [{"id": OWNED}, {"id": FOREIGN, "name": "x"}]),
    ("POST", f"/segments/{FOREIGN}/shopper-profiles", [], [OWNED]),
    ("DELETE", f"/segments/{FOREIGN}/shopper-profiles", [("id:in", OWNED)], None),
    ("DELETE", "/promotions/5", [], None),
    ("PUT", "/promotions/5", [], {"status": "DISABLED"}),
    ("POST", "/promotions/5/codes", [], {"code": "X"}),
    ("DELETE", "/promotions", [("id:in", "5")], None),
]
SAFE = [
    ("GET", "/segments", [], None),
    ("DELETE", "/segments", [("id:in", OWNED)], None),
    ("DELETE", "/segments", [("id:in", "not-a-uuid,,")], None),
    ("DELETE", "/customers", [("id:in", "0042")], None),
    ("DELETE", f"/segments/{OWNED}/shopper-profiles", [], None),
    ("PUT", "/segments", [], [{"id": OWNED, "name": "x"}, {"id": {"not": "a string"}}]),
    ("POST", f"/segments/{OWNED}/shopper-profiles", [], [FOREIGN]),
    ("PATCH", "/segments", [], None),
    ("DELETE", "/promotions/42", [], None),
    ("PUT", "/promotions/042", [], {"status": "DISABLED"}),
    ("DELETE", "/promotions", [], None),  # absent id:in is refused by the API itself (422)
]


@pytest.mark.parametrize(("method", "path", "query", "body"), UNSAFE)
def test_guard_refuses(guard, method, path, query, body):
    with pytest.raises(UnsafeRequest):
        guard.check(method, path, query, body)
    SafetyGuard(allow_destructive=True).check(method, path, query, body)


@pytest.mark.parametrize(("method", "path", "query", "body"), SAFE)
def test_guard_allows(guard, method, path, query, body):
    guard.check(method, path, query, body)


def test_a_refused_request_is_never_sent(guard):
    with socket.socket() as listener:  # a port that accepts nothing
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    client = ConformanceClient(f"http://127.0.0.1:{port}/stores/x/v3", "token", guard, [])
    with pytest.raises(UnsafeRequest):
        client.delete("/segments")
    assert client.journal == []


def fake_case(method, operation_id, path_parameters=None, query=None, body=None, unscoped=None):
    raw = {"operationId": operation_id, **({"x-unscoped-delete": unscoped} if unscoped else {})}
    return types.SimpleNamespace(
        method=method,
        path_parameters=path_parameters or {},
        query=query,
        body=body,
        operation=types.SimpleNamespace(definition=types.SimpleNamespace(raw=raw)),
    )


def test_generated_cases_are_rewritten_to_be_safe(guard):
    unscoped = fake_case("DELETE", "deleteSegments", query={}, unscoped="id:in")
    make_safe(unscoped, guard)
    [fresh] = unscoped.query["id:in"]
    assert fresh in guard.owned and fresh != OWNED

    foreign = fake_case("DELETE", "deleteShopperProfiles", query={"id:in": [FOREIGN, OWNED, "junk"]}, unscoped="id:in")
    make_safe(foreign, guard)
    assert foreign.query["id:in"][1:] == [OWNED, "junk"] and foreign.query["id:in"][0] in guard.owned

    customers = fake_case("DELETE", "deleteCustomers", query={"id:in": "7,42"})
    make_safe(customers, guard)
    assert customers.query["id:in"] == ["not-a-customer-of-this-run", "42"]

    update = fake_case("PUT", "updateSegments", body=[{"id": FOREIGN}, {"id": OWNED}])
    make_safe(update, guard)
    assert update.body[0]["id"] in guard.owned and update.body[1]["id"] == OWNED

    add = fake_case("POST", "addSegmentShopperProfiles", path_parameters={"segmentId": FOREIGN}, body=[FOREIGN])
    make_safe(add, guard)
    assert add.path_parameters["segmentId"] != FOREIGN and add.body == [FOREIGN]
    for case in (unscoped, foreign, customers, update, add):
        path = "/segments" if case.method != "POST" else f"/segments/{case.path_parameters['segmentId']}/shopper-profiles"
        if case.operation.definition.raw["operationId"] == "deleteShopperProfiles":
            path = "/shopper-profiles"
        if case.operation.definition.raw["operationId"] == "deleteCustomers":
            path = "/customers"
        query = [(k, ",".join(v) if isinstance(v, list) else v) for k, v in (case.query or {}).items()]
        guard.check(case.method, path, query, case.body)


def test_suite_waits_out_429(tmp_path):
    config = default_config(rate_limit=RateLimitPolicy(quota=8, window_ms=700, enforce=True))
    with serve_mock(make_storage("memory", tmp_path), config) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "-k", "SEG_CREATE or SEG_LIST or MEMBER_ADD or REL_REMOVE")
    assert code == 0, output[-3000:]
    assert {outcomes(report)[r] for r in ("SEG-CREATE", "SEG-LIST", "MEMBER-ADD", "REL-REMOVE")} == {"passed"}
