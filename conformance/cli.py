"""``segmentation-conformance``: run the suite against any implementation.

    segmentation-conformance --base-url http://127.0.0.1:8080 --store-hash demo \\
        --token T [--readonly-token R] [--allow-destructive] [--report-dir DIR] [--max-time S]
        [--slices segmentation,customers,promotions] [--customer-id ID ...] [--seed N] [-k EXPR] [-- PYTEST ARGS]

Exit status:
  0  conformant: every rule ran and held (warnings allowed), or every rule but the
     destructive ones, which only --allow-destructive runs (the verdict names them);
  1  not conformant: a rule failed, or data the run did not create changed;
  2  usage;
  3  a target problem found before any rule ran (unreachable, TLS, token refused, no
     documented route at the base URL);
  4  incomplete: no rule failed, but some did not run (a -k subset, --slices, a slice the
     target does not serve, no --readonly-token, a run stopped by SIGTERM, SIGINT,
     --max-time or --max-requests, or by a target that stopped answering); the report
     lists them with the reason.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

SUITE = Path(__file__).resolve().parent / "suite"


def _checked(kind: type, least: float, what: str):
    """An argparse type that checks a number (exit 2 on a bad one) and keeps the text for pytest."""

    def check(text: str) -> str:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes {what}: got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"takes {what}: got {text!r}")
        return text

    return check


def _customer_ids(text: str) -> str:
    from .preflight import customer_ids

    try:
        if not customer_ids([text]):
            raise ValueError(f"--customer-id takes customer IDs (whole numbers from 1, or a comma list): got {text!r}")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _slices(text: str) -> str:
    from .rules import SEGMENTATION, SLICES

    chosen = [part.strip() for part in text.split(",") if part.strip()]
    if any(part not in SLICES for part in chosen) or SEGMENTATION not in chosen:
        raise argparse.ArgumentTypeError(f"takes a comma list of {', '.join(SLICES)}, with segmentation: got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    from segmentation_contract import package_version

    from .preflight import REQUEST_TIMEOUT_HELP

    parser = argparse.ArgumentParser(
        prog="segmentation-conformance",
        description="Check a Customer Segmentation V3 implementation against the project's OpenAPI document and its rules "
        "(docs/behaviour.md states them; conformance/rules.py names each with its level).",
        epilog="Options may also be given as CONFORMANCE_BASE_URL, CONFORMANCE_STORE_HASH, CONFORMANCE_TOKEN, "
        "CONFORMANCE_READONLY_TOKEN, CONFORMANCE_ALLOW_DESTRUCTIVE, CONFORMANCE_REPORT_DIR, CONFORMANCE_MAX_TIME, "
        "CONFORMANCE_MAX_INVENTORY, CONFORMANCE_MAX_EXAMPLES, CONFORMANCE_SLICES, CONFORMANCE_MAX_REQUESTS, CONFORMANCE_REQUEST_TIMEOUT, "
        "CONFORMANCE_MAX_RETRIES, CONFORMANCE_SEED, CONFORMANCE_CUSTOMER_ID (a comma list). "
        "Arguments after -- go to pytest.\n\n" + __doc__[__doc__.index("Exit status:"):],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--base-url", help="server URL, e.g. http://127.0.0.1:8080; without --store-hash, the API base "
                        "as given (e.g. http://127.0.0.1:4010 for a mock serving /segments at its root)")
    parser.add_argument("--store-hash", help="the store's hash: the API base is {base-url}/stores/{hash}/v3")
    parser.add_argument("--token", help="X-Auth-Token with the Customers modify scope")
    parser.add_argument("--readonly-token", help="X-Auth-Token with the Customers read-only scope")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="also run tests that may delete data this run did not create (DELETE without id:in)")
    parser.add_argument("--report-dir", help="write junit.xml, conformance-report.json and conformance-report.md here")
    parser.add_argument("--max-time", type=_checked(float, 0.001, "a number of seconds"), help="stop after this many seconds: clean up, report, exit 4")
    parser.add_argument("--max-examples", type=_checked(int, 1, "a whole number from 1"), help="generated requests per operation for the SCHEMA rule (default 15)")
    parser.add_argument("--max-requests", type=_checked(int, 1, "a whole number from 1"), help="stop after this many HTTP requests: clean up, report, exit 4 (default: no limit)")
    parser.add_argument("--request-timeout", type=_checked(float, 0.001, "a number of seconds"), help=REQUEST_TIMEOUT_HELP)
    parser.add_argument("--max-retries", type=_checked(int, 0, "a whole number"), help="times a 429 is waited out and retried (default 5)")
    parser.add_argument("--max-inventory", type=_checked(int, 1, "a whole number from 1"), help="most items per collection the pre-run inventory reads (default 20000)")
    parser.add_argument("--seed", type=_checked(int, 0, "a whole number"), help="the seed of the requests the SCHEMA rule generates (default 0): the same seed, "
                        "target and store state send the same requests and give the same verdict")
    parser.add_argument("--customer-id", action="append", type=_customer_ids, help="an existing customer without a shopper profile that the run "
                        "may give one (repeat it, or a comma list): for a target without the Customers slice, so that the "
                        "rules on shopper profiles and memberships still run. The customers themselves are never changed")
    parser.add_argument("--slices", type=_slices, help="the API slices to judge: a comma list of segmentation, customers, promotions "
                        "(default all; a slice left out makes the verdict incomplete)")
    parser.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression (rule ids work: -k SEG_CAP)")
    return parser


def pytest_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    argv = [str(SUITE), "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE), "-p", "conformance.plugin", "-q"]
    for name in ("base_url", "store_hash", "token", "readonly_token", "report_dir", "max_time", "max_inventory", "max_examples",
                 "slices", "max_requests", "request_timeout", "max_retries", "seed"):
        value = getattr(args, name)
        if value:
            argv += [f"--{name.replace('_', '-')}", value]
    for customer in args.customer_id or []:
        argv += ["--customer-id", customer]
    if args.allow_destructive:
        argv.append("--allow-destructive")
    if args.report_dir:
        Path(args.report_dir).mkdir(parents=True, exist_ok=True)
        argv += ["--junitxml", str(Path(args.report_dir) / "junit.xml")]
    if args.keyword:
        argv += ["-k", args.keyword]
    return argv + extra


def main(argv: list[str] | None = None) -> int:
    # A signal before the suite's own handlers are in place (start-up, collection) still
    # ends in a report and exit status 4; nothing has been written to the target yet.
    stopped: list[str] = []

    def early_stop(signum: int, _frame) -> None:
        stopped.append(signal.Signals(signum).name)
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, early_stop)
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    args = build_parser().parse_args(argv)
    try:
        if args.base_url and args.token:
            problem = _preflight(args)
            if problem:
                return problem
        import pytest

        return int(pytest.main(pytest_args(args, extra)))
    except KeyboardInterrupt:
        _report_early_stop(args, stopped[0] if stopped else "SIGINT")
        return 4


def _preflight(args: argparse.Namespace) -> int:
    """Before pytest starts: a target problem is one line, a report, and exit status 3."""
    from .client import ConformanceClient
    from .preflight import api_base_of, preflight
    from .report import build_report, write_reports

    base = api_base_of(args.base_url, args.store_hash)
    raw = args.request_timeout or os.environ.get("CONFORMANCE_REQUEST_TIMEOUT")  # as the plugin reads it
    try:
        timeout = float(raw) if raw else None
    except ValueError:
        timeout = None  # the plugin's reading of the options names the bad value
    problem = preflight(ConformanceClient(base, args.token, None, []), args.readonly_token, timeout)
    if not problem:
        return 0
    report = build_report([], base, target_problem=problem)
    for line in report["summary_lines"]:
        print(line)
    if args.report_dir:
        write_reports(report, Path(args.report_dir))
    return 3


def _report_early_stop(args: argparse.Namespace, signal_name: str) -> None:
    from .report import build_report, write_reports

    report = build_report([], args.base_url or "", interrupted=signal_name)
    print(f"segmentation conformance: stopped by {signal_name} before the first rule ran; nothing was written to the target")
    for line in report["summary_lines"]:
        print(line)
    if args.report_dir:
        write_reports(report, Path(args.report_dir))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
