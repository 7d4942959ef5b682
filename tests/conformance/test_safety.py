"""The suite is safe to point at a real store: the guard refuses what could destroy data
the run did not create, Schemathesis cases are rewritten before sending, 429 is waited out."""

from __future__ import annotations

import socket
import types

import pytest

from conformance.client import ConformanceClient, SafetyGuard, UnsafeRequest
from conformance.fuzz import make_safe
from conformance.ledger import Listing
from mock_server.http.ratelimit import RateLimitPolicy
from tests.conformance.test_suite_against_mock import outcomes, run_suite, serve_mock
from tests.support import default_config, make_storage

OWNED = "11111111-1111-4111-8111-111111111111"
OWNED_PROFILE = "33333333-3333-4333-8333-333333333333"
FOREIGN = "22222222-2222-4222-8222-222222222222"
FOREIGN_PROFILE = "44444444-4444-4444-8444-444444444444"


def ready_guard(**ledger_fields) -> SafetyGuard:
    """A guard whose ledger saw foreign items in every collection and owns a few of its own."""
    found = SafetyGuard()
    ledger = found.ledger
    ledger.before = {
        "segments": Listing({FOREIGN: {"id": FOREIGN}}),
        "shopper-profiles": Listing({FOREIGN_PROFILE: {"id": FOREIGN_PROFILE}}),
        "customers": Listing({"5": {"id": 5}}),
        "promotions": Listing({"5": {"id": 5}, "1": {"id": 1}}),
    }
    ledger.owned = {"segments": {OWNED: "test"}, "shopper-profiles": {OWNED_PROFILE: "test"},
                    "customers": {"42": "test"}, "promotions": {"42": "test"}}
    ledger.ready, ledger.delete_proof = True, True
    for key, value in ledger_fields.items():
        setattr(ledger, key, value)
    return found


@pytest.fixture
def guard():
    return ready_guard()


UNSAFE = [
    ("DELETE", "/segments", [], None),
    ("DELETE", "/segments", [("ids", OWNED)], None),
    ("DELETE", "/segments", [("id:in", "")], None),
    ("DELETE", "/segments", [("id:in", ",")], None),
    ("DELETE", "/segments", [("id:in", " ")], None),
    ("DELETE", "/segments", [("id:in", "not-a-uuid")], None),
    ("DELETE", "/segments", [("id:in", f"{OWNED},not-a-uuid")], None),
    ("DELETE", "/segments", [("id:in", f"{OWNED},")], None),
    ("DELETE", "/segments", [("id:in", f"{OWNED},{FOREIGN}")], None),
    ("DELETE", "/segments", [("id:in", OWNED), ("id:in", FOREIGN)], None),
    ("DELETE", "/segments", [("id:in", OWNED), ("ID:IN", FOREIGN)], None),
    ("DELETE", "/segments/", [], None),
    ("DELETE", "//segments", [], None),
    ("DELETE", "/Segments", [], None),
    ("DELETE", "/segments/%2e%2e/segments", [("id:in", OWNED)], None),
    ("DELETE", "/segments%0a", [("id:in", OWNED)], None),
    ("DELETE", "/shopper-profiles", [], None),
    ("DELETE", "/shopper-profiles", [("id:in", FOREIGN_PROFILE.upper())], None),
    ("DELETE", "/customers", [], None),
    ("DELETE", "/customers", [("id:in", "5")], None),
    ("DELETE", "/customers", [("id:in", "+42")], None),
    ("DELETE", "/promotions", [], None),
    ("DELETE", "/promotions", [("id:in", "5")], None),
    ("DELETE", "/promotions/5", [], None),
    ("PUT", "/promotions/5", [], {"status": "DISABLED"}),
    ("PATCH", "/promotions/1", [], {"status": "DISABLED"}),
    ("POST", "/promotions/5/codes", [], {"code": "X"}),
    ("POST", "/promotions", [], {"name": "x", "customer": {"segments": {"id": [FOREIGN]}}}),
    ("PUT", "/customers", [], [{"id": 5, "first_name": "x"}]),
    ("PUT", "/segments", [], [{"id": OWNED}, {"id": FOREIGN, "name": "x"}]),
    ("PATCH", "/segments", [], []),
    ("POST", f"/segments/{FOREIGN}/shopper-profiles", [], [OWNED_PROFILE]),
    ("POST", f"/segments/{OWNED}/shopper-profiles", [], [FOREIGN_PROFILE]),
    ("DELETE", f"/segments/{FOREIGN}/shopper-profiles", [("id:in", OWNED_PROFILE)], None),
    ("DELETE", f"/segments/{OWNED}/shopper-profiles", [], None),
    ("DELETE", f"/segments/{OWNED}/shopper-profiles", [("id:in", FOREIGN_PROFILE)], None),
    ("POST", "/shopper-profiles", [], [{"customer_id": 5}]),
    ("POST", "/segmentz", [], []),
]
SAFE = [
    ("GET", "/segments", [("id:in", "")], None),
    ("DELETE", "/segments", [("id:in", OWNED)], None),
    ("DELETE", "/segments", [("id:in", f" {OWNED.upper()} ")], None),
    ("DELETE", "//Segments/", [("id:in", OWNED)], None),
    ("DELETE", "/customers", [("id:in", "0042")], None),
    ("DELETE", f"/segments/{OWNED}/shopper-profiles", [("id:in", OWNED_PROFILE)], None),
    ("PUT", "/segments", [], [{"id": OWNED, "name": "x"}, {"id": {"not": "a string"}}]),
    ("POST", f"/segments/{OWNED}/shopper-profiles", [], [OWNED_PROFILE, "junk"]),
    ("PATCH", f"/segments/{OWNED}/shopper-profiles", [], []),
    ("DELETE", "/promotions/42", [], None),
    ("PUT", "/promotions/042", [], {"status": "DISABLED"}),
    ("POST", "/shopper-profiles", [], [{"customer_id": 42}, {"customer_id": 0}]),
    ("POST", "/segments", [], [{"name": "x"}]),
    ("POST", "/promotions", [], {"name": "x", "customer": {"segments": {"id": [OWNED]}}}),
]


