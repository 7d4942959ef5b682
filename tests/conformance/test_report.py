"""The report says what happened, in the order a reader needs it."""

from __future__ import annotations

import pytest
import requests

from conformance.ledger import Damage, Ledger
from conformance.plugin import suite_error
from conformance.report import ItemResult, build_report, render_markdown
from conformance.rules import RULES


def every_rule_passing(*leave_out: str) -> list[ItemResult]:
    return [ItemResult(f"t::{rule}", [rule], "passed", [], "", []) for rule in RULES if rule not in leave_out]


def test_a_failed_rule_quotes_its_failure_not_a_warning_of_a_passing_test():
    results = [
        ItemResult("t::passes", ["SEG-LIST"], "passed", ["oldest first"], "", []),
        ItemResult("t::fails", ["SEG-LIST"], "failed", [], "id:in=a,c listed [b]", []),
    ]
    report = build_report(results, "http://target")
    [line] = [line for line in report["summary_lines"] if line.strip().startswith("FAILED")]
    assert "FAILED" in line and "id:in=a,c listed [b]" in line and "oldest first" not in line


def test_foreign_data_changed_comes_first_and_fails_the_verdict():
    ledger = Ledger()
    ledger.damage.append(Damage("segments", "abc", "missing", {"id": "abc"}, None, "after DELETE http://t/segments?id:in=x -> 204"))
    report = build_report([ItemResult("t::ok", ["SEG-CREATE"], "passed", [], "", [])], "http://target", ledger=ledger)
    assert report["summary_lines"][0].startswith("FOREIGN DATA CHANGED: segments abc missing")
    assert "DELETE http://t/segments?id:in=x" in report["summary_lines"][0]
    assert not report["conformant"]
    assert render_markdown(report).splitlines()[2] == "## FOREIGN DATA CHANGED"
    allowed = build_report(every_rule_passing(), "http://target", ledger=ledger, allow_destructive=True)
    assert allowed["conformant"] and allowed["verdict"] == "conformant"


def test_a_target_problem_is_the_first_line_and_never_conformant():
    report = build_report([], "http://target", target_problem="the token was refused")
    assert report["summary_lines"][0] == "TARGET PROBLEM: the token was refused (no rule ran)"
    assert not report["conformant"]


def test_conformant_means_every_rule_ran_and_held():
    report = build_report(every_rule_passing(), "http://target")
    assert report["verdict"] == "conformant" and report["conformant"] and report["not_run"] == []


def test_destructive_rules_left_out_still_conformant_and_named():
    destructive = [rule for rule in RULES.values() if rule.destructive]
    assert {r.id for r in destructive} == {"UNSCOPED-DELETE", "UNSCOPED-MEMBER-REMOVE", "UNSCOPED-PROFILE-DELETE", "IDIN-MALFORMED-DELETE"}
    results = every_rule_passing(*[r.id for r in destructive])
    results += [ItemResult(f"t::{r.id}", [r.id], "skipped", [], "destructive: needs --allow-destructive", []) for r in destructive]
    report = build_report(results, "http://target")
    assert report["verdict"] == "conformant on every non-destructive rule" and report["conformant"]
    assert "4 destructive rules not run" in report["verdict_line"] and "UNSCOPED-DELETE" in report["verdict_line"]
    assert [line for line in report["summary_lines"] if "NOT RUN" in line and "UNSCOPED-DELETE" in line]


def test_a_subset_or_a_skipped_doc_rule_is_incomplete_not_conformant():
    subset = build_report([ItemResult("t::SCOPES", ["SCOPES"], "passed", [], "", [])], "http://target")
    assert subset["verdict"] == "incomplete" and not subset["conformant"]
    assert subset["score"] == 100.0  # what ran passed; the verdict still says what did not
    skipped = every_rule_passing("SCOPES") + [ItemResult("t::SCOPES", ["SCOPES"], "skipped", [], "needs --readonly-token", [])]
    report = build_report(skipped, "http://target")
    assert report["verdict"] == "incomplete"
    assert {"id": "SCOPES", "level": "DOC", "destructive": False, "reason": "needs --readonly-token"} in report["not_run"]


