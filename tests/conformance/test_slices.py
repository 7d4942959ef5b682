"""A target that serves only the segmentation operations (no Customers, no Promotions):
its segmentation rules are judged, with customers the user lends by --customer-id for the
shopper profiles; what needs the missing slices is "not run" with the reason; the
verdict is incomplete, never conformant and never a failure of rules that could not run."""

from __future__ import annotations

import types

from mock_server.storage import MemoryStorage
from tests.conformance.targets import UnsafeProxy, serve_app
from tests.conformance.test_suite_against_mock import outcomes, run_suite, serve_mock

SEGMENTATION_RULES_ON_PROFILES = ("IDS", "TIMESTAMPS", "PROFILE-CREATE", "PROFILE-ONE-PER-CUSTOMER", "PROFILE-NO-GUESTS",
                                  "MEMBER-ADD", "MEMBER-LISTS", "MEMBER-MAX-50", "MEMBER-CONFLICT", "REL-PROFILE-DELETE")


def lendable_store(direct) -> tuple[list[int], int, dict]:
    """52 customers without a profile (the most one test needs is 51), one with a profile."""
    customers = []
    for start in range(0, 53, 10):  # at most 10 customers per create, as on the platform
        body = [{"email": f"lent-{i}@example.com", "first_name": "Lent", "last_name": str(i)} for i in range(start, min(start + 10, 53))]
        customers += [c["id"] for c in direct.post("/customers", json=body).json()["data"]]
    [profile] = direct.post("/shopper-profiles", json=[{"customer_id": customers[-1]}]).json()["data"]
    before = {
        "customers": direct.get("/customers?limit=250").json()["data"],
        "profiles": direct.get("/shopper-profiles?limit=250").json()["data"],
    }
    return customers[:-1], customers[-1], before | {"profile": profile}


def test_a_segmentation_only_target_is_judged_with_lent_customers(tmp_path):
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        free, with_profile, before = lendable_store(direct)
        proxy = UnsafeProxy(mock.url, "serves only segmentation")
        with serve_app(proxy.app) as url:
            lent = ["--customer-id", ",".join(map(str, free[:30]))] + [arg for c in (*free[30:], with_profile)
                                                                        for arg in ("--customer-id", str(c))]
            # The SCHEMA rule is not what this test is about: left out (its collection costs seconds).
            code, report, output = run_suite(types.SimpleNamespace(url=url), tmp_path / "report", *lent, schema=False)
        after = {"customers": direct.get("/customers?limit=250").json()["data"],
                 "profiles": direct.get("/shopper-profiles?limit=250").json()["data"]}
    got = outcomes(report)
    assert code == 4 and report["verdict"] == "incomplete", output[-3000:]
    for rule in SEGMENTATION_RULES_ON_PROFILES:
        assert got[rule] == "passed", (rule, output[-3000:])
    reasons = {r["id"]: r["reason"] for r in report["not_run"]}
    assert "does not serve the customers slice" in reasons["CUSTOMER-FIELDS"], reasons
    assert "does not serve the promotions slice" in reasons["PROMO-CREATE"], reasons
    assert report["doc_failures"] == [] and report["choice_failures"] == [], output[-3000:]
    # The customer that already had a profile was not used, and the report says so.
    assert any(f["behaviour"] == "lent customers not used" and str(with_profile) in f["detail"]
               for f in report["unsafe_behaviours"]), report["unsafe_behaviours"]
    # The lent customers are as they were: the run's profiles are gone, the foreign one stays.
    assert after["customers"] == before["customers"] and after["profiles"] == before["profiles"], output[-3000:]
    assert report["foreign_data_changed"] == [] and report["left_behind"] == []


def test_without_lent_customers_the_rules_on_profiles_say_how_to_run_them(tmp_path):
    with serve_mock(MemoryStorage()) as mock:
        proxy = UnsafeProxy(mock.url, "serves only segmentation")
        with serve_app(proxy.app) as url:
            code, report, output = run_suite(types.SimpleNamespace(url=url), tmp_path / "report", "-k", "PROFILE_CREATE",
                                             schema=False)
    assert code == 4, output[-3000:]
    reason = {r["id"]: r["reason"] for r in report["not_run"]}["PROFILE-CREATE"]
    assert "customers slice" in reason and "--customer-id" in reason, reason


def test_customer_ids_must_be_whole_numbers(tmp_path):
    with serve_mock(MemoryStorage()) as mock:
        code, _, output = run_suite(mock, tmp_path / "report", "--customer-id", "12,abc", schema=False)
    assert code == 2 and "--customer-id takes customer IDs" in output, output[-2000:]
    assert report_is_absent(tmp_path / "report")


def report_is_absent(directory) -> bool:
    return not (directory / "conformance-report.json").exists()
