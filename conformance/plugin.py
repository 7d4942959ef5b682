"""The pytest plugin: options, fixtures, per-rule outcomes, and the conformance report.

Load it with ``-p conformance.plugin`` (the ``segmentation-conformance`` command does).
Every option can also come from the environment: ``--base-url`` from
``CONFORMANCE_BASE_URL``, ``--store-hash`` from ``CONFORMANCE_STORE_HASH``, and so on.
"""

from __future__ import annotations

import functools
import itertools
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from .client import ConformanceClient, Exchange, RequestBudget, SafetyGuard, UnsafeRequest, prove_deletes
from .ledger import CLEANUP_ORDER, Ledger
from .preflight import REQUEST_TIMEOUT_HELP, api_base_of, customer_ids, preflight
from .report import (CONFORMANT, CONFORMANT_NON_DESTRUCTIVE, INCOMPLETE, NOT_CONFORMANT, TARGET_PROBLEM, ItemResult,
                     build_report, write_reports)
from .rules import CUSTOMERS, PROMOTIONS, RULES, SEGMENTATION, SLICES

# Exit statuses of a conformance run (also for `pytest -p conformance.plugin`).
EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_USAGE, EXIT_TARGET, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
VERDICT_EXIT = {CONFORMANT: EXIT_CONFORMANT, CONFORMANT_NON_DESTRUCTIVE: EXIT_CONFORMANT, NOT_CONFORMANT: EXIT_NOT_CONFORMANT,
                INCOMPLETE: EXIT_INCOMPLETE, TARGET_PROBLEM: EXIT_TARGET}
CLEANUP_GRACE_S = 60.0
MAX_CUSTOMERS_PER_CALL = 10  # Customers V3 takes at most 10 customers per create or update
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM)

OPTIONS = {
    "base_url": ("--base-url", "server URL, e.g. http://127.0.0.1:8080; without --store-hash, the API base as given "
                 "(e.g. https://api.example.com/stores/H/v3)"),
    "store_hash": ("--store-hash", "the store's hash: the API base is {base-url}/stores/{hash}/v3"),
    "token": ("--token", "X-Auth-Token with the Customers modify scope"),
    "readonly_token": ("--readonly-token", "X-Auth-Token with the Customers read-only scope (scope rules skip without it)"),
    "report_dir": ("--report-dir", "write conformance-report.json and .md here"),
    "max_time": ("--max-time", "stop the run after this many seconds (then clean up, report, exit 4)"),
    "max_inventory": ("--max-inventory", "most items per collection the pre-run inventory reads (default 20000)"),
    "max_examples": ("--max-examples", "generated requests per operation for the SCHEMA rule (default 15)"),
    "max_requests": ("--max-requests", "stop after this many HTTP requests (then clean up, report, exit 4); default: no limit"),
    "request_timeout": ("--request-timeout", REQUEST_TIMEOUT_HELP),
    "max_retries": ("--max-retries", "times a 429 is waited out and retried (default 5)"),
    "slices": ("--slices", "the API slices to judge, a comma list of segmentation,customers,promotions (default: all)"),
    "seed": ("--seed", "the seed of the requests the SCHEMA rule generates: the same seed, target and state give the same "
             "requests and verdict (default 0; printed in the report)"),
}

# Read by the Schemathesis module when it is collected (after pytest_configure): the
# target's real base URL, so that reproduce lines name it, and the fuzzing effort.
COLLECTION_SETTINGS: dict[str, Any] = {"api_base": "http://placeholder.invalid", "max_examples": 15, "seed": 0}


