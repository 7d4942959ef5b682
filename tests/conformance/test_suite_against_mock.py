"""The conformance suite earns trust: it passes the mock, leaves a store as it found it,
fails every deliberately broken mock naming the rule, and passes a mock that made
other reasonable CHOICE decisions."""

from __future__ import annotations

import json
import re
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import conformance

from tests.support import OTHER_STORE, OTHER_TOKEN, READONLY, STORE, TOKEN, make_storage
from tests.support import FakeClock
from tests.support import serve_mock as serve_with_clock

CLI = os.path.join(os.path.dirname(sys.executable), "segmentation-conformance")


def serve_mock(storage, config=None):
    """The suite checks that timestamps move, so these mocks run on the real clock."""
    return serve_with_clock(storage, config, clock=time.time)


def suite_command(url: str, report_dir: Path, *extra: str, readonly: bool = True) -> list[str]:
    command = [CLI, "--base-url", url, "--store-hash", STORE, "--token", TOKEN, "--report-dir", str(report_dir), *extra]
    return command + (["--readonly-token", READONLY] if readonly else [])


def read_report(report_dir: Path) -> dict:
    report_path = report_dir / "conformance-report.json"
    return json.loads(report_path.read_text()) if report_path.exists() else {}


SCHEMA_TESTS = Path(conformance.__file__).resolve().parent / "suite" / "test_schema.py"


