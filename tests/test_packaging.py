"""The distribution: one wheel holding the packages and the OpenAPI document."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("*.whl")
    return built


def test_wheel_holds_packages_document_and_scripts(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "segmentation_contract/openapi/segmentation-v3.yaml" in names
    for package in ("segmentation_contract", "mock_server", "conformance"):
        assert f"{package}/__init__.py" in names
    assert "mock_server/domain/service.py" in names and "mock_server/storage/sqlite.py" in names
    [entry_points] = [n for n in names if n.endswith("entry_points.txt")]
    assert "segmentation-mock = mock_server.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_copy_finds_its_document_without_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    packaged = (site / "segmentation_contract" / "openapi" / "segmentation-v3.yaml").read_bytes()
    assert packaged == (ROOT / "openapi" / "segmentation-v3.yaml").read_bytes()
    code = "import segmentation_contract as c; print(c.spec_path()); print(len(c.load_spec()['paths']))"
    expected_paths = len(yaml.safe_load((ROOT / "openapi" / "segmentation-v3.yaml").read_text())["paths"])
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    path, paths = result.stdout.split()
    assert Path(path).is_relative_to(site) and int(paths) == expected_paths
