"""The pytest plugin: options, fixtures, per-rule outcomes, and the conformance report.

Load it with ``-p conformance.plugin`` (the ``segmentation-conformance`` command does).
Every option can also come from the environment: ``--base-url`` from
``CONFORMANCE_BASE_URL``, ``--store-hash`` from ``CONFORMANCE_STORE_HASH``, and so on.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .client import ConformanceClient, Exchange, SafetyGuard
from .report import ItemResult, build_report, write_reports
from .rules import RULES

OPTIONS = {
    "base_url": ("--base-url", "server URL, e.g. http://127.0.0.1:8080 (or the full .../stores/H/v3 base)"),
    "store_hash": ("--store-hash", "the store's hash"),
    "token": ("--token", "X-Auth-Token with the Customers modify scope"),
    "readonly_token": ("--readonly-token", "X-Auth-Token with the Customers read-only scope (scope rules skip without it)"),
    "report_dir": ("--report-dir", "write conformance-report.json and .md here"),
}


def _env_name(dest: str) -> str:
    return "CONFORMANCE_" + dest.upper()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segmentation-conformance", "Customer Segmentation V3 conformance")
    for dest, (flag, help_text) in OPTIONS.items():
        group.addoption(flag, dest=f"conformance_{dest}", default=os.environ.get(_env_name(dest)), help=help_text)
    group.addoption(
        "--allow-destructive",
        dest="conformance_allow_destructive",
        action="store_true",
        default=os.environ.get(_env_name("allow_destructive"), "") not in ("", "0", "false"),
        help="allow requests that may delete data this run did not create (DELETE without id:in); "
        "use only on a store that may be emptied",
    )


@dataclass
class Target:
    api_base: str
    token: str
    readonly_token: str | None
    allow_destructive: bool
    report_dir: Path | None
    run_id: str = field(default_factory=lambda: "cf" + secrets.token_hex(4))

    @classmethod
    def from_config(cls, config: pytest.Config) -> Target:
        opt = lambda name: config.getoption(f"conformance_{name}")  # noqa: E731
        base, store, token = opt("base_url"), opt("store_hash"), opt("token")
        if not base or not token or (not store and "/stores/" not in base):
            raise pytest.UsageError("the conformance suite needs --base-url, --store-hash and --token (or CONFORMANCE_* variables)")
        api_base = base.rstrip("/") if "/stores/" in base else f"{base.rstrip('/')}/stores/{store}/v3"
        report_dir = Path(opt("report_dir")) if opt("report_dir") else None
        return cls(api_base, token, opt("readonly_token"), opt("allow_destructive"), report_dir)


class RunState:
    def __init__(self) -> None:
        self.results: list[ItemResult] = []
        self.journal: list[Exchange] = []
        self.guard: SafetyGuard | None = None
        self.target: Target | None = None


_STATE = pytest.StashKey[RunState]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the BEHAVIOR.md rules this test checks")
    config.addinivalue_line("markers", "destructive: needs --allow-destructive")
    config.stash[_STATE] = RunState()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("rule"):
            unknown = [r for r in marker.args if r not in RULES]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown rule ids {unknown}")
            for rule_id in marker.args:  # so that -k selects by rule: -k SEG_CAP
                item.extra_keyword_matches.update({rule_id, rule_id.replace("-", "_")})


def _item_rules(item: pytest.Item) -> list[str]:
    return [rule for marker in item.iter_markers("rule") for rule in marker.args]


class Checks:
    """``must`` fails the test (and the run); ``should`` records a warning."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def must(self, condition: Any, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    def should(self, condition: Any, message: str) -> None:
        if not condition:
            self.warnings.append(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = item.config.stash[_STATE]
    rules = _item_rules(item)
    if not rules:
        return report
    start = item.stash.get(_JOURNAL_START, len(state.journal))
    checks = item.stash.get(_CHECKS, None)
    finished = report.when == "call" or (report.when == "setup" and not report.passed)
    if finished:
        outcome = "skipped" if report.skipped else ("failed" if report.failed else "passed")
        message = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2]
        elif report.failed:
            message = str(getattr(call.excinfo, "value", "") or report.longreprtext)[:2000]
        exchanges = [e.as_dict() for e in state.journal[start:]][-3:] if outcome == "failed" else []
        state.results.append(
            ItemResult(item.nodeid, rules, outcome, list(checks.warnings) if checks else [], message, exchanges)
        )
    return report


_JOURNAL_START = pytest.StashKey[int]()
_CHECKS = pytest.StashKey[Checks]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[_STATE]
    item.stash[_JOURNAL_START] = len(state.journal)
    if item.get_closest_marker("destructive") and not item.config.getoption("conformance_allow_destructive"):
        pytest.skip("destructive: needs --allow-destructive and a store that may be emptied")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.results or state.target is None:
        return
    report = build_report(state.results, state.target.api_base)
    terminalreporter.section("segmentation conformance")
    for line in report["summary_lines"]:
        terminalreporter.write_line(line)
    if state.target.report_dir:
        paths = write_reports(report, state.target.report_dir)
        terminalreporter.write_line("reports: " + ", ".join(str(p) for p in paths))