def test_a_rule_with_tests_left_out_is_not_run_and_a_failure_still_fails():
    results = every_rule_passing()
    partial = build_report(results, "http://target", collected={"AUTH": 2})
    assert {r["id"]: r for r in partial["rules"]}["AUTH"]["reason"] == "1 of 2 tests not selected"
    assert partial["verdict"] == "incomplete"
    failing = build_report(results + [ItemResult("t::AUTH2", ["AUTH"], "failed", [], "200", [])], "http://target",
                           collected={"AUTH": 3})
    assert failing["verdict"] == "not conformant" and failing["doc_failures"] == ["AUTH"]


def test_a_stopped_run_is_incomplete():
    report = build_report(every_rule_passing(), "http://target", interrupted="SIGTERM")
    assert report["verdict"] == "incomplete" and "stopped by SIGTERM" in report["verdict_line"]


def test_the_plugin_stays_out_of_a_users_own_tests(tmp_path):
    """`-p conformance.plugin` in a project's own pytest run, without conformance options:
    the user's tests run and pass, nothing is sent anywhere, no report is written."""
    import subprocess
    import sys

    (tmp_path / "test_own.py").write_text("def test_mine():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("CONFORMANCE_")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-q", "-p", "no:cacheprovider",
                             str(tmp_path / "test_own.py")], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout and "segmentation conformance" not in result.stdout
    assert not (tmp_path / "conformance-report.json").exists()


def test_the_audit_compares_every_foreign_promotions_codes():
    """Codes are inventoried per promotion (`getPromotionCodes`) and a missing one is FOREIGN DATA CHANGED."""
    code = {"id": 7, "code": "KEEP10", "max_uses": 0, "current_uses": 0}
    store = {"codes": [code]}

    def reader(path):
        page = {"total": 0, "count": 0, "per_page": 250, "current_page": 1, "total_pages": 0}
        if path.startswith("/promotions/3/codes"):
            return 200, {"data": list(store["codes"]), "meta": {"pagination": page}}
        if path.startswith("/promotions?"):
            return 200, {"data": [{"id": 3, "name": "keep"}], "meta": {"pagination": page}}
        return 200, {"data": [], "meta": {"pagination": page}}

    ledger = Ledger()
    ledger.take_inventory(reader)
    assert ledger.before["codes"].items == {"7": code} and ledger.codes_before == {"3": {"7": code}}
    store["codes"] = []
    ledger.audit(reader)
    assert [(d.collection, d.item_id, d.what) for d in ledger.damage] == [("codes", "3/7", "missing")]


def _raised(function, *args) -> pytest.ExceptionInfo:
    with pytest.raises(BaseException) as info:
        function(*args)
    return info


def test_a_crash_in_the_suites_own_code_is_told_apart_from_a_judgment():
    # A TypeError raised inside the suite's package: the suite broke, not the target.
    crash = suite_error(_raised(build_report, None, "http://target"))
    assert crash.startswith("TypeError ") and " at conformance/report.py:" in crash
    # Judgments and errors raised outside the suite are the target's.
    assert suite_error(_raised(lambda: pytest.fail("the target answered 500"))) == ""
    assert suite_error(_raised(lambda: _assert(False))) == ""
    assert suite_error(_raised(requests.get, "http://[::1")) == ""  # raised inside requests
    assert suite_error(None) == ""


def _assert(value):
    assert value, "a judgment"


def test_a_suite_error_leaves_its_rule_not_run_and_is_reported_for_the_authors():
    results = every_rule_passing("AUTH") + [ItemResult("t::AUTH", ["AUTH"], "skipped", [], "not run: the suite's own error: KeyError", [])]
    report = build_report(results, "http://target", suite_errors=["t::AUTH: KeyError 'data' at conformance/suite/x.py:3"])
    assert report["verdict"] == "incomplete" and report["doc_failures"] == []
    assert report["suite_errors"] == ["t::AUTH: KeyError 'data' at conformance/suite/x.py:3"]
    assert any(line.startswith("  SUITE") and "KeyError 'data'" in line for line in report["summary_lines"])
    assert "## Errors in the suite itself" in render_markdown(report)
