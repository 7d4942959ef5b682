"""Per-call cost of the in-process mode against the HTTP path, side by side in one run.

    .venv/bin/python benchmarks/bench_inprocess.py [--calls 2000]

The same `requests` call (GET /segments with one segment, and POST /segments) is made
N times against the in-process mock (`mock_server.inprocess`, no socket) and against the
mock served over loopback HTTP (`mock_server.testing.running_mock`, a threaded server in
this process). Prints microseconds per call and the ratio.
"""

from __future__ import annotations

import argparse
import logging
import time

import requests

from mock_server.inprocess import mock_bigcommerce
from mock_server.testing import running_mock


def per_call_us(session: requests.Session, base: str, headers: dict, calls: int) -> tuple[float, float]:
    session.post(f"{base}/segments", json=[{"name": "warm"}], headers=headers)
    start = time.perf_counter()
    for _ in range(calls):
        answer = session.get(f"{base}/segments?limit=1", headers=headers)
        assert answer.status_code == 200, answer.text  # the same check on both sides: a refusal is not a call's cost
    get = (time.perf_counter() - start) / calls * 1e6
    start = time.perf_counter()
    for i in range(calls):
        answer = session.post(f"{base}/segments", json=[{"name": f"n{i}-{time.perf_counter_ns()}"}], headers=headers)
        assert answer.status_code == 201, answer.text
        if i % 900 == 899:  # stay under the 1000-segment cap
            session.delete(f"{base}/segments", headers=headers)
    post = (time.perf_counter() - start) / calls * 1e6
    return get, post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    calls = parser.parse_args().calls
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the threaded server's access log
    with mock_bigcommerce() as mock:
        inprocess = per_call_us(requests.Session(), mock.base_url, mock.headers(), calls)
    with running_mock() as mock:
        http = per_call_us(requests.Session(), mock.base_url, mock.headers(), calls)
    print(f"{calls} calls each            in-process     HTTP (loopback)   in-process / HTTP")
    for label, a, b in (("GET /segments?limit=1", inprocess[0], http[0]), ("POST /segments", inprocess[1], http[1])):
        print(f"{label:24} {a:10.0f} µs   {b:12.0f} µs   {a / b:10.2f}")


if __name__ == "__main__":
    main()