def _env_name(dest: str) -> str:
    return "CONFORMANCE_" + dest.upper()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segmentation-conformance", "Customer Segmentation V3 conformance")
    for dest, (flag, help_text) in OPTIONS.items():
        group.addoption(flag, dest=f"conformance_{dest}", default=os.environ.get(_env_name(dest)), help=help_text)
    group.addoption(
        "--customer-id",
        dest="conformance_customer_id",
        action="append",
        default=[v for v in os.environ.get(_env_name("customer_id"), "").split(",") if v.strip()],
        help="an existing customer (integer ID, no shopper profile yet) the run may give a shopper profile, instead of "
        "creating customers; repeat it or give a comma list. For a target without the Customers slice",
    )
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
    max_time: float | None = None
    max_inventory: int = 20000
    slices: tuple[str, ...] = SLICES
    max_requests: int | None = None
    request_timeout: float | None = None  # None: 60 s per request, 10 s for the preflight
    max_retries: int = 5
    seed: int = 0
    customer_ids: tuple[str, ...] = ()
    run_id: str = field(default_factory=lambda: "cf" + secrets.token_hex(4))

    @classmethod
    def from_config(cls, config: pytest.Config) -> Target:
        opt = lambda name: config.getoption(f"conformance_{name}")  # noqa: E731
        base, store, token = opt("base_url"), opt("store_hash"), opt("token")
        if not base or not token:
            raise pytest.UsageError("the conformance suite needs --base-url (with --store-hash, or the full API base) and --token "
                                    "(or CONFORMANCE_* variables)")
        api_base = api_base_of(base, store)
        report_dir = Path(opt("report_dir")) if opt("report_dir") else None
        try:
            max_time = float(opt("max_time")) if opt("max_time") else None
            max_inventory = int(opt("max_inventory") or 20000)
            max_requests = int(opt("max_requests")) if opt("max_requests") else None
            request_timeout = float(opt("request_timeout")) if opt("request_timeout") else None
            max_retries = int(opt("max_retries") if opt("max_retries") not in (None, "") else 5)
            seed = int(opt("seed") or 0)
        except ValueError as error:
            raise pytest.UsageError(f"--max-time, --max-inventory, --max-requests, --request-timeout, --max-retries and --seed "
                                    f"take numbers: {error}") from None
        customer_ids = parse_customer_ids(opt("customer_id") or [])
        slices = tuple(s.strip() for s in (opt("slices") or ",".join(SLICES)).split(",") if s.strip())
        unknown = [s for s in slices if s not in SLICES]
        if unknown or SEGMENTATION not in slices:
            raise pytest.UsageError(f"--slices takes a comma list of {', '.join(SLICES)}, with segmentation; got {opt('slices')!r}")
        return cls(api_base, token, opt("readonly_token"), opt("allow_destructive"), report_dir, max_time, max_inventory, slices,
                   max_requests, request_timeout, max_retries, seed, customer_ids)


def parse_customer_ids(values: list[str]) -> tuple[str, ...]:
    try:
        return customer_ids(values)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


class RunInterrupted(KeyboardInterrupt):
    """SIGTERM, SIGINT or --max-time: pytest stops, the ledger cleans up, the reports are written."""


class RunState:
    def __init__(self) -> None:
        self.results: list[ItemResult] = []
        self.suite_errors: list[str] = []  # the suite's own crashes (see suite_error)
        self.journal: list[Exchange] = []
        self.guard: SafetyGuard | None = None
        self.target: Target | None = None
        self.interrupted = ""
        self.cleaning = False
        self.report: dict[str, Any] | None = None
        self.previous_handlers: dict[int, Any] = {}
        self.target_problem = ""
        self.collected: dict[str, int] = {}
        self.client: ConformanceClient | None = None
        # Why a slice of the API cannot be judged in this run ('' when it can).
        self.unavailable: dict[str, str] = {}

    def on_signal(self, signum: int, _frame: Any) -> None:
        name = "--max-time" if signum == signal.SIGALRM else signal.Signals(signum).name
        if self.cleaning:
            return  # cleanup is bounded by its own grace period; a second signal does not cut it short
        if not self.interrupted:
            self.interrupted = name
            raise RunInterrupted(f"stopped by {name}")


