"""The mock in this process, like moto: no server, no port, the client library unchanged.

    from mock_server.inprocess import mock_bigcommerce

    with mock_bigcommerce(store_hash="abc123", token="my-token") as mock:
        requests.get("https://api.bigcommerce.com/stores/abc123/v3/segments",
                     headers={"X-Auth-Token": "my-token"})      # answered by the mock
        mock.seed({"segments": [{"name": "VIP"}]})
        mock.journal()

Every `requests` call (through `responses`) and every `httpx` call (through `respx`,
when httpx is installed) to ``https://api.bigcommerce.com/stores/{hash}/v3/...`` — and to
any other base URL given in ``base_urls`` — goes to the mock's WSGI app in this process;
everything else goes out as usual. The control plane is a Python object: ``seed()``,
``reset()``, ``snapshot()``, ``journal()``, ``set_faults()``, ``set_rate_limit()``.
``mock_bigcommerce`` is a context manager and a decorator; the pytest fixture is
``bigcommerce_mock`` (see ``mock_server.pytest_plugin``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .testing import MockHandle

PLATFORM = "https://api.bigcommerce.com"
DEFAULTS = {"store_hash": "test-store", "token": "test-modify-token", "readonly_token": "test-readonly-token"}


class _Answer:
    """A control-plane answer, shaped like the `requests.Response` MockHandle expects."""

    def __init__(self, status_code: int, body: bytes):
        self.status_code, self.content = status_code, body
        self.text = body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class InProcessMock(MockHandle):
    """A running in-process mock: the store's credentials, and the control plane as methods."""

    def __init__(self, app: Any, store_hash: str, token: str, readonly_token: str, base_urls: tuple[str, ...]):
        super().__init__(url=base_urls[0], store_hash=store_hash, token=token, readonly_token=readonly_token)
        self.app = app
        self.base_urls = base_urls
        self._client = app.test_client()

    def control(self, method: str, path: str, **kwargs: Any) -> _Answer:  # type: ignore[override]
        response = self._client.open(f"/_mock{path}", method=method, json=kwargs.get("json"),
                                     query_string=kwargs.get("params"))
        answer = _Answer(response.status_code, response.get_data())
        if answer.status_code >= 400:
            raise RuntimeError(f"control plane {method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer

    def answer(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes | None) -> tuple[int, list, bytes]:
        """One API call, answered by the app: (status, headers, body)."""
        parts = urlsplit(url)
        path = parts.path
        for base in self.base_urls:
            base_path = urlsplit(base).path.rstrip("/")
            if url.startswith(base) and base_path and path.startswith(base_path):
                path = path[len(base_path):]
                break
        response = self._client.open(path, method=method, query_string=parts.query,
                                     headers=[(k, v) for k, v in headers if k.lower() not in ("host", "content-length")],
                                     data=body or None)
        return response.status_code, list(response.headers.items()), response.get_data()


class mock_bigcommerce:  # noqa: N801 - used like a function, as moto's mock_* are
    """Context manager and decorator: route the platform's API (and ``base_urls``) to an
    in-process mock for the duration of the block or the decorated function."""

    def __init__(self, store_hash: str = DEFAULTS["store_hash"], token: str = DEFAULTS["token"],
                 readonly_token: str = DEFAULTS["readonly_token"], base_urls: Iterable[str] = (),
                 fixture: dict[str, Any] | str | None = None):
        self.store_hash, self.token, self.readonly_token = store_hash, token, readonly_token
        self.base_urls = tuple(u.rstrip("/") for u in (PLATFORM, *base_urls))
        self.fixture = fixture
        self.mock: InProcessMock | None = None
        self._stops: list[Callable[[], None]] = []

    def __enter__(self) -> InProcessMock:
        from .config import MockConfig, StoreConfig
        from .http.app import create_app

        app = create_app(MockConfig(stores=[StoreConfig(self.store_hash, self.token, self.readonly_token)]))
        self.mock = mock = InProcessMock(app, self.store_hash, self.token, self.readonly_token, self.base_urls)
        pattern = re.compile("^(?:" + "|".join(re.escape(u) for u in self.base_urls) + ")(?:/|$|\\?)")
        self._route_requests(mock, pattern)
        self._route_httpx(mock, pattern)
        if self.fixture is not None:
            mock.seed(self.fixture)
        return mock

    def __exit__(self, *exc_info: Any) -> None:
        while self._stops:
            self._stops.pop()()
        if self.mock is not None:
            self.mock.app.extensions["segmentation_mock"]["storage"].close()

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_bigcommerce(self.store_hash, self.token, self.readonly_token, self.base_urls[1:], self.fixture):
                return function(*args, **kwargs)

        return wrapper

    def _route_requests(self, mock: InProcessMock, pattern: re.Pattern[str]) -> None:
        import responses

        router = responses.RequestsMock(assert_all_requests_are_fired=False)

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
            status, headers, content = mock.answer(request.method, request.url, request.headers.items(), body)
            return status, dict(headers), content

        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            router.add_callback(method, pattern, callback=callback)
        router.add_passthru(re.compile(f"^(?!{pattern.pattern[1:]})"))  # everything else goes out as usual
        router.start()
        self._stops.append(lambda: (router.stop(), router.reset()))

    def _route_httpx(self, mock: InProcessMock, pattern: re.Pattern[str]) -> None:
        try:
            import httpx
            import respx
        except ImportError:  # httpx is optional: only requests is routed then
            return

        router = respx.mock(assert_all_called=False, assert_all_mocked=False)

        def answer(request: Any) -> Any:
            status, headers, content = mock.answer(request.method, str(request.url), request.headers.items(), request.content)
            return httpx.Response(status, headers=headers, content=content)

        router.route(url__regex=pattern.pattern).mock(side_effect=answer)
        router.route().pass_through()
        router.start()
        self._stops.append(router.stop)
