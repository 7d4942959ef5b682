"""``segmentation-conformance``: run the suite against any implementation.

    segmentation-conformance --base-url http://127.0.0.1:8080 --store-hash demo \\
        --token T [--readonly-token R] [--allow-destructive] [--report-dir DIR] [-k EXPR] [-- PYTEST ARGS]

Exit status 0 when every checked rule holds (warnings allowed), 1 when one fails,
2 or more when the run itself could not happen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent / "suite"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segmentation-conformance",
        description="Check a Customer Segmentation V3 implementation against the contract and BEHAVIOR.md's rules.",
        epilog="Options may also be given as CONFORMANCE_BASE_URL, CONFORMANCE_STORE_HASH, CONFORMANCE_TOKEN, "
        "CONFORMANCE_READONLY_TOKEN, CONFORMANCE_ALLOW_DESTRUCTIVE, CONFORMANCE_REPORT_DIR. "
        "Arguments after -- go to pytest.",
    )
    parser.add_argument("--base-url", help="server URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--store-hash", help="the store's hash")
    parser.add_argument("--token", help="X-Auth-Token with the Customers modify scope")
    parser.add_argument("--readonly-token", help="X-Auth-Token with the Customers read-only scope")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="also run tests that may delete data this run did not create (DELETE without id:in)")
    parser.add_argument("--report-dir", help="write junit.xml, conformance-report.json and conformance-report.md here")
    parser.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression (rule ids work: -k SEG_CAP)")
    return parser


def pytest_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    argv = [str(SUITE), "-c", str(SUITE / "pytest.ini"), "--rootdir", str(SUITE), "-p", "conformance.plugin", "-q"]
    for name in ("base_url", "store_hash", "token", "readonly_token", "report_dir"):
        value = getattr(args, name)
        if value:
            argv += [f"--{name.replace('_', '-')}", value]
    if args.allow_destructive:
        argv.append("--allow-destructive")
    if args.report_dir:
        Path(args.report_dir).mkdir(parents=True, exist_ok=True)
        argv += ["--junitxml", str(Path(args.report_dir) / "junit.xml")]
    if args.keyword:
        argv += ["-k", args.keyword]
    return argv + extra


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    args = build_parser().parse_args(argv)
    return int(pytest.main(pytest_args(args, extra)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
