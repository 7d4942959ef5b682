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
    assert "segmentation-mock = mock_server.launcher:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


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


def test_the_distribution_requires_only_the_suites_runtime(wheel):
    """`pip install bc-segmentation-harness` is the suite; the mock's runtime is the `mock` extra."""
    [metadata] = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA")]
    requires = [line.split(":", 1)[1].strip() for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    for runtime in ("flask", "openapi-core", "granian", "cryptography"):
        assert not any(r.lower().startswith(runtime) for r in base), base
        assert any(r.lower().startswith(runtime) and "extra == 'mock'" in r.replace('"', "'") for r in requires), requires


MOCK_RUNTIME = ("flask", "granian", "openapi_core", "cryptography")  # Werkzeug comes with Schemathesis
BLOCKER = f"""
import sys

class _WithoutTheMocksRuntime:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {MOCK_RUNTIME!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _WithoutTheMocksRuntime())
"""


@pytest.fixture
def without_the_mocks_runtime(tmp_path):
    """An environment in which Flask, granian, openapi-core and cryptography
    cannot be imported, as after `pip install bc-segmentation-harness` without extras."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    check = subprocess.run([sys.executable, "-c", "import flask"], env=env, capture_output=True, text=True)
    assert check.returncode != 0 and "flask" in check.stderr  # the blocker works
    return env


def test_the_suite_runs_without_the_mocks_runtime(without_the_mocks_runtime, tmp_path):
    from tests.conformance.test_suite_against_mock import CLI, read_report, serve_mock, suite_command
    from tests.support import make_storage

    bin_dir = Path(sys.executable).parent
    help_run = subprocess.run([str(bin_dir / "segmentation-conformance"), "--help"], env=without_the_mocks_runtime,
                              capture_output=True, text=True, timeout=120)
    assert help_run.returncode == 0 and "Exit status" in help_run.stdout, help_run.stderr
    with serve_mock(make_storage("memory", tmp_path)) as mock:  # served by this process, which has the runtime
        command = suite_command(mock.url, tmp_path / "report", "-k", "SEG_CREATE")
        assert command[0] == CLI
        result = subprocess.run(command, env=without_the_mocks_runtime, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output[-3000:]  # a -k subset: incomplete, and no rule failed
    assert {r["id"]: r["outcome"] for r in read_report(tmp_path / "report")["rules"]}["SEG-CREATE"] == "passed", output[-3000:]


def test_pytest_and_the_mock_command_without_the_mocks_runtime(without_the_mocks_runtime, tmp_path):
    """The mock's pytest plugin is registered with every pytest run: it must not break one
    where the mock's runtime is absent; the mock's command says what to install."""
    (tmp_path / "test_own.py").write_text("def test_mine():\n    assert True\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_own.py")],
                            env=without_the_mocks_runtime, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr
    mock = subprocess.run([str(Path(sys.executable).parent / "segmentation-mock"), "serve"], env=without_the_mocks_runtime,
                          capture_output=True, text=True, timeout=60)
    assert mock.returncode == 2 and "pip install 'bc-segmentation-harness[mock]'" in mock.stderr, mock.stderr


def test_both_commands_print_the_installed_version_even_without_the_mocks_runtime(without_the_mocks_runtime):
    from importlib.metadata import version

    expected = version("bc-segmentation-harness")
    bin_dir = Path(sys.executable).parent
    for command in ("segmentation-mock", "segmentation-conformance"):
        for env in (None, without_the_mocks_runtime):
            result = subprocess.run([str(bin_dir / command), "--version"], env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0 and result.stdout.strip() == f"{command} {expected}", result.stdout + result.stderr


def test_the_license_is_the_one_the_package_declares():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert 'license = {text = "MIT"}' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
