"""The conformance suite earns trust: it passes the mock, leaves a store as it found it,
fails every deliberately broken mock naming the rule, and passes a mock that made
other reasonable CHOICE decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import OTHER_STORE, OTHER_TOKEN, READONLY, STORE, TOKEN, make_storage
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


def run_suite(mock, report_dir: Path, *extra: str, readonly: bool = True) -> tuple[int, dict, str]:
    result = subprocess.run(suite_command(mock.url, report_dir, *extra, readonly=readonly), capture_output=True, text=True, timeout=600)
    return result.returncode, read_report(report_dir), result.stdout + result.stderr


def outcomes(report: dict) -> dict[str, str]:
    return {rule["id"]: rule["outcome"] for rule in report["rules"]}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_suite_passes_against_the_mock_and_reports(backend, tmp_path):
    with serve_mock(make_storage(backend, tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report")
    assert code == 0, output[-3000:]
    assert report["conformant"] and report["doc_failures"] == [] and report["score"] == 100.0
    got = outcomes(report)
    assert got["UNSCOPED-DELETE"] == got["UNSCOPED-PROFILE-DELETE"] == "skipped"  # need --allow-destructive
    assert "not run" not in got.values()
    assert {rule for rule, outcome in got.items() if outcome == "passed"} >= {"SEG-CREATE", "SEG-CAP", "MEMBER-CONFLICT", "SCOPES"}
    assert (tmp_path / "report" / "junit.xml").exists()
    markdown = (tmp_path / "report" / "conformance-report.md").read_text()
    assert "| SEG-CAP | DOC |" in markdown and "**conformant**" in markdown
    assert "segmentation conformance" in output


def test_destructive_rules_run_only_when_allowed(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "--allow-destructive", "-k", "UNSCOPED")
    assert code == 0, output[-3000:]
    assert outcomes(report)["UNSCOPED-DELETE"] == outcomes(report)["UNSCOPED-PROFILE-DELETE"] == "passed"


def test_without_readonly_token_scope_rules_are_skipped(tmp_path):
    with serve_mock(make_storage("memory", tmp_path)) as mock:
        code, report, output = run_suite(mock, tmp_path / "report", "-k", "SCOPES", readonly=False)
    assert code == 0, output[-3000:]
    assert outcomes(report)["SCOPES"] == "skipped"


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
        code, _report, output = run_suite(mock, tmp_path / "report")
        after = snapshot()
    assert code == 0, output[-3000:]
    # Adding profiles to run-created segments moved no pre-existing profile; everything the run made is gone.
    assert after == before