_STATE = pytest.StashKey[RunState]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the BEHAVIOR.md rules this test checks")
    config.addinivalue_line("markers", "destructive: needs --allow-destructive")
    config.stash[_STATE] = state = RunState()
    base, store = config.getoption("conformance_base_url", None), config.getoption("conformance_store_hash", None)
    if base:
        COLLECTION_SETTINGS["api_base"] = api_base_of(base, store)
    try:
        COLLECTION_SETTINGS["max_examples"] = int(config.getoption("conformance_max_examples", None) or 15)
        COLLECTION_SETTINGS["seed"] = int(config.getoption("conformance_seed", None) or 0)
    except ValueError:
        raise pytest.UsageError("--max-examples and --seed take whole numbers") from None
    if config.getoption("conformance_base_url", None) and threading.current_thread() is threading.main_thread():
        # From here on, SIGTERM, SIGINT, SIGHUP and --max-time stop the run the same way:
        # pytest stops, the ledger cleans up within its grace period, the reports are written.
        state.previous_handlers = {signum: signal.signal(signum, state.on_signal) for signum in HANDLED_SIGNALS}


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    for signum, handler in (state.previous_handlers if state else {}).items():
        signal.signal(signum, handler)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before ``-k`` deselects: count every rule's tests, so that a rule whose tests were
    not all selected is reported "not run", never passed."""
    state = config.stash[_STATE]
    for item in items:
        for marker in item.iter_markers("rule"):
            unknown = [r for r in marker.args if r not in RULES]
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: unknown rule ids {unknown}")
            for rule_id in marker.args:  # so that -k selects by rule: -k SEG_CAP
                item.extra_keyword_matches.update({rule_id, rule_id.replace("-", "_")})
                state.collected[rule_id] = state.collected.get(rule_id, 0) + 1
        _name_by_rule(item)


def _name_by_rule(item: pytest.Item) -> None:
    """Test IDs (and so JUnit names and the progress count) carry the rules they check:
    ``test_segments.py::SEG-CAP+BATCH-ATOMIC: test_store_never_holds_more_than_1000_segments``,
    and one per operation for Schemathesis: ``test_schema.py::SCHEMA[SegmentsPostRequest]``, which
    Schemathesis alone would give the same ID for every operation."""
    rules = _item_rules(item)
    if not rules:
        return
    label = getattr(item, "operation_label", None)
    if label:
        operation_id = _operation_ids().get(label, label)
        item.extra_keyword_matches.add(operation_id)
        name = f"SCHEMA[{operation_id}]"
    else:
        name = f"{'+'.join(rules)}: {item.name}"
    nodeid = f"{item.nodeid.split('::', 1)[0]}::{name}"
    try:  # pytest >= 9 keeps a structured ID
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    except ImportError:  # pragma: no cover - older pytest
        item._nodeid = nodeid


@functools.lru_cache(maxsize=1)
def _operation_ids() -> dict[str, str]:
    from segmentation_contract import iter_operations, load_spec

    return {f"{method.upper()} {path}": operation["operationId"] for path, method, operation in iter_operations(load_spec())}


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
        refused = call.excinfo is not None and call.excinfo.errisinstance(UnsafeRequest)
        if refused:
            # The guard kept a request from being sent: the rule could not be checked here.
            outcome, message = "skipped", f"not run: {call.excinfo.value}"
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, message)
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2].removeprefix("Skipped: ")
        elif report.failed and (gone := target_gone(state, call.excinfo)):
            # No answer, and none to a plain GET either: the target went away (crashed,
            # restarted, unplugged). The rule was not judged; the run stops, cleans up what it
            # can and reports what it could not.
            outcome, message = "skipped", f"not run: the target stopped answering ({gone})"
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, message)
            state.interrupted = state.interrupted or "the target, which stopped answering"
            item.session.shouldstop = "the target stopped answering"
        elif report.failed and (crash := suite_error(call.excinfo)):
            # The suite's own code broke: the rule was not judged, and the target is not blamed.
            outcome, message = "skipped", f"not run: the suite's own error: {crash}"
            state.suite_errors.append(f"{item.nodeid}: {crash}")
        elif report.failed:
            message = str(getattr(call.excinfo, "value", "") or report.longreprtext)[:2000]
        if state.guard is not None and state.guard.ledger.halted:
            item.session.shouldstop = f"writes stopped: {state.guard.ledger.halted}"
        exchanges = [e.as_dict() for e in state.journal[start:]][-3:] if outcome == "failed" else []
        state.results.append(
            ItemResult(item.nodeid, rules, outcome, list(checks.warnings) if checks else [], message, exchanges)
        )
    return report


def target_gone(state: RunState, excinfo: pytest.ExceptionInfo | None) -> str:
    """Why the target is gone, when a test failed for want of an answer (refused, reset,
    timed out) and the target does not answer a GET now either; '' otherwise: a target
    that still answers failed that request itself, and the rule's failure stands."""
    if excinfo is None or state.client is None or not excinfo.errisinstance((requests.ConnectionError, requests.Timeout)):
        return ""
    return state.client.silent()


