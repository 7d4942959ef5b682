"""pytest fixtures for testing a client against the mock (registered by the package).

- ``segmentation_mock``: a ``MockHandle`` on a store that is empty at the start of each
  test (then seeded from ``segmentation_mock_fixture``, if the test module overrides it);
- ``segmentation_mock_server``: the session's running mock (started once);
- ``segmentation_mock_fixture``: override it to return a fixture (mapping or file path);
- ``bigcommerce_mock``: the in-process mock (``mock_server.inprocess``): every `requests`
  and `httpx` call to ``https://api.bigcommerce.com/stores/test-store/v3/...`` is answered
  by the mock in this process, with no server and no port, for the duration of the test.

``--segmentation-mock-subprocess`` runs the mock under granian in a subprocess instead
of in-process.

The mock's runtime (Flask, openapi-core, ...) is imported only when a test asks for one
of these fixtures: the plugin is registered with every pytest run where the package is
installed, also without the ``mock`` extra, and must not break those runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testing import MockHandle


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("segmentation-mock").addoption(
        "--segmentation-mock-subprocess",
        action="store_true",
        default=False,
        help="run the segmentation mock in a subprocess (granian) instead of in-process",
    )


@pytest.fixture(scope="session")
def segmentation_mock_server(pytestconfig: pytest.Config) -> Iterator[MockHandle]:
    try:
        from .testing import running_mock
    except ImportError as missing:
        pytest.fail(f"the segmentation mock needs its runtime ({missing.name} is missing): "
                    "pip install 'bc-segmentation-harness[mock]'", pytrace=False)
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


@pytest.fixture
def bigcommerce_mock(segmentation_mock_fixture: Any):
    """The in-process mock, seeded from ``segmentation_mock_fixture`` when given."""
    try:
        from .inprocess import mock_bigcommerce
    except ImportError as missing:
        pytest.fail(f"the in-process mock needs the mock's runtime ({missing.name} is missing): "
                    "pip install 'bc-segmentation-harness[mock]'", pytrace=False)
    with mock_bigcommerce(fixture=segmentation_mock_fixture) as mock:
        yield mock
