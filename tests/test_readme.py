"""The README runs: every `sh` block is executed here, in order, against a fresh mock
started by the README's own command (on a free port instead of 8080), so that a broken
example fails CI. The first block is the two commands a fresh machine runs: CI runs the
second (`.ci/run`), and the first is checked to be the server command the rest uses."""

from __future__ import annotations

import json
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
FIXTURE = re.search(r"### Fixture format\n\n```yaml\n(.*?)^```", README, re.MULTILINE | re.DOTALL).group(1)


def runnable_units() -> list[tuple[str, str]]:
    """Every `sh` block after the first, and every curl command of the control plane's
    table, in the order the README gives them: ("block", text) or ("row", command)."""
    units = []
    for found in re.finditer(r"^```sh\n(.*?)^```|^\| (`curl .*?) \| ", README, re.MULTILINE | re.DOTALL):
        if found.group(1) is not None:
            units.append((found.start(), "block", found.group(1)))
        else:
            units += [(found.start(), "row", command) for command in re.findall(r"`(curl [^`]*)`", found.group(2))]
    return [(kind, text) for _, kind, text in sorted(units)][1:]  # the first block: the two commands


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


def test_every_other_sh_block_and_the_control_plane_table_run_green_in_order(readme_mock, tmp_path):
    assert shutil.which("curl"), "curl is needed by the README's examples (.ci/run installs it)"
    # The blocks name `openapi/...` relative to a checkout, and the table seeds `fixture.yaml`.
    (tmp_path / "openapi").symlink_to(ROOT / "openapi")
    (tmp_path / "fixture.yaml").write_text(FIXTURE, encoding="utf-8")
    blocks, rows = [], 0
    for kind, text in runnable_units():
        if kind == "row":
            result = run_block(f"M={DEFAULT_URL}/_mock\n{text}", readme_mock, tmp_path)
            assert result.returncode == 0, f"README control-plane row failed: {text}\n{result.stderr[-2000:]}"
            answer = json.loads(result.stdout) if result.stdout.startswith("{") else None
            assert not (isinstance(answer, dict) and isinstance(answer.get("status"), int) and answer["status"] >= 400), \
                f"README control-plane row answered an error: {text}\n{result.stdout[:1000]}"
            rows += 1
            continue
        assert DEFAULT_URL in text, f"a README sh block does not talk to the mock:\n{text}"
        result = run_block(text, readme_mock, tmp_path)
        assert result.returncode == 0, f"README sh block failed:\n{text}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        blocks.append(result.stdout)
    assert rows == len(re.findall(r"`curl [^`]*`", "\n".join(l for l in README.splitlines() if l.startswith("| `curl"))))
    walkthrough, promotions, schemathesis, conformance = blocks
    # What the text around each block says it shows:
    assert "Cannot have multiple segments with the same name." in walkthrough  # "the documented 409"
    assert '"applies":true' in promotions.replace(" ", "") and "not_in_segment" in promotions
    assert "passed" in schemathesis
    assert "verdict: conformant" in conformance and (tmp_path / "reports" / "conformance-report.json").exists()
