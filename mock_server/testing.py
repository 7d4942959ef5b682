"""Run a mock from Python: a context manager, and the handle it gives back.

    from mock_server.testing import running_mock

    with running_mock(fixture={"segments": [{"name": "VIP"}]}) as mock:
        requests.get(mock.base_url + "/segments", headers=mock.headers())

In-process by default (a threaded server on a free loopback port); ``subprocess=True``
runs ``python -m mock_server serve`` instead (granian, as in production). The pytest
fixtures built on it are in ``mock_server.pytest_plugin``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess as subprocesses
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

_BANNER_PORT = re.compile(r"http://127\.0\.0\.1:(\d+)")


@dataclass
class MockHandle:
    url: str  # the server root, e.g. http://127.0.0.1:41234
    store_hash: str
    token: str
    readonly_token: str
    admin_token: str | None = None

    @property
    def base_url(self) -> str:
        """The store's API base: ``{url}/stores/{store_hash}/v3``."""
        return f"{self.url}/stores/{self.store_hash}/v3"

    def headers(self, readonly: bool = False) -> dict[str, str]:
        return {"X-Auth-Token": self.readonly_token if readonly else self.token}

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**kwargs.pop("headers", {}), **({"X-Mock-Admin-Token": self.admin_token} if self.admin_token else {})}
        response = requests.request(method, f"{self.url}/_mock{path}", headers=headers, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"control plane {method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def reset(self) -> None:
        """Empty the store and drop its faults and rate-limit settings."""
        self.control("POST", f"/reset?store_hash={self.store_hash}")

    def seed(self, fixture: dict[str, Any] | str | Path) -> None:
        """Load a fixture: a mapping or a YAML/JSON file; ``{stores: [...]}`` or one store's data."""
        if isinstance(fixture, (str, Path)):
            fixture = yaml.safe_load(Path(fixture).read_text(encoding="utf-8"))
        if "stores" not in fixture:
            fixture = {"stores": [{"store_hash": self.store_hash, **fixture}]}
        self.control("POST", "/seed", json=fixture)

    def snapshot(self) -> dict[str, Any]:
        return self.control("GET", f"/snapshot?store_hash={self.store_hash}").json()["stores"][0]

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.control("GET", "/journal", params={"store_hash": self.store_hash, **filters}).json()["entries"]

    def set_rate_limit(self, quota: int, window_ms: int = 30000, enforce: bool = True) -> None:
        self.control("PUT", f"/stores/{self.store_hash}/rate-limit", json={"quota": quota, "window_ms": window_ms, "enforce": enforce})

    def set_faults(self, **faults: Any) -> None:
        """``latency_ms``, ``responses`` (forced answers), ``concurrency_limit``: see the README."""
        self.control("PUT", f"/stores/{self.store_hash}/faults", json=faults)


@contextmanager
def running_mock(
    *,
    fixture: dict[str, Any] | str | Path | None = None,
    subprocess: bool = False,
    data_file: str | Path | None = None,
    store_hash: str = "test-store",
    token: str = "test-modify-token",
    readonly_token: str = "test-readonly-token",
) -> Iterator[MockHandle]:
    """A mock on a free loopback port for the duration of the block."""
    serve = _serve_subprocess if subprocess else _serve_in_process
    with serve(store_hash, token, readonly_token, data_file) as url:
        handle = MockHandle(url, store_hash, token, readonly_token)
        if fixture is not None:
            handle.seed(fixture)
        yield handle


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Any WSGI app on a free loopback port, in a thread of this process; stopped on exit."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@contextmanager
def _serve_in_process(store_hash: str, token: str, readonly_token: str, data_file) -> Iterator[str]:
    from .config import MockConfig, StoreConfig
    from .http.app import create_app

    config = MockConfig(stores=[StoreConfig(store_hash, token, readonly_token)], data_file=str(data_file) if data_file else None)
    app = create_app(config)
    try:
        with serve_wsgi(app) as url:
            yield url
    finally:
        app.extensions["segmentation_mock"]["storage"].close()


@contextmanager
def _serve_subprocess(store_hash: str, token: str, readonly_token: str, data_file) -> Iterator[str]:
    command = [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", "0",
               "--store-hash", store_hash, "--token", token, "--readonly-token", readonly_token]
    if data_file:
        command += ["--data-file", str(data_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_MOCK_")}
    proc = subprocesses.Popen(command, stdout=subprocesses.PIPE, stderr=subprocesses.STDOUT, text=True, env=env)
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            found = _BANNER_PORT.search(line)
            port = found.group(1) if found else None
        if port is None:
            raise RuntimeError("the mock did not start")
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:  # the banner comes before the worker answers
            try:
                requests.get(f"{url}/_mock/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocesses.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
