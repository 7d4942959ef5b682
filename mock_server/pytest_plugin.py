"""pytest fixtures for testing a client against the mock (registered by the package).

- ``segmentation_mock``: a ``MockHandle`` on a store that is empty at the start of each
  test (then seeded from ``segmentation_mock_fixture``, if the test module overrides it);
- ``segmentation_mock_server``: the session's running mock (started once);
- ``segmentation_mock_fixture``: override it to return a fixture (mapping or file path).

``--segmentation-mock-subprocess`` runs the mock under gunicorn in a subprocess instead
of in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .testing import MockHandle, running_mock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("segmentation-mock").addoption(
        "--segmentation-mock-subprocess",
        action="store_true",
        default=False,
        help="run the segmentation mock in a subprocess (gunicorn) instead of in-process",
    )


@pytest.fixture(scope="session")
def segmentation_mock_server(pytestconfig: pytest.Config) -> Iterator[MockHandle]:
    with running_mock(subprocess=pytestconfig.getoption("segmentation_mock_subprocess")) as handle:
        yield handle


@pytest.fixture
def segmentation_mock_fixture() -> Any:
    """Override in a test module or conftest to seed every test's store."""
    return None


@pytest.fixture
def segmentation_mock(segmentation_mock_server: MockHandle, segmentation_mock_fixture: Any) -> MockHandle:
    segmentation_mock_server.reset()
    if segmentation_mock_fixture is not None:
        segmentation_mock_server.seed(segmentation_mock_fixture)
    return segmentation_mock_server
