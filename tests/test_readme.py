"""The README runs: every `sh` block is executed here, in order, against a fresh mock
started by the README's own command (on a free port instead of 8080), so that a broken
example fails CI. The first block is the two commands a fresh machine runs: CI runs the
second (`.ci/run`), and the first is checked to be the server command the rest uses."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
DEFAULT_URL = "http://127.0.0.1:8080"


def test_the_first_lines_are_the_two_commands_and_ci_runs_the_second():
    serve, test = BLOCKS[0].strip().splitlines()
    assert README.splitlines()[2:5] == ["```sh", serve, test]
    assert serve.endswith(".venv/bin/segmentation-mock serve") and test.endswith(".venv/bin/python -m pytest")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def readme_mock():
    """The README's server command, on a free port; its base URL replaces 8080's."""
    binary = Path(sys.executable).parent / "segmentation-mock"
    proc = subprocess.Popen([str(binary), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        url = found.group(1) if found else None
    assert url, "the mock did not start"
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()


def run_block(block: str, url: str, cwd: Path) -> subprocess.CompletedProcess:
    script = "set -euo pipefail\n" + block.replace(DEFAULT_URL, url)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_every_other_sh_block_runs_green_in_order(readme_mock, tmp_path):
    assert shutil.which("curl"), "curl is needed by the README's examples (.ci/run installs it)"
    # The blocks name `openapi/...` relative to a checkout: run them from one.
    (tmp_path / "openapi").symlink_to(ROOT / "openapi")
    outputs = []
    for number, block in enumerate(BLOCKS[1:], start=2):
        assert DEFAULT_URL in block, f"block {number} does not talk to the mock"
        result = run_block(block, readme_mock, tmp_path)
        assert result.returncode == 0, f"README sh block {number} failed:\n{block}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        outputs.append(result.stdout)
    walkthrough, promotions, schemathesis, conformance = outputs
    # What the text around each block says it shows:
    assert "Cannot have multiple segments with the same name." in walkthrough  # "the documented 409"
    assert '"applies":true' in promotions.replace(" ", "") and "not_in_segment" in promotions
    assert "passed" in schemathesis
    assert "verdict: conformant" in conformance and (tmp_path / "reports" / "conformance-report.json").exists()