def run_suite(mock, report_dir: Path, *extra: str, readonly: bool = True, schema: bool = True) -> tuple[int, dict, str]:
    """The suite's CLI against `mock.url`. ``schema=False`` leaves the Schemathesis module
    out of collection (building its 21 tests costs seconds per run) for runs whose `-k`
    selects no SCHEMA test anyway."""
    command = suite_command(mock.url, report_dir, *extra, readonly=readonly)
    if not schema:
        command += ["--", f"--ignore={SCHEMA_TESTS}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    return result.returncode, read_report(report_dir), result.stdout + result.stderr


DESTRUCTIVE = {"UNSCOPED-DELETE", "UNSCOPED-MEMBER-REMOVE", "UNSCOPED-PROFILE-DELETE", "IDIN-MALFORMED-DELETE"}


def outcomes(report: dict) -> dict[str, str]:
    return {rule["id"]: rule["outcome"] for rule in report["rules"]}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_suite_passes_against_the_mock_and_reports(backend, tmp_path):
    with serve_mock(make_storage(backend, tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report")
    assert code == 0, output[-3000:]
    assert report["conformant"] and report["doc_failures"] == [] and report["score"] == 100.0
    got = outcomes(report)
    # The destructive rules need --allow-destructive: a default run names them and is still conformant.
    assert report["verdict"] == "conformant on every non-destructive rule", report["verdict_line"]
    assert {r["id"] for r in report["not_run"]} == DESTRUCTIVE == {r for r, outcome in got.items() if outcome == "not run"}
    assert "4 destructive rules not run" in output and "[100%]" in output, output[-3000:]
    assert {rule for rule, outcome in got.items() if outcome == "passed"} >= {"SEG-CREATE", "SEG-CAP", "MEMBER-CONFLICT", "SCOPES"}
    assert (tmp_path / "report" / "junit.xml").exists()
    markdown = (tmp_path / "report" / "conformance-report.md").read_text()
    assert "| SEG-CAP | DOC |" in markdown and "Verdict: **conformant on every non-destructive rule" in markdown
    assert "segmentation conformance" in output


def test_destructive_rules_run_only_when_allowed(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "--allow-destructive", "-k", "UNSCOPED", schema=False)
    assert code == 4, output[-3000:]  # a -k subset is incomplete: it judged only what it selected
    assert report["verdict"] == "incomplete" and report["doc_failures"] == []
    assert {outcomes(report)[r] for r in ("UNSCOPED-DELETE", "UNSCOPED-PROFILE-DELETE", "UNSCOPED-MEMBER-REMOVE")} == {"passed"}


def test_without_readonly_token_scope_rules_are_not_run(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "-k", "SCOPES", readonly=False, schema=False)
    assert code == 4, output[-3000:]
    [scopes] = [r for r in report["rules"] if r["id"] == "SCOPES"]
    assert scopes["outcome"] == "not run" and "needs --readonly-token" in scopes["reason"]


def test_suite_leaves_what_it_did_not_create_untouched_and_cleans_up(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        api = mock.client()
        [customer] = api.post("/customers", json=[{"email": "keep@example.com", "first_name": "K", "last_name": "P"}]).json()["data"]
        [profile] = api.post("/shopper-profiles", json=[{"customer_id": customer["id"]}]).json()["data"]
        segments = api.post("/segments", json=[{"name": "keep-1"}, {"name": "keep-2"}]).json()["data"]
        api.post(f"/segments/{segments[0]['id']}/shopper-profiles", json=[profile["id"]])
        other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
        other.post("/segments", json=[{"name": "other-store"}])

        def snapshot():
            return (
                api.get("/segments?limit=250").json()["data"],
                api.get("/shopper-profiles?limit=250").json()["data"],
                api.get("/customers?limit=250&include=segment_ids,shopper_profile_id").json()["data"],
                api.get(f"/segments/{segments[0]['id']}/shopper-profiles").json()["data"],
                other.get("/segments").json()["data"],
            )

        before = snapshot()
        code, report, output = run_suite(mock, tmp_path / "report")
        after = snapshot()
    assert code == 0, output[-3000:]
    # Adding profiles to run-created segments moved no pre-existing profile; everything the run made is gone.
    assert after == before
    assert report["delete_proof"].startswith("proven") and report["audited"], output[-3000:]
    assert report["left_behind"] == [] and report["unsafe_behaviours"] == [] and report["foreign_data_changed"] == []


@pytest.mark.parametrize("problem", ["down", "wrong token", "wrong read-only token", "wrong base path", "unknown store hash"])
def test_a_target_problem_is_named_in_one_line_and_exits_3(problem, tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        url, token, readonly = mock.url, TOKEN, READONLY
        if problem == "down":
            with socket.socket() as unused:
                unused.bind(("127.0.0.1", 0))
                url = f"http://127.0.0.1:{unused.getsockname()[1]}"
        elif problem == "wrong token":
            token = "not-a-token"
        elif problem == "wrong read-only token":
            readonly = "not-a-token-either"
        elif problem == "wrong base path":
            url = mock.url + "/api"
        store = "no-such-store" if problem == "unknown store hash" else STORE
        command = [CLI, "--base-url", url, "--store-hash", store, "--token", token, "--readonly-token", readonly,
                   "--report-dir", str(tmp_path / "report")]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        requests_seen = len(mock.app.extensions["segmentation_mock"]["journal"].query(limit=1000))
    output = result.stdout + result.stderr
    assert result.returncode == 3, output[-3000:]
    expected = {"down": "unreachable", "wrong token": "the token was refused", "wrong read-only token": "the read-only token was refused",
                "wrong base path": "serves no documented route",
                "unknown store hash": "does not know the store hash `no-such-store`"}[problem]
    lines = [line for line in output.splitlines() if expected in line]
    assert lines and lines[0].startswith("TARGET PROBLEM: "), output[-3000:]
    report = read_report(tmp_path / "report")
    assert report["target_problem"] and not report["conformant"]
    assert set(outcomes(report).values()) == {"not run"}
    assert requests_seen <= 2  # the preflight's GETs, and nothing else


def test_the_request_budget_stops_the_run_cleans_up_and_reports(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "--max-requests", "120", schema=False)
        left = mock.client().get("/segments").json()["meta"]["pagination"]["total"]
    assert code == 4, output[-3000:]
    assert report["verdict"] == "incomplete" and report["interrupted"] == "--max-requests", output[-3000:]
    assert report["audited"] and report["left_behind"] == [] and left == 0, output[-3000:]
    assert "stopped by --max-requests" in report["verdict_line"]


def _generated_requests(seed: str, tmp_path: Path) -> list[tuple]:
    """What the SCHEMA rule sent for one operation and the stateful phase, with the values
    that differ between runs by design (the run's marker, minted UUIDs) masked."""
    masks = [(re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "UUID"),
             (re.compile(r"cf[0-9a-f]{8}"), "RUN"),
             # The journal previews long bodies: a UUID may be cut at the end.
             (re.compile(r"[0-9a-fA-F-]{1,36}…$"), "CUT…")]

    def mask(text) -> str:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text or "")
        for pattern, replacement in masks:
            text = pattern.sub(replacement, text)
        return text

    # A fixed clock: the target's answers (timestamps included) are the same in every run,
    # so that any difference comes from the generated requests.
    with serve_with_clock(make_storage("memory", tmp_path), None, clock=FakeClock()) as mock:
        code, report, output = run_suite(mock, tmp_path / f"report-{seed}", "--seed", seed, "--max-examples", "4",
                                         "-k", "SegmentsPostRequest or stateful")
        entries = mock.app.extensions["segmentation_mock"]["journal"].query(limit=1000)
    assert report["seed"] == int(seed) and f"seed: {seed} " in output, output[-3000:]
    return [(e["method"], mask(e["path"]), mask(e["query"]), mask(e["request_body"]), e["status"]) for e in reversed(entries)]


def test_the_same_seed_sends_the_same_requests_and_another_seed_others(tmp_path, monkeypatch):
    first = _generated_requests("7", tmp_path / "a")
    # CI=true makes Hypothesis load its "ci" profile (derandomize=True): the run must not change.
    monkeypatch.setenv("CI", "true")
    again = _generated_requests("7", tmp_path / "b")
    other = _generated_requests("8", tmp_path / "c")
    assert first == again
    assert first != other
