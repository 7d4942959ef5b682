"""The report says what happened, in the order a reader needs it."""

from __future__ import annotations

from conformance.ledger import Damage, Ledger
from conformance.report import ItemResult, build_report, render_markdown


def test_a_failed_rule_quotes_its_failure_not_a_warning_of_a_passing_test():
    results = [
        ItemResult("t::passes", ["SEG-LIST"], "passed", ["oldest first"], "", []),
        ItemResult("t::fails", ["SEG-LIST"], "failed", [], "id:in=a,c listed [b]", []),
    ]
    report = build_report(results, "http://target")
    [line] = [line for line in report["summary_lines"] if "SEG-LIST" in line]
    assert "FAILED" in line and "id:in=a,c listed [b]" in line and "oldest first" not in line


def test_foreign_data_changed_comes_first_and_fails_the_verdict():
    ledger = Ledger()
    ledger.damage.append(Damage("segments", "abc", "missing", {"id": "abc"}, None, "after DELETE http://t/segments?id:in=x -> 204"))
    report = build_report([ItemResult("t::ok", ["SEG-CREATE"], "passed", [], "", [])], "http://target", ledger=ledger)
    assert report["summary_lines"][0].startswith("FOREIGN DATA CHANGED: segments abc missing")
    assert "DELETE http://t/segments?id:in=x" in report["summary_lines"][0]
    assert not report["conformant"]
    assert render_markdown(report).splitlines()[2] == "## FOREIGN DATA CHANGED"
    assert build_report([], "http://target", ledger=ledger, allow_destructive=True)["conformant"]


def test_a_target_problem_is_the_first_line_and_never_conformant():
    report = build_report([], "http://target", target_problem="the token was refused")
    assert report["summary_lines"][0] == "TARGET PROBLEM: the token was refused (no rule ran)"
    assert not report["conformant"]
