"""The suite's HTTP client: records every exchange, waits out 429s, and refuses any
request that could destroy or change data this run did not create.

The safety rules are read from the OpenAPI document: a DELETE whose operation carries
``x-unscoped-delete`` needs that parameter; every ID a write names (in the path, in
``id:in``, in a PUT body) must be one this run created or generated, unless the user
passed ``--allow-destructive``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from segmentation_contract import find_operation, load_spec

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DIGITS = re.compile(r"[0-9]+")
MAX_429_WAIT_S = 65.0
MAX_429_RETRIES = 5


class UnsafeRequest(RuntimeError):
    """The request could touch data this run did not create."""


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int
    response_headers: dict[str, str]
    response_body: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": {"method": self.method, "url": self.url, "headers": self.request_headers, "body": self.request_body},
            "response": {"status": self.status, "headers": self.response_headers, "body": self.response_body[:4000]},
        }


@dataclass
class SafetyGuard:
    """Knows what this run created; says whether a request is safe to send."""

    allow_destructive: bool = False
    owned: set[str] = field(default_factory=set)
    created: dict[str, list[str]] = field(default_factory=dict)  # collection path -> IDs this run created

    def __post_init__(self) -> None:
        self.spec = load_spec()

    def fresh_uuid(self) -> str:
        """A new random UUID, which matches nothing in any store: safe to name."""
        value = str(uuid.uuid4())
        self.owned.add(value)
        return value

    def remember(self, operation: dict[str, Any] | None, path: str, method: str, status: int, body: Any) -> None:
        if operation and method == "POST" and operation["operationId"].startswith("create") and 200 <= status < 300:
            data = body.get("data", []) if isinstance(body, dict) else []
            for item in data if isinstance(data, list) else [data]:
                if isinstance(item, dict) and "id" in item:
                    self.owned.add(str(item["id"]))
                    self.created.setdefault(path, []).append(str(item["id"]))

    def check(self, method: str, path: str, query: list[tuple[str, str]], body: Any) -> None:
        if self.allow_destructive or method in ("GET", "HEAD", "OPTIONS"):
            return
        found = find_operation(self.spec, method, path)
        if found is None:
            return  # no such operation: nothing can be written
        _, operation, path_values = found
        for name, value in path_values.items():
            if (UUID_TEXT.fullmatch(value) or DIGITS.fullmatch(value)) and value.lstrip("0") not in {
                o.lstrip("0") for o in self.owned
            }:
                raise UnsafeRequest(f"{method} {path}: {name} `{value}` was not created by this run")
        unscoped = operation.get("x-unscoped-delete")
        names = [k for k, _ in query]
        # Without the filter, everything under the path goes: safe only inside our own resource.
        if unscoped and unscoped not in names and not path_values:
            raise UnsafeRequest(f"{method} {path} without `{unscoped}` would delete everything; pass --allow-destructive")
        if method == "DELETE":
            for key, value in query:
                if key == "id:in":
                    for entry in (e.strip() for e in value.split(",")):
                        if (UUID_TEXT.fullmatch(entry) or DIGITS.fullmatch(entry)) and entry.lstrip("0") not in {
                            o.lstrip("0") for o in self.owned
                        }:
                            raise UnsafeRequest(f"{method} {path}: `{entry}` was not created by this run")
        if operation["operationId"] == "updateSegments" and isinstance(body, list):
            for item in body:
                target = item.get("id") if isinstance(item, dict) else None
                if isinstance(target, str) and UUID_TEXT.fullmatch(target) and target not in self.owned:
                    raise UnsafeRequest(f"PUT {path}: segment `{target}` was not created by this run")


class ConformanceClient:
    """One store, one token; every request goes through the guard and is recorded."""

    def __init__(self, base_url: str, token: str | None, guard: SafetyGuard, journal: list[Exchange]):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.guard = guard
        self.journal = journal
        self.session = requests.Session()

    def with_token(self, token: str | None) -> ConformanceClient:
        return ConformanceClient(self.base_url, token, self.guard, self.journal)

    def request(self, method: str, path: str, *, json_body: Any = None, data: bytes | str | None = None,
                headers: dict[str, str] | None = None, token: Any = ...) -> requests.Response:
        split = urlsplit(path)
        query = parse_qsl(split.query, keep_blank_values=True)
        body = json_body if data is None else _maybe_json(data)
        self.guard.check(method, split.path, query, body)
        all_headers = {"Accept": "application/json"}
        chosen = self.token if token is ... else token
        if chosen is not None:
            all_headers["X-Auth-Token"] = chosen
        if json_body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        payload = json.dumps(json_body).encode() if json_body is not None else data
        for _ in range(MAX_429_RETRIES + 1):
            response = self.session.request(method, self.base_url + path, headers=all_headers, data=payload, timeout=60)
            self._record(response, all_headers, payload)
            if response.status_code != 429:
                break
            time.sleep(min(MAX_429_WAIT_S, int(response.headers.get("X-Rate-Limit-Time-Reset-Ms", "1000")) / 1000 + 0.05))
        found = find_operation(self.guard.spec, method, split.path)
        self.guard.remember(found[1] if found else None, split.path, method, response.status_code, _maybe_json(response.content))
        return response

    def _record(self, response: requests.Response, headers: dict[str, str], payload: Any) -> None:
        shown = {k: ("***" if k.lower() == "x-auth-token" else v) for k, v in headers.items()}
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        self.journal.append(
            Exchange(response.request.method, response.request.url, shown, text, response.status_code,
                     dict(response.headers), response.text)
        )

    def delete_everything_created(self) -> None:
        """Remove what this run created and may have left (each create's collection path takes ``id:in``)."""
        for path in ("/promotions", "/segments", "/shopper-profiles", "/customers"):
            ids = self.guard.created.get(path, [])
            for start in range(0, len(ids), 100):
                self.delete(f"{path}?id:in=" + ",".join(ids[start : start + 100]))

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)


def _maybe_json(raw: bytes | str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