@pytest.mark.parametrize(("method", "path", "query", "body"), UNSAFE)
def test_guard_refuses(guard, method, path, query, body):
    with pytest.raises(UnsafeRequest):
        guard.check(method, path, query, body)
    SafetyGuard(allow_destructive=True).check(method, path, query, body)


@pytest.mark.parametrize(("method", "path", "query", "body"), SAFE)
def test_guard_allows(guard, method, path, query, body):
    guard.check(method, path, query, body)


def test_minted_ids_may_be_named(guard):
    minted = guard.fresh_uuid()
    guard.check("PUT", "/segments", [], [{"id": minted, "name": "x"}])
    guard.check("DELETE", "/segments", [("id:in", minted)], None)
    absent = guard.absent_integer("customers")
    assert str(absent) not in guard.ledger.foreign("customers")
    guard.check("POST", "/shopper-profiles", [], [{"customer_id": absent}])


def test_no_write_before_the_inventory_and_none_after_foreign_data_changed():
    with pytest.raises(UnsafeRequest, match="ledger"):
        ready_guard(ready=False).check("POST", "/segments", [], [{"name": "x"}])
    with pytest.raises(UnsafeRequest, match="stopped"):
        ready_guard(halted="foreign data changed after DELETE ...").check("POST", "/segments", [], [{"name": "x"}])


def test_top_level_deletes_wait_for_the_proof_unless_nothing_foreign_is_there():
    unproven = ready_guard(delete_proof=False, delete_proof_reason="the probe found the segment empty")
    with pytest.raises(UnsafeRequest, match="probe found"):
        unproven.check("DELETE", "/segments", [("id:in", OWNED)], None)
    unproven.check("DELETE", f"/segments/{OWNED}/shopper-profiles", [("id:in", OWNED_PROFILE)], None)  # inside its own segment
    unproven.check("DELETE", "/promotions/42", [], None)  # the path names the only target
    unproven.ledger.before["segments"] = Listing({})
    unproven.check("DELETE", "/segments", [("id:in", OWNED)], None)  # nothing foreign to lose
    unproven.ledger.before["customers"] = Listing({})
    with pytest.raises(UnsafeRequest):  # deleting customers takes their profiles, and foreign profiles exist
        unproven.check("DELETE", "/customers", [("id:in", "42")], None)


