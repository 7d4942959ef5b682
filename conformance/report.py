"""The conformance report: per rule and per operation, as JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rules import RULES

ORDER = {"failed": 0, "warning": 1, "passed": 2, "skipped": 3, "not run": 4}


@dataclass
class ItemResult:
    nodeid: str
    rules: list[str]
    outcome: str  # passed | failed | skipped
    warnings: list[str]
    message: str
    exchanges: list[dict[str, Any]]


def _rule_outcome(results: list[ItemResult]) -> str:
    outcomes = {r.outcome for r in results}
    if not results:
        return "not run"
    if "failed" in outcomes:
        return "failed"
    if any(r.warnings for r in results if r.outcome == "passed"):
        return "warning"
    if "passed" in outcomes:
        return "passed"
    return "skipped"


def build_report(results: list[ItemResult], target: str) -> dict[str, Any]:
    rules = []
    for rule in RULES.values():
        mine = [r for r in results if rule.id in r.rules]
        outcome = _rule_outcome(mine)
        rules.append(
            {
                "id": rule.id,
                "level": rule.level,
                "section": rule.section,
                "title": rule.title,
                "operations": list(rule.operations),
                "outcome": outcome,
                "tests": [{"test": r.nodeid, "outcome": r.outcome, "message": r.message, "warnings": r.warnings,
                           "exchanges": r.exchanges} for r in mine],
            }
        )
    operations: dict[str, dict[str, int]] = {}
    for rule in rules:
        for operation in rule["operations"]:
            counts = operations.setdefault(operation, {k: 0 for k in ORDER})
            counts[rule["outcome"]] += 1
    judged = [r for r in rules if r["outcome"] in ("passed", "warning", "failed")]
    score = round(100 * sum(r["outcome"] != "failed" for r in judged) / len(judged), 1) if judged else 0.0
    doc_failures = [r["id"] for r in rules if r["outcome"] == "failed" and r["level"] == "DOC"]
    choice_failures = [r["id"] for r in rules if r["outcome"] == "failed" and r["level"] == "CHOICE"]
    counts = {k: sum(r["outcome"] == k for r in rules) for k in ORDER}
    summary_lines = [
        f"target: {target}",
        f"rules: {counts['passed']} passed, {counts['failed']} failed, {counts['warning']} warnings, "
        f"{counts['skipped']} skipped, {counts['not run']} not run; score {score}%",
    ]
    for rule in sorted(rules, key=lambda r: (ORDER[r["outcome"]], r["id"])):
        if rule["outcome"] in ("failed", "warning", "skipped"):
            detail = next((t["message"] or "; ".join(t["warnings"]) for t in rule["tests"] if t["outcome"] == "failed" or t["warnings"] or t["outcome"] == "skipped"), "")
            summary_lines.append(f"  {rule['outcome'].upper():8} {rule['level']:6} {rule['id']}: {detail.splitlines()[0][:160] if detail else ''}")
    return {
        "target": target,
        "score": score,
        "conformant": not doc_failures and not choice_failures,
        "doc_failures": doc_failures,
        "choice_failures": choice_failures,
        "counts": counts,
        "rules": rules,
        "operations": operations,
        "summary_lines": summary_lines,
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Customer Segmentation V3 conformance report",
        "",
        f"Target: `{report['target']}`  ",
        f"Score: **{report['score']}%** of judged rules pass; "
        + ("**conformant**" if report["conformant"] else f"**not conformant** (failing: {', '.join(report['doc_failures'] + report['choice_failures'])})"),
        "",
        "## Rules",
        "",
        "| rule | level | section | outcome | title |",
        "|---|---|---|---|---|",
    ]
    for rule in report["rules"]:
        lines.append(f"| {rule['id']} | {rule['level']} | {rule['section']} | {rule['outcome']} | {rule['title']} |")
    lines += ["", "## Operations", "", "| operation | passed | warning | failed | skipped | not run |", "|---|---|---|---|---|---|"]
    for operation, counts in sorted(report["operations"].items()):
        lines.append(f"| {operation} | {counts['passed']} | {counts['warning']} | {counts['failed']} | {counts['skipped']} | {counts['not run']} |")
    failing = [r for r in report["rules"] if r["outcome"] in ("failed", "warning")]
    if failing:
        lines += ["", "## Details"]
    for rule in failing:
        lines += ["", f"### {rule['id']} ({rule['level']}): {rule['outcome']}", ""]
        for test in rule["tests"]:
            if test["outcome"] == "failed":
                lines += [f"- `{test['test']}` failed: {test['message'].splitlines()[0] if test['message'] else ''}"]
                for exchange in test["exchanges"]:
                    req, resp = exchange["request"], exchange["response"]
                    lines += ["", "  ```", f"  {req['method']} {req['url']}", f"  {req['body'] or ''}"[:2000],
                              f"  -> {resp['status']} {resp['body'][:1000]}", "  ```"]
            for warning in test["warnings"]:
                lines.append(f"- `{test['test']}` warning: {warning}")
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "conformance-report.json", directory / "conformance-report.md"
    data = {k: v for k, v in report.items() if k != "summary_lines"}
    json_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return [json_path, md_path]