def suite_error(excinfo: pytest.ExceptionInfo | None) -> str:
    """Where the suite's own code raised something other than a judgment, in one line
    ("KeyError 'data' at conformance/suite/test_lists.py:40"); "" for a judgment (an
    assertion, a Schemathesis check, pytest.fail) or an error about the target (the HTTP
    library's, or the transport's "no complete answer in time")."""
    if excinfo is None or not excinfo.errisinstance(Exception) \
            or excinfo.errisinstance((AssertionError, UnsafeRequest, requests.RequestException)):
        return ""
    if type(excinfo.value).__module__.startswith(("schemathesis", "hypothesis")):
        return ""
    frame = excinfo.traceback[-1]
    path = Path(str(frame.path))
    if _PACKAGE_DIR not in path.parents:
        return ""
    where = f"{path.relative_to(_PACKAGE_DIR.parent)}:{frame.lineno + 1}"
    return f"{type(excinfo.value).__name__} {str(excinfo.value)[:300]} at {where}"


_PACKAGE_DIR = Path(__file__).resolve().parent
_JOURNAL_START = pytest.StashKey[int]()
_CHECKS = pytest.StashKey[Checks]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[_STATE]
    item.stash[_JOURNAL_START] = len(state.journal)
    if item.get_closest_marker("destructive") and not item.config.getoption("conformance_allow_destructive"):
        pytest.skip("destructive: needs --allow-destructive and a store that may be emptied")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the ledger's cleanup and audit (session fixtures are torn down by now):
    build the report, write it, and set the run's exit status."""
    state = session.config.stash.get(_STATE, None)
    if state is not None and state.target is None and (state.collected or state.interrupted) \
            and session.config.getoption("conformance_base_url", None):
        try:  # stopped, or nothing selected, before the first test: still say so in a report
            state.target = Target.from_config(session.config)
        except pytest.UsageError:
            pass
    if state is None or state.target is None:
        if exitstatus == pytest.ExitCode.USAGE_ERROR:
            session.exitstatus = EXIT_USAGE
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED and not state.interrupted:
        state.interrupted = "an error before the rules could run (collection; see pytest's output above)"
    ledger = state.guard.ledger if state.guard else None
    state.report = report = build_report(state.results, state.target.api_base, ledger=ledger, interrupted=state.interrupted,
                                         allow_destructive=state.target.allow_destructive, target_problem=state.target_problem,
                                         collected=state.collected, suite_errors=state.suite_errors, seed=state.target.seed)
    if state.target.report_dir:
        report["paths"] = [str(p) for p in write_reports(report, state.target.report_dir)]
    if exitstatus == pytest.ExitCode.USAGE_ERROR and not state.target_problem:
        session.exitstatus = EXIT_USAGE
    elif exitstatus == pytest.ExitCode.TESTS_FAILED and report["conformant"]:
        session.exitstatus = EXIT_NOT_CONFORMANT  # a test without a rule (the user's own) failed
    else:
        session.exitstatus = VERDICT_EXIT[report["verdict"]]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.report is None:
        return
    terminalreporter.section("segmentation conformance")
    for line in state.report["summary_lines"]:
        terminalreporter.write_line(line)
    if state.report.get("paths"):
        terminalreporter.write_line("reports: " + ", ".join(state.report["paths"]))


# fixtures


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    state = pytestconfig.stash[_STATE]
    if state.target is None:
        state.target = Target.from_config(pytestconfig)
        state.guard = SafetyGuard(allow_destructive=state.target.allow_destructive, ledger=Ledger(max_items=state.target.max_inventory, marker=state.target.run_id))
    return state.target


@pytest.fixture(scope="session")
def guard(target: Target, pytestconfig: pytest.Config) -> SafetyGuard:
    return pytestconfig.stash[_STATE].guard


@pytest.fixture(scope="session")
def api(ledger_run: Ledger, target: Target, guard: SafetyGuard, pytestconfig: pytest.Config) -> ConformanceClient:
    """The client every rule uses: the ledger has taken its inventory before it is handed out."""
    return pytestconfig.stash[_STATE].client


