"""The suite is safe on targets that do NOT conform: run without --allow-destructive
against real servers that get deletes and creates dangerously wrong, it leaves every
item it did not create present and unchanged, and its report names what it saw."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import types
from urllib.parse import parse_qsl, urlsplit

import pytest

from mock_server.storage import MemoryStorage
from tests.conformance.targets import CANNED_CUSTOMER, CANNED_PROFILE, CANNED_PROMOTION, CANNED_SEGMENT, UnsafeProxy, canned_app, serve_app
from tests.conformance.test_suite_against_mock import outcomes, read_report, run_suite, serve_mock, suite_command

WELL_FORMED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]+")
FEW_EXAMPLES = {"CONFORMANCE_MAX_EXAMPLES": "2"}


def seed_foreign(api) -> dict:
    """Data the suite did not create: customers with profiles in segments, a coupon promotion."""
    customers = api.post("/customers", json=[{"email": f"keep-{i}@example.com", "first_name": "Keep", "last_name": "Me"} for i in (1, 2, 3)]).json()["data"]
    profiles = api.post("/shopper-profiles", json=[{"customer_id": c["id"]} for c in customers[:2]]).json()["data"]
    segments = api.post("/segments", json=[{"name": "keep-1"}, {"name": "keep-2", "description": "kept"}]).json()["data"]
    assert api.post(f"/segments/{segments[0]['id']}/shopper-profiles", json=[p["id"] for p in profiles]).status_code == 201
    promotion = {"name": "keep", "redemption_type": "COUPON", "rules": [{"action": {}}], "codes": {"code": "KEEP10"},
                 "customer": {"segments": {"id": [segments[0]["id"]]}}}
    assert api.post("/promotions", json=promotion).status_code == 201
    return foreign_state(api)


def foreign_state(api) -> dict:
    """Everything in the store, with every segment's members (read from the mock directly)."""
    segments = api.get("/segments?limit=250").json()["data"]
    return {
        "segments": segments,
        "profiles": api.get("/shopper-profiles?limit=250").json()["data"],
        "customers": api.get("/customers?limit=250&include=shopper_profile_id,segment_ids").json()["data"],
        "promotions": (promotions := api.get("/promotions?limit=250").json()["data"]),
        "codes": {p["id"]: api.get(f"/promotions/{p['id']}/codes?limit=250").json()["data"] for p in promotions},
        "members": {s["id"]: api.get(f"/segments/{s['id']}/shopper-profiles?limit=250").json()["data"] for s in segments},
    }


def only(state: dict, before: dict) -> dict:
    """The part of `state` that holds the items of `before` (what the run created may remain)."""
    ids = {key: {item["id"] for item in before[key]} for key in ("segments", "profiles", "customers", "promotions")}
    kept = {key: [item for item in state[key] if item["id"] in ids[key]] for key in ids}
    kept["members"] = {sid: members for sid, members in state["members"].items() if sid in ids["segments"]}
    kept["codes"] = {pid: codes for pid, codes in state["codes"].items() if pid in ids["promotions"]}
    return kept


def assert_deletes_were_explicit(received: list[tuple[str, str]]) -> None:
    """Every DELETE the target got named its targets: a path ID, or a non-empty, well-formed id:in."""
    for method, full_path in received:
        if method != "DELETE":
            continue
        split = urlsplit(full_path)
        entries = [e for k, v in parse_qsl(split.query, keep_blank_values=True) if k == "id:in" for e in v.split(",")]
        scoped_by_path = re.search(r"/promotions/[0-9]+(/codes/[0-9]+)?$", split.path) is not None  # one promotion, or one code
        assert scoped_by_path or entries, f"DELETE without id:in: {full_path}"
        assert all(WELL_FORMED.fullmatch(e) for e in entries), f"malformed or blank id:in entry: {full_path}"


@pytest.mark.parametrize("behaviour", ["empty id:in means all", "malformed entries dropped", "idempotent profile create",
                                       "unscoped deletes delete all", "ignores id:in on DELETE",
                                       "redirects deletes to the whole collection"])
def test_foreign_data_survives_a_non_conforming_target(behaviour, tmp_path, monkeypatch):
    for name, value in FEW_EXAMPLES.items():
        monkeypatch.setenv(name, value)
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        before = seed_foreign(direct)
        proxy = UnsafeProxy(mock.url, behaviour)
        with serve_app(proxy.app) as url:
            code, report, output = run_suite(types.SimpleNamespace(url=url), tmp_path / "report")
        after = only(foreign_state(direct), before)
    assert after == before, f"{behaviour}: foreign data changed\n{output[-3000:]}"
    assert report["foreign_data_changed"] == [], output[-3000:]
    assert report["audited"], output[-3000:]
    assert_deletes_were_explicit(proxy.received)
    got = outcomes(report)
    behaviours = [f["behaviour"] for f in report["unsafe_behaviours"]]
    if behaviour == "empty id:in means all":
        assert got["IDIN-EMPTY"] == "failed" and code == 1, output[-3000:]
    elif behaviour == "malformed entries dropped":
        assert got["IDIN-MALFORMED"] == "failed" and code == 1, output[-3000:]
    elif behaviour == "idempotent profile create":
        assert got["CREATE-FRESH-ID"] == "failed" and got["PROFILE-ONE-PER-CUSTOMER"] == "failed" and code == 1, output[-3000:]
        assert "create answered with an item of an earlier create" in behaviours
    elif behaviour == "unscoped deletes delete all":
        # Never sent without --allow-destructive, so never seen: the report says what it left unchecked.
        assert {got["UNSCOPED-DELETE"], got["UNSCOPED-PROFILE-DELETE"], got["IDIN-MALFORMED-DELETE"]} == {"not run"}
        assert code == 0 and report["verdict"] == "conformant on every non-destructive rule", output[-3000:]
    elif behaviour == "redirects deletes to the whole collection":
        # A redirect is an answer, never followed: no scoped delete reached the mock, so what
        # the run made stays, and the rules that delete fail on the 307.
        assert got["REL-REMOVE"] == "failed" and code == 1, output[-3000:]
        assert report["left_behind"], output[-3000:]
    else:
        assert "ignores id:in on DELETE" in behaviours, output[-3000:]
        assert got["REL-REMOVE"] == "failed" and code == 1, output[-3000:]
        # Top-level deletes were never proven safe: what the run made stays, and the report lists it.
        assert report["left_behind"], output[-3000:]
    assert "segmentation conformance" in output