# fixtures


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    state = pytestconfig.stash[_STATE]
    if state.target is None:
        state.target = Target.from_config(pytestconfig)
        state.guard = SafetyGuard(allow_destructive=state.target.allow_destructive)
    return state.target


@pytest.fixture(scope="session")
def guard(target: Target, pytestconfig: pytest.Config) -> SafetyGuard:
    return pytestconfig.stash[_STATE].guard


@pytest.fixture(scope="session")
def api(target: Target, guard: SafetyGuard, pytestconfig: pytest.Config) -> ConformanceClient:
    return ConformanceClient(target.api_base, target.token, guard, pytestconfig.stash[_STATE].journal)


@pytest.fixture(scope="session", autouse=True)
def leave_no_trace(api: ConformanceClient):
    """At the end of the run, delete whatever the run created and a test left behind."""
    yield
    api.delete_everything_created()


@pytest.fixture(scope="session")
def readonly_api(target: Target, api: ConformanceClient) -> ConformanceClient:
    if not target.readonly_token:
        pytest.skip("needs --readonly-token")
    return api.with_token(target.readonly_token)


@pytest.fixture
def checks(request: pytest.FixtureRequest) -> Checks:
    found = Checks()
    request.node.stash[_CHECKS] = found
    return found


class Factory:
    """Creates what a test needs under the run's prefix, and removes it afterwards."""

    def __init__(self, api: ConformanceClient, run_id: str):
        self.api = api
        self.run_id = run_id
        self.counter = itertools.count(1)
        self.segment_ids: list[str] = []
        self.profile_ids: list[str] = []
        self.customer_ids: list[int] = []
        self.promotion_ids: list[int] = []

    def name(self) -> str:
        return f"{self.run_id}-{next(self.counter)}-{secrets.token_hex(2)}"

    def segments(self, count: int = 1, **fields: Any) -> list[dict]:
        response = self.api.post("/segments", [{"name": self.name(), **fields} for _ in range(count)])
        assert response.status_code == 201, f"could not create segments: {response.status_code} {response.text[:300]}"
        created = response.json()["data"]
        self.segment_ids += [s["id"] for s in created]
        return created

    def segment(self, **fields: Any) -> dict:
        return self.segments(1, **fields)[0]

    def customers(self, count: int = 1) -> list[dict]:
        body = [{"email": f"{self.name()}@conformance.example", "first_name": "Conformance", "last_name": "Run"} for _ in range(count)]
        response = self.api.post("/customers", body)
        assert response.status_code in (200, 201), f"could not create customers: {response.status_code} {response.text[:300]}"
        created = response.json()["data"]
        self.customer_ids += [c["id"] for c in created]
        return created

    def profiles(self, count: int = 1) -> list[dict]:
        customers = self.customers(count)
        response = self.api.post("/shopper-profiles", [{"customer_id": c["id"]} for c in customers])
        assert response.status_code == 201, f"could not create shopper profiles: {response.status_code} {response.text[:300]}"
        created = response.json()["data"]
        self.profile_ids += [p["id"] for p in created]
        return created

    def profile(self) -> dict:
        return self.profiles(1)[0]

    def add(self, segment: dict, *profiles: dict) -> Any:
        response = self.api.post(f"/segments/{segment['id']}/shopper-profiles", [p["id"] for p in profiles])
        assert response.status_code == 201, f"could not add profiles: {response.status_code} {response.text[:300]}"
        return response

    def post_promotion(self, body: dict) -> Any:
        """POST a promotion that should be refused; anything wrongly created is still cleaned up."""
        response = self.api.post("/promotions", body)
        if response.status_code in (200, 201):
            self.promotion_ids.append(response.json()["data"]["id"])
        return response

    def promotion(self, **fields: Any) -> dict:
        body = {"name": self.name(), "redemption_type": "AUTOMATIC", "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "1"}}}}], **fields}
        response = self.api.post("/promotions", body)
        assert response.status_code in (200, 201), f"could not create a promotion: {response.status_code} {response.text[:300]}"
        created = response.json()["data"]
        self.promotion_ids.append(created["id"])
        return created

    def cleanup(self) -> None:
        for path, ids in (
            ("/promotions", self.promotion_ids),
            ("/segments", self.segment_ids),
            ("/shopper-profiles", self.profile_ids),
            ("/customers", self.customer_ids),
        ):
            for start in range(0, len(ids), 100):
                self.api.delete(f"{path}?id:in=" + ",".join(str(i) for i in ids[start : start + 100]))


@pytest.fixture
def make(api: ConformanceClient, target: Target):
    factory = Factory(api, target.run_id)
    yield factory
    factory.cleanup()
