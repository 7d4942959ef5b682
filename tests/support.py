"""Test support: a mock served over real HTTP, and a client that checks every answer
against the OpenAPI document with openapi-core's response validation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
import logging


from mock_server import create_app
from mock_server.config import MockConfig, StoreConfig
from mock_server.http.ratelimit import RateLimitPolicy
from mock_server.testing import serve_wsgi
from mock_server.storage import MemoryStorage, SqliteStorage, Storage
from segmentation_contract import load_spec

OPENAPI = OpenAPI.from_dict(load_spec())
logging.getLogger("werkzeug").setLevel(logging.WARNING)
STORE, TOKEN, READONLY = "store1", "modify-1", "readonly-1"
OTHER_STORE, OTHER_TOKEN = "store2", "modify-2"


class FakeClock:
    """A clock the test moves; starts at 2024-01-01T00:00:00Z."""

    def __init__(self, start: float = 1704067200.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ContractViolation(AssertionError):
    pass


@dataclass
class ApiClient:
    """Talks to one store; validates every response it gets against the document."""

    base_url: str
    token: str | None
    validate: bool = True
    session: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, *, token: str | None = "default", headers=None, **kwargs) -> requests.Response:
        all_headers = {} if token is None else {"X-Auth-Token": self.token if token == "default" else token}
        all_headers.update(headers or {})
        response = self.session.request(method, self.base_url + path, headers=all_headers, timeout=30, **kwargs)
        if self.validate:
            check_against_contract(response)
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def check_against_contract(response: requests.Response) -> None:
    """openapi-core's response validation; unknown routes and methods are not in the document."""
    if response.status_code in (404, 405) and _not_an_operation(response):
        return
    result = OPENAPI.unmarshal_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
    if result.errors:
        raise ContractViolation(
            f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:500]}: "
            f"{[str(e) + ' ' + repr(getattr(e, '__cause__', None)) for e in result.errors]}"
        )


def _not_an_operation(response: requests.Response) -> bool:
    from mock_server.http.app import shared_contract

    path = response.request.path_url.split("?")[0]
    prefix, _, rest = path.partition("/v3")
    found = shared_contract().match(rest)
    return found is None or response.request.method not in found[0].operations


@dataclass
class ServedMock:
    url: str
    storage: Storage
    clock: FakeClock
    app: object

    def client(self, token: str | None = TOKEN, store: str = STORE) -> ApiClient:
        return ApiClient(f"{self.url}/stores/{store}/v3", token)

    def limiter(self):
        return self.app.extensions["segmentation_mock"]["limiter"]


def make_storage(backend: str, tmp_path) -> Storage:
    if backend == "memory":
        return MemoryStorage()
    return SqliteStorage(tmp_path / "state.db")


def default_config(**overrides) -> MockConfig:
    config = MockConfig(
        stores=[StoreConfig(STORE, TOKEN, READONLY), StoreConfig(OTHER_STORE, OTHER_TOKEN)],
        rate_limit=RateLimitPolicy(),
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@contextmanager
def serve_mock(storage: Storage, config: MockConfig | None = None, clock: FakeClock | None = None) -> Iterator[ServedMock]:
    """The mock app on a free loopback port, threaded, stopped on exit."""
    clock = clock or FakeClock()
    app = create_app(config or default_config(), storage=storage, clock=clock)
    with serve_wsgi(app) as url:
        yield ServedMock(url, storage, clock, app)
