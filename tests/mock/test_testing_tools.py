"""The context manager integrators use, in-process and as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.testing import running_mock

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("as_subprocess", [False, True])
def test_running_mock_seeds_serves_and_stops(as_subprocess, tmp_path):
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text("segments: [{name: From file}]\n")
    with running_mock(fixture=fixture, subprocess=as_subprocess) as mock:
        response = requests.get(mock.base_url + "/segments", headers=mock.headers(readonly=True), timeout=30)
        assert [s["name"] for s in response.json()["data"]] == ["From file"]
        mock.set_faults(responses=[{"method": "GET", "path": "/segments", "status": 503, "count": 1}])
        assert requests.get(mock.base_url + "/segments", headers=mock.headers(), timeout=30).status_code == 503
        mock.reset()
        assert requests.get(mock.base_url + "/segments", headers=mock.headers(), timeout=30).json()["data"] == []
        url = mock.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_mock/health", timeout=5)


def test_the_examples_pass_with_a_subprocess_mock():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "examples", "--segmentation-mock-subprocess", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