def test_no_create_into_a_collection_the_inventory_could_not_list(guard):
    guard.ledger.before["customers"] = Listing(None, "GET /customers answered 404")
    with pytest.raises(UnsafeRequest, match="could not be listed"):
        guard.check("POST", "/customers", [], [{"email": "a@b", "first_name": "a", "last_name": "b"}])
    guard.check("POST", "/segments", [], [{"name": "x"}])
    # The SCHEMA rule asks first, so that it does not draw requests that would all be refused.
    assert "customers could not be listed" in guard.unprovable_create("POST", "/customers")
    assert guard.unprovable_create("GET", "/customers") == "" and guard.unprovable_create("POST", "/segments") == ""
    assert SafetyGuard(allow_destructive=True).unprovable_create("POST", "/customers") == ""


def test_a_refused_request_is_never_sent(guard):
    with socket.socket() as listener:  # a port that accepts nothing
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    client = ConformanceClient(f"http://127.0.0.1:{port}/stores/x/v3", "token", guard, [])
    with pytest.raises(UnsafeRequest):
        client.delete("/segments")
    assert client.journal == []


def fake_case(method, template, path_parameters=None, query=None, body=None):
    return types.SimpleNamespace(method=method, path_parameters=path_parameters or {}, query=query, body=body,
                                 operation=types.SimpleNamespace(path=template))


def test_generated_cases_are_rewritten_to_pass_the_guard(guard):
    guard.ledger.marker = "cfmark"
    cases = [
        fake_case("DELETE", "/segments", query={}),
        fake_case("DELETE", "/segments", query={"id:in": ["", " "]}),
        fake_case("DELETE", "/shopper-profiles", query={"id:in": [FOREIGN_PROFILE, OWNED_PROFILE, "junk"]}),
        fake_case("DELETE", "/customers", query={"id:in": "5,42"}),
        fake_case("PUT", "/segments", body=[{"id": FOREIGN, "name": "renamed"}, {"id": OWNED}]),
        fake_case("POST", "/segments/{segmentId}/shopper-profiles", path_parameters={"segmentId": FOREIGN}, body=[FOREIGN_PROFILE]),
        fake_case("POST", "/shopper-profiles", body=[{"customer_id": 5}]),
        fake_case("PUT", "/promotions/{id}", path_parameters={"id": 5}, body={"name": "p"}),
        fake_case("POST", "/customers", body=[{"email": "a@b", "first_name": "x", "last_name": "y"}, {"email": "@bad"}]),
    ]
    for case in cases:
        make_safe(case, guard)
        path = case.operation.path
        for name, value in case.path_parameters.items():
            path = path.replace("{" + name + "}", str(value))
        query = [(k, ",".join(map(str, v)) if isinstance(v, list) else v) for k, v in (case.query or {}).items()]
        guard.check(case.method, path, query, case.body)
    delete, blank, profiles, customers, update, add, profile, promotion, create = cases
    assert profiles.query["id:in"] == [OWNED_PROFILE]
    assert customers.query["id:in"] == ["42"]
    assert update.body[0]["id"] != FOREIGN and update.body[0]["name"] == "cfmark-renamed" and update.body[1]["id"] == OWNED
    assert add.path_parameters["segmentId"] != FOREIGN and add.body != [FOREIGN_PROFILE]
    assert profile.body[0]["customer_id"] != 5
    assert promotion.path_parameters["id"] != 5 and promotion.body["name"] == "cfmark-p"
    assert create.body[0]["email"] == "cfmark-a@b" and create.body[1]["email"] == "@bad"  # an invalid one stays invalid


def test_suite_waits_out_429(tmp_path):
    config = default_config(rate_limit=RateLimitPolicy(quota=8, window_ms=700, enforce=True))
    with serve_mock(make_storage("memory", tmp_path), config) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "-k", "SEG_CREATE or SEG_LIST or MEMBER_ADD or REL_REMOVE", schema=False)
    assert code == 4 and report["verdict"] == "incomplete", output[-3000:]  # a -k subset
    assert {outcomes(report)[r] for r in ("SEG-CREATE", "SEG-LIST", "MEMBER-ADD", "REL-REMOVE")} == {"passed"}
