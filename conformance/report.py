"""The conformance report: per rule and per operation, as JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rules import RULES

ORDER = {"failed": 0, "warning": 1, "passed": 2, "not run": 3}

# What a run's verdict can be, and the exit status each gives (see conformance.cli).
CONFORMANT, CONFORMANT_NON_DESTRUCTIVE, NOT_CONFORMANT, INCOMPLETE, TARGET_PROBLEM = (
    "conformant", "conformant on every non-destructive rule", "not conformant", "incomplete", "target problem")


@dataclass
class ItemResult:
    nodeid: str
    rules: list[str]
    outcome: str  # passed | failed | skipped (a test that could not judge: message says why)
    warnings: list[str]
    message: str
    exchanges: list[dict[str, Any]]


def _rule_outcome(results: list[ItemResult], expected: int, interrupted: str = "") -> tuple[str, str]:
    """A rule's outcome and, when it is "not run", why. A rule passes only when every one
    of its tests ran and passed: one test skipped, left out by ``-k`` or not reached
    before a stop, and the rule is "not run" (unless another of its tests failed)."""
    missing = f"not reached: the run was stopped by {interrupted}" if interrupted else "not selected"
    if any(r.outcome == "failed" for r in results):
        return "failed", ""
    if not results:
        return "not run", missing if expected else "no test of this run checks it"
    skipped = [r for r in results if r.outcome == "skipped"]
    if skipped:
        reason = skipped[0].message.removeprefix("not run: ") or "skipped"
        return "not run", reason if len(skipped) == len(results) else f"{len(skipped)} of {len(results)} tests: {reason}"
    if len(results) < expected:
        return "not run", f"{expected - len(results)} of {expected} tests {missing}"
    if any(r.warnings for r in results):
        return "warning", ""
    return "passed", ""


def ledger_results(ledger: Any) -> list[ItemResult]:
    """What the ledger saw, as results of the rules it checks on every create."""
    if ledger is None or not ledger.creates_seen:
        return []
    fresh = [f for f in ledger.findings if f.rule == "CREATE-FRESH-ID"]
    message = "; ".join(f"{f.detail} ({f.request})" for f in fresh)
    return [ItemResult("ledger::every create", ["CREATE-FRESH-ID"], "failed" if fresh else "passed", [], message, [])]


def build_report(results: list[ItemResult], target: str, ledger: Any = None, interrupted: str = "",
                 allow_destructive: bool = False, target_problem: str = "",
                 collected: dict[str, int] | None = None, suite_errors: list[str] | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """``collected``: how many tests of each rule the run collected before ``-k`` chose
    (without it, the tests that reported are taken as all there are)."""
    results = [*results, *ledger_results(ledger)]
    rules = []
    for rule in RULES.values():
        mine = [r for r in results if rule.id in r.rules]
        expected = (collected or {}).get(rule.id, len(mine))
        outcome, reason = _rule_outcome(mine, expected, interrupted)
        if target_problem:
            outcome, reason = "not run", "target problem"
        rules.append(
            {
                "id": rule.id,
                "level": rule.level,
                "section": rule.section,
                "title": rule.title,
                "operations": list(rule.operations),
                "slices": list(rule.slices),
                "destructive": rule.destructive,
                "outcome": outcome,
                "reason": reason,
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
    not_run = [{"id": r["id"], "level": r["level"], "destructive": r["destructive"], "reason": r["reason"]}
               for r in rules if r["outcome"] == "not run"]
    counts = {k: sum(r["outcome"] == k for r in rules) for k in ORDER}
    damage = [d.as_dict() for d in ledger.damage] if ledger is not None else []
    harmed = bool(damage and not allow_destructive)
    stateless = _stateless(ledger)
    verdict, verdict_line = _verdict(doc_failures + choice_failures, not_run, harmed, interrupted, target_problem)
    safety = {
        "foreign_data_changed": damage,
        "unsafe_behaviours": [f.as_dict() for f in ledger.findings] if ledger is not None else [],
        "left_behind": list(ledger.left_behind) if ledger is not None else [],
        "delete_proof": ledger.delete_proof_reason if ledger is not None else "",
        "writes_stopped": ledger.halted if ledger is not None else "",
        "audited": bool(ledger is not None and ledger.audited),
        "interrupted": interrupted,
        "target_problem": target_problem,
        "keeps_no_state": stateless,
        # Tests whose own code broke (a bug in the suite, to report to its authors): their rules are "not run".
        "suite_errors": list(suite_errors or []),
    }
    summary_lines = [d.line() for d in ledger.damage] if ledger is not None else []
    if target_problem:
        summary_lines.append(f"TARGET PROBLEM: {target_problem} (no rule ran)")
    if damage and allow_destructive:
        summary_lines.insert(0, "(--allow-destructive: the run was allowed to delete data it did not create)")
    summary_lines += [
        f"target: {target}",
        f"seed: {seed} (the same --seed, target and store state repeat the generated requests)",
        f"verdict: {verdict_line}",
        f"rules: {counts['passed']} passed, {counts['failed']} failed, {counts['warning']} warnings, "
        f"{counts['not run']} not run; score {score}% of the rules judged",
    ]
    for rule in sorted(rules, key=lambda r: (ORDER[r["outcome"]], r["id"])):
        if rule["outcome"] in ("failed", "warning"):
            # A failed rule quotes its first failure, never a warning of a test that passed.
            failed = [t for t in rule["tests"] if t["outcome"] == "failed"]
            quoted = failed or [t for t in rule["tests"] if t["warnings"]]
            detail = (quoted[0]["message"] or "; ".join(quoted[0]["warnings"])) if quoted else ""
            summary_lines.append(f"  {rule['outcome'].upper():8} {rule['level']:6} {rule['id']}: {detail.splitlines()[0][:160] if detail else ''}")
    if not target_problem:  # one line per reason: a -k subset leaves most rules out for one reason
        by_reason: dict[str, list[str]] = {}
        for rule in rules:
            if rule["outcome"] == "not run":
                by_reason.setdefault(rule["reason"], []).append(rule["id"])
        for reason, ids in by_reason.items():
            summary_lines.append(f"  NOT RUN  {', '.join(ids) if len(ids) <= 6 else f'{len(ids)} rules'}: {reason[:160]}")
    if stateless:
        summary_lines.append(f"  STATE    the target keeps no state: {stateless}")
    for finding in safety["unsafe_behaviours"]:
        summary_lines.append(f"  UNSAFE   {finding['behaviour']}: {finding['detail'][:200]}")
    for line in safety["left_behind"]:
        summary_lines.append(f"  LEFT     {line[:200]}")
    for line in safety["suite_errors"]:
        summary_lines.append(f"  SUITE    error in the suite's own code, not the target's: {line[:240]}")
    if interrupted:
        cleaned = "what it could not delete is listed (LEFT)" if safety["left_behind"] else "the run's data was cleaned up"
        summary_lines.append(f"  STOPPED  by {interrupted}: rules not reached are not run; {cleaned}")
    return {
        **safety,
        "target": target,
        "seed": seed,
        "score": score,
        "verdict": verdict,
        "verdict_line": verdict_line,
        "conformant": verdict in (CONFORMANT, CONFORMANT_NON_DESTRUCTIVE),
        "doc_failures": doc_failures,
        "choice_failures": choice_failures,
        "not_run": not_run,
        "counts": counts,
        "rules": rules,
        "operations": operations,
        "summary_lines": summary_lines,
    }


def _stateless(ledger: Any) -> str:
    """In words, when the run saw the target answer creates with items that existed before
    or were already answered to another create (a stateless or canned server)."""
    findings = ledger.findings if ledger is not None else []
    fresh = [f for f in findings if f.rule == "CREATE-FRESH-ID"]
    moving = [f for f in findings if f.behaviour == "listings change by themselves"]
    said = []
    if fresh:
        said.append(f"{len(fresh)} creates were answered with items that existed before the run or were answered to an "
                    f"earlier create (first: {fresh[0].detail})")
    if moving:
        said.append(f"its lists differ from one read to the next with no write in between ({moving[0].detail})")
    return "; ".join(said)


def _verdict(failures: list[str], not_run: list[dict[str, Any]], harmed: bool, interrupted: str,
             target_problem: str) -> tuple[str, str]:
    """Conformant only when every rule ran and held; the destructive rules may be left out
    of a default run (they need a store that may be emptied), and the verdict says so."""
    if target_problem:
        return TARGET_PROBLEM, f"not judged: {target_problem}"
    if failures or harmed:
        why = ", ".join(failures) if failures else "data the run did not create changed"
        return NOT_CONFORMANT, f"not conformant ({why})"
    missing = [r for r in not_run if not r["destructive"]]
    destructive = [r for r in not_run if r["destructive"]]
    if interrupted or missing:
        shown = ", ".join(r["id"] for r in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        why = f"stopped by {interrupted}" if interrupted else f"{len(missing)} rules not run: {shown}"
        return INCOMPLETE, f"incomplete ({why}); no rule failed"
    if destructive:
        return CONFORMANT_NON_DESTRUCTIVE, (f"conformant on every non-destructive rule; {len(destructive)} destructive rules not run "
                                            f"({', '.join(r['id'] for r in destructive)}; use --allow-destructive on a disposable store)")
    return CONFORMANT, "conformant: every rule ran and held"


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# Customer Segmentation V3 conformance report", ""]
    if report.get("target_problem"):
        lines += ["## TARGET PROBLEM", "", f"{report['target_problem']}: no rule ran.", ""]
    if report.get("foreign_data_changed"):
        lines += ["## FOREIGN DATA CHANGED", "", "Data this run did not create is missing or changed:", ""]
        for item in report["foreign_data_changed"]:
            lines.append(f"- {item['collection']} `{item['id']}` {item['what']} — {item['request']}")
        lines.append("")
    if report.get("keeps_no_state"):
        lines += ["## The target keeps no state", "", report["keeps_no_state"] + ".", ""]
    lines += [
        f"Target: `{report['target']}`  ",
        f"Verdict: **{report['verdict_line']}**  ",
        f"Score: {report['score']}% of the judged rules pass",
        "",
        "## Rules",
        "",
        "| rule | level | section | outcome | title |",
        "|---|---|---|---|---|",
    ]
    for rule in report["rules"]:
        outcome = f"not run: {rule['reason']}" if rule["outcome"] == "not run" else rule["outcome"]
        lines.append(f"| {rule['id']} | {rule['level']} | {rule['section']} | {outcome} | {rule['title']} |")
    lines += ["", "## Operations", "", "| operation | passed | warning | failed | not run |", "|---|---|---|---|---|"]
    for operation, counts in sorted(report["operations"].items()):
        lines.append(f"| {operation} | {counts['passed']} | {counts['warning']} | {counts['failed']} | {counts['not run']} |")
    if report.get("unsafe_behaviours") or report.get("left_behind") or report.get("interrupted"):
        lines += ["", "## Safety", ""]
        lines += [f"- unsafe behaviour: **{f['behaviour']}**: {f['detail']}" + (f" (`{f['request']}`)" if f["request"] else "")
                  for f in report.get("unsafe_behaviours", [])]
        lines += [f"- left behind: {line}" for line in report.get("left_behind", [])]
        if report.get("interrupted"):
            lines.append(f"- the run was stopped by {report['interrupted']}")
    if report.get("suite_errors"):
        lines += ["", "## Errors in the suite itself", "",
                  "These tests broke in the suite's own code; their rules are not run, and the target is not blamed. "
                  "Please report them to the suite's authors.", ""]
        lines += [f"- {line}" for line in report["suite_errors"]]
    if report.get("delete_proof"):
        lines += ["", f"Deletes by `id:in`: {report['delete_proof']}."]
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
                    headers = "; ".join(f"{k}: {v}" for k, v in (req.get("headers") or {}).items())
                    lines += ["", "  ```", f"  {req['method']} {req['url']}", f"  {headers}", f"  {req['body'] or ''}"[:2000],
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