@pytest.fixture(scope="session")
def ledger_run(target: Target, guard: SafetyGuard, pytestconfig: pytest.Config):
    """Around the whole run: signal handlers and time budget; the inventory and the delete
    probe before the first test; sweep, cleanup and audit after the last (also when a
    signal or the time budget stops the run)."""
    state = pytestconfig.stash[_STATE]
    state.client = api = ConformanceClient(target.api_base, target.token, guard, state.journal, timeout=target.request_timeout or 60.0,
                                           budget=RequestBudget(target.max_requests), max_retries=target.max_retries)
    if target.max_time:
        signal.setitimer(signal.ITIMER_REAL, target.max_time)

    def finish() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        state.cleaning = True
        if api.budget.spent and not state.interrupted:
            state.interrupted = "--max-requests"
        api.budget.open()  # cleanup is not counted: what the run made is deleted whatever the budget
        api.deadline = time.monotonic() + CLEANUP_GRACE_S
        try:
            _finish_run(api, target, settle=bool(state.interrupted))
        finally:
            api.deadline = None

    try:
        yield _start_run(api, target, state)
    finally:
        finish()


def _start_run(api: ConformanceClient, target: Target, state: RunState) -> Ledger:
    problem = preflight(api, target.readonly_token, target.request_timeout)
    if problem:
        state.target_problem = problem
        pytest.exit(f"target problem: {problem}", returncode=EXIT_TARGET)
    state.unavailable = slice_problems(api, target.slices)
    ledger = api.ledger
    ledger.lend("customers", list(target.customer_ids))
    ledger.take_inventory(api.read)
    problems = ledger.problems()
    if problems:
        ledger.note("inventory incomplete", "; ".join(problems))
    prove_deletes(api, target.run_id)
    if ledger.lent.get("customers"):
        api.delete_owned()  # the probe's profiles: the lent customers are free again for the first test
    return ledger


SLICE_PROBES = {CUSTOMERS: "/customers?limit=1", PROMOTIONS: "/promotions?limit=1"}


def slice_problems(api: ConformanceClient, chosen: tuple[str, ...]) -> dict[str, str]:
    """Which slices this run cannot judge, and why: left out by --slices, or not served
    (a 404 to the slice's list). A rule that needs one is "not run", never passed."""
    problems = {}
    for name, probe in SLICE_PROBES.items():
        if name not in chosen:
            problems[name] = f"the {name} slice is left out (--slices)"
            continue
        status, _ = api.read(probe)
        if status in (404, 405, 501):
            problems[name] = f"the target does not serve the {name} slice (GET {probe.split('?')[0]} answered {status})"
    return problems


@pytest.fixture(autouse=True)
def _slices_served(request: pytest.FixtureRequest) -> None:
    """A rule's test that needs a slice this run cannot judge is "not run: <why>". The
    Customers slice is checked where a test makes customers (the factory)."""
    if not _item_rules(request.node):
        return  # not one of the suite's tests: the plugin stays out of the way
    request.getfixturevalue("ledger_run")
    unavailable = request.config.stash[_STATE].unavailable
    needed = {PROMOTIONS} if request.node.module.__name__.endswith("test_promotions") else set()
    operation = request.node.name.partition("[")[2]
    for name in (CUSTOMERS, PROMOTIONS):
        if f" /{name}" in operation:
            needed.add(name)
    for name in sorted(needed):
        if unavailable.get(name):
            pytest.skip(f"not run: {unavailable[name]}")


