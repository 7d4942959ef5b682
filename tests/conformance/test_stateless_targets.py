"""The suite against Prism, the stateless mock integrators would otherwise reach for:
served from the project's own document, in its static (examples) and dynamic (random
data) modes. A server that keeps nothing is not conformant, and the report says why in
words, instead of looping, hanging or crashing on what it answers.

Prism is installed by `.ci/run` (`npm install --prefix .ci/prism @stoplight/prism-cli`);
elsewhere, set PRISM to its executable, or the test is skipped with that reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from segmentation_contract import spec_path
from tests.conformance.test_suite_against_mock import CLI, read_report

ROOT = Path(__file__).resolve().parents[2]
PRISM = os.environ.get("PRISM") or str(ROOT / ".ci" / "prism" / "node_modules" / ".bin" / "prism")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_prism(dynamic: bool):
    port = free_port()
    command = [PRISM, "mock", "-h", "127.0.0.1", "-p", str(port), *(["-d"] if dynamic else []), str(spec_path())]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(url + "/segments", headers={"X-Auth-Token": "t"}, timeout=2).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop(process)
    pytest.fail(f"Prism did not start: {command}")


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.skipif(not os.access(PRISM, os.X_OK), reason=f"Prism is not installed at {PRISM} (.ci/run installs it)")
@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_a_stateless_mock_is_not_conformant_and_the_report_says_why(dynamic, tmp_path):
    process, url = start_prism(dynamic)
    try:
        # Prism serves the operations at its root: the base URL is the API base, without a store hash.
        # Few generated requests: what this test judges (no state kept, no crash, no hang) shows at once.
        command = [CLI, "--base-url", url, "--token", "t", "--readonly-token", "r", "--report-dir", str(tmp_path),
                   "--max-time", "600", "--max-examples", "5"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    finally:
        stop(process)
    output = result.stdout + result.stderr
    report = read_report(tmp_path)
    assert result.returncode == 1, output[-3000:]
    assert report["verdict"] == "not conformant" and report["doc_failures"], output[-3000:]
    assert report["keeps_no_state"] and "the target keeps no state" in output, output[-3000:]
    assert "## The target keeps no state" in (tmp_path / "conformance-report.md").read_text()
    assert report["foreign_data_changed"] == [] and not report["target_problem"], output[-3000:]
    # Every rule was judged or said why not: no crash inside the suite's own code.
    assert report["suite_errors"] == [], report["suite_errors"]