def test_a_target_that_answers_2xx_to_everything_loses_nothing(tmp_path, monkeypatch):
    for name, value in FEW_EXAMPLES.items():
        monkeypatch.setenv(name, value)
    app = canned_app()
    with serve_app(app) as url:
        code, report, output = run_suite(types.SimpleNamespace(url=url), tmp_path / "report")
    received = app.config["received"]
    assert code == 1, output[-3000:]
    assert outcomes(report)["CREATE-FRESH-ID"] == "failed", output[-3000:]
    assert "create answered with an existing item" in [f["behaviour"] for f in report["unsafe_behaviours"]]
    canned_ids = {CANNED_SEGMENT["id"], CANNED_PROFILE["id"], str(CANNED_CUSTOMER["id"]), str(CANNED_PROMOTION["id"])}
    writes = [(m, p) for m, p in received if m not in ("GET", "HEAD", "OPTIONS")]
    assert writes, "the suite sent no write at all"
    for method, full_path in writes:
        split = urlsplit(full_path)
        named = set(re.findall(r"[0-9a-f-]{36}|(?<=/promotions/)[0-9]+", split.path))
        named |= {e for k, v in parse_qsl(split.query, keep_blank_values=True) if k == "id:in" for e in v.split(",")}
        assert not named & canned_ids, f"{method} {full_path} names an item the run did not create"
    assert_deletes_were_explicit(received)


def test_a_target_that_stops_answering_is_not_failed_for_it(tmp_path, monkeypatch):
    """A target that goes away mid-run (every connection dropped unanswered, from its 151st
    request on): the rule under way is not run, never failed; the run stops like on a
    signal and says why. Foreign data is untouched."""
    for name, value in FEW_EXAMPLES.items():
        monkeypatch.setenv(name, value)
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        before = seed_foreign(direct)
        proxy = UnsafeProxy(mock.url, "stops answering")
        with serve_app(proxy.app) as url:
            code, report, output = run_suite(types.SimpleNamespace(url=url), tmp_path / "report")
        after = only(foreign_state(direct), before)
    assert after == before, output[-3000:]
    assert code == 4 and report["interrupted"] == "the target, which stopped answering", output[-3000:]
    assert report["verdict"] == "incomplete" and "failed" not in outcomes(report).values(), output[-3000:]
    reasons = {r["id"]: r["reason"] for r in report["not_run"]}
    assert any(reason.startswith("the target stopped answering") for reason in reasons.values()), reasons
    # The rules after it: not reached, never "not selected" (the run did select them).
    assert "not reached: the run was stopped by the target, which stopped answering" in reasons.values(), reasons
    assert "STOPPED  by the target, which stopped answering" in output


@pytest.mark.parametrize("after_s", [1.0, 6.0, 15.0])
def test_a_run_stopped_by_sigterm_cleans_up_and_reports(after_s, tmp_path):
    """Whenever SIGTERM lands (start-up, behavioural rules, fuzzing), the run deletes what it
    made, leaves foreign data alone, writes its reports and exits non-zero."""
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        before = seed_foreign(direct)
        process = subprocess.Popen(suite_command(mock.url, tmp_path / "report"), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        time.sleep(after_s)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
        after = foreign_state(direct)
    assert process.returncode in (1, 4), output[-3000:]
    assert after == before, f"left behind or changed after SIGTERM at {after_s}s\n{output[-3000:]}"
    report = read_report(tmp_path / "report")
    assert report["interrupted"] == "SIGTERM", output[-3000:]
    assert "STOPPED  by SIGTERM" in output


def test_max_time_stops_the_run_like_a_signal(tmp_path):
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        before = seed_foreign(direct)
        result = subprocess.run(suite_command(mock.url, tmp_path / "report", "--max-time", "5"), capture_output=True,
                                text=True, timeout=180)
        after = foreign_state(direct)
    output = result.stdout + result.stderr
    assert result.returncode in (1, 4), output[-3000:]
    assert after == before, output[-3000:]
    assert read_report(tmp_path / "report")["interrupted"] == "--max-time"


@pytest.mark.parametrize("budget", [16, 20, 24, 28, 32, 36, 40])
def test_a_run_stopped_at_any_request_of_its_start_cleans_up(budget, tmp_path):
    """--max-requests stops the run at a chosen request, deterministically: in the
    inventory, in the delete probe, in the first rules. Whatever was under way, the
    store ends as it was (the probe is finished first when it was cut off, so that the
    cleanup may delete)."""
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        before = seed_foreign(direct)
        code, report, output = run_suite(mock, tmp_path / "report", "--max-requests", str(budget), schema=False)
        after = foreign_state(direct)
    assert code == 4 and report["interrupted"] == "--max-requests", output[-3000:]
    assert after == before, f"left behind or changed when stopped after {budget} requests\n{output[-3000:]}"
    assert report["left_behind"] == [] and report["foreign_data_changed"] == [], output[-3000:]
