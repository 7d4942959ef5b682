"""Schemathesis' CLI loads the document and exercises every operation against the mock."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from segmentation_contract import iter_operations, load_spec, spec_path
from tests.support import TOKEN, MemoryStorage, serve_mock


def test_st_run_lists_and_passes_every_operation_from_the_examples(tmp_path):
    junit = tmp_path / "junit.xml"
    with serve_mock(MemoryStorage()) as mock:
        result = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "st"), "run", str(spec_path()),
                "--url", mock.client().base_url,
                "-H", f"X-Auth-Token: {TOKEN}",
                "--phases", "examples",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                            "response_schema_conformance,response_headers_conformance",
                "--mode", "positive",
                "--no-color",
                "--generation-database", "none",
                "--report", "junit", "--report-junit-path", str(junit),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    expected = {f"{method} {path}" for path, method, _ in iter_operations(load_spec())}
    assert f"{len(expected)} selected / {len(expected)} total" in output
    cases = {case.get("name") for case in ET.parse(junit).iter("testcase")}
    assert expected == cases