def _finish_run(api: ConformanceClient, target: Target, settle: bool) -> None:
    ledger = api.ledger
    if not ledger.ready:
        return
    try:
        if settle:
            time.sleep(0.5)  # let a create cut off by the signal land on the target before the sweep
        ledger.sweep(api.read, target.run_id)
        if ledger.delete_proof is None and any(ledger.alive_owned(name) for name in CLEANUP_ORDER):
            prove_deletes(api, target.run_id, attempt="-again")  # stopped during the probe: prove now, so that the cleanup may delete
        api.delete_owned()
        ledger.audit(api.read)
    except Exception as failure:  # a target that stops answering must not hide the report
        ledger.note("cleanup incomplete", f"{type(failure).__name__}: {failure}")


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
    """Creates what a test needs, named with the run's marker; after the test, everything
    the run owns and has not deleted is deleted (see :meth:`ConformanceClient.delete_owned`)."""

    def __init__(self, api: ConformanceClient, run_id: str, unavailable: dict[str, str] | None = None):
        self.api = api
        self.run_id = run_id
        self.unavailable = unavailable or {}
        self.counter = itertools.count(1)

    def name(self) -> str:
        return f"{self.run_id}-{next(self.counter)}-{secrets.token_hex(2)}"

    def segments(self, count: int = 1, **fields: Any) -> list[dict]:
        body = [{"name": self.name(), **fields} for _ in range(count)]
        response = self.api.post("/segments", body)
        assert response.status_code == 201, f"could not create segments: {response.status_code} {response.text[:300]}"
        return _one_each(response, body, "segments", "name")

    def segment(self, **fields: Any) -> dict:
        return self.segments(1, **fields)[0]

    def need(self, slice_name: str) -> None:
        problem = self.unavailable.get(slice_name)
        if problem:
            pytest.skip(f"not run: {problem}")

    def customers(self, count: int = 1, **fields: Any) -> list[dict]:
        """New customers, in requests of at most 10 (the platform's limit per call)."""
        self.need(CUSTOMERS)
        created: list[dict] = []
        while len(created) < count:
            body = [{"email": f"{self.name()}@conformance.example", "first_name": "Conformance", "last_name": "Run", **fields}
                    for _ in range(min(MAX_CUSTOMERS_PER_CALL, count - len(created)))]
            response = self.api.post("/customers", body)
            assert response.status_code in (200, 201), f"could not create customers: {response.status_code} {response.text[:300]}"
            created += _one_each(response, body, "customers", "email")
        return created

    def shoppers(self, count: int = 1) -> list[dict]:
        """Customers to give shopper profiles to: the ones lent with --customer-id (free
        again after every test, whose cleanup deletes the run's profiles), else new ones."""
        lent = self.api.ledger.lent.get("customers", [])
        if not lent:
            if self.unavailable.get(CUSTOMERS):
                pytest.skip(f"not run: {self.unavailable[CUSTOMERS]}, and no --customer-id names customers to give "
                            "shopper profiles to")
            return self.customers(count)
        if count > len(lent):
            pytest.skip(f"not run: needs {count} customers without a shopper profile; --customer-id named "
                        f"{len(lent)} usable")
        return [{"id": int(key)} for key in lent[:count]]

    def profiles(self, count: int = 1) -> list[dict]:
        customers = self.shoppers(count)
        body = [{"customer_id": c["id"]} for c in customers]
        response = self.api.post("/shopper-profiles", body)
        assert response.status_code == 201, f"could not create shopper profiles: {response.status_code} {response.text[:300]}"
        return _one_each(response, body, "shopper profiles", "customer_id")

    def profile(self) -> dict:
        return self.profiles(1)[0]

    def add(self, segment: dict, *profiles: dict) -> Any:
        response = self.api.post(f"/segments/{segment['id']}/shopper-profiles", [p["id"] for p in profiles])
        assert response.status_code == 201, f"could not add profiles: {response.status_code} {response.text[:300]}"
        return response

    def promotion(self, **fields: Any) -> dict:
        self.need(PROMOTIONS)
        body = {"name": self.name(), "redemption_type": "AUTOMATIC", "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "1"}}}}], **fields}
        response = self.api.post("/promotions", body)
        assert response.status_code in (200, 201), f"could not create a promotion: {response.status_code} {response.text[:300]}"
        return response.json()["data"]

    def cleanup(self) -> None:
        self.api.delete_owned()


def _one_each(response: Any, body: list[dict], what: str, key: str) -> list[dict]:
    """A batch create's answer: one item per request item, carrying what was asked for
    (a target that answers a canned item, or keeps no state, is named here, not by a
    KeyError further on)."""
    try:
        data = response.json()["data"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"creating {what}: the answer has no `data`: {response.text[:300]}") from None
    assert isinstance(data, list) and len(data) == len(body), (
        f"creating {len(body)} {what} answered {len(data) if isinstance(data, list) else 'no list of'} items")
    asked = sorted(str(item[key]) for item in body)
    answered = sorted(str(item.get(key)) for item in data if isinstance(item, dict))
    if key == "email":
        asked, answered = [a.lower() for a in asked], [a.lower() for a in answered]
    assert answered == asked, (f"creating {what}: the answer does not carry the {key}s asked for "
                               f"(asked {asked[:3]}, answered {answered[:3]}): the target keeps no state or answers canned items")
    return data


@pytest.fixture
def make(api: ConformanceClient, target: Target, pytestconfig: pytest.Config):
    factory = Factory(api, target.run_id, pytestconfig.stash[_STATE].unavailable)
    yield factory
    factory.cleanup()
