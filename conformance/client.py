"""The suite's HTTP client: every request goes through the fail-closed guard
(:mod:`conformance.guard`), is recorded, waits out 429s within a budget, and every write
is followed by the ledger's bookkeeping and quick check (:mod:`conformance.ledger`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from .guard import DIGITS, INTEGER, SAFE_METHODS, UUID, UUID_TEXT, SafetyGuard, UnsafeRequest, canonical_id
from .ledger import CLEANUP_ORDER
from .preflight import shortened
from .transport import exchange, new_session

__all__ = ["BudgetSpent", "RequestBudget", "ConformanceClient", "Exchange", "SafetyGuard", "UnsafeRequest", "UUID_TEXT", "DIGITS", "prove_deletes"]

MAX_429_WAIT_S = 65.0
MAX_429_RETRIES = 5
MASKED_TOKEN_MIN = 8  # platform tokens are far longer


class BudgetSpent(KeyboardInterrupt):
    """--max-requests: the run stops like on SIGTERM (pytest stops, cleanup, reports)."""


class RequestBudget:
    """At most ``limit`` HTTP requests for the rules (None: no limit). Cleanup is not
    counted: :meth:`open` lifts the limit so that what the run made is still deleted."""

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self.used = 0
        self.spent = False

    def take(self) -> None:
        if self.limit is not None and self.used >= self.limit:
            self.spent = True
            raise BudgetSpent(f"the request budget (--max-requests {self.limit}) is spent")
        self.used += 1

    def open(self) -> None:
        self.limit = None


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


class ConformanceClient:
    """One store, one token; every request goes through the guard and is recorded."""

    def __init__(self, base_url: str, token: str | None, guard: SafetyGuard, journal: list[Exchange],
                 timeout: float = 60.0, session: requests.Session | None = None, budget: RequestBudget | None = None,
                 max_retries: int = MAX_429_RETRIES):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.guard = guard
        self.journal = journal
        self.timeout = timeout
        self.session = session or new_session()
        self.budget = budget or RequestBudget()
        self.max_retries = max_retries
        self.deadline: float | None = None  # set during cleanup: no request starts after it

    @property
    def ledger(self):
        return self.guard.ledger

    def with_token(self, token: str | None) -> ConformanceClient:
        return ConformanceClient(self.base_url, token, self.guard, self.journal, self.timeout, self.session, self.budget,
                                 self.max_retries)

    def request(self, method: str, path: str, *, json_body: Any = None, data: bytes | str | None = None,
                headers: dict[str, str] | None = None, token: Any = ...) -> requests.Response:
        method = method.upper()
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
        response = self._send(method, path, all_headers, payload, record=True)
        if method not in SAFE_METHODS:
            self._after_write(method, split.path, query, response)
        return response

    def _send(self, method: str, path: str, headers: dict[str, str], payload: Any, record: bool) -> requests.Response:
        for _ in range(self.max_retries + 1):
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise requests.Timeout("the cleanup grace period is over")
            self.budget.take()
            response = exchange(self.session, self.timeout, method, self.base_url + path, headers=headers, data=payload)
            if record:
                self._record(response, headers, payload)
            if response.status_code != 429:
                break
            try:
                wait = int(response.headers.get("X-Rate-Limit-Time-Reset-Ms", "1000")) / 1000
            except ValueError:
                wait = 1.0
            time.sleep(min(MAX_429_WAIT_S, max(0.0, wait) + 0.05))
        return response

    def read(self, path: str) -> tuple[int, Any]:
        """A GET for the ledger's own bookkeeping: not recorded in the journal."""
        headers = {"Accept": "application/json", "X-Auth-Token": self.token or ""}
        response = self._send("GET", path, headers, None, record=False)
        return response.status_code, _maybe_json(response.content)

    def silent(self, seconds: float = 10.0) -> str:
        """'' when the target answers a GET with anything at all (any status); otherwise why
        not, in one line. Not counted against --max-requests, not recorded."""
        headers = {"Accept": "application/json", "X-Auth-Token": self.token or ""}
        try:
            exchange(self.session, seconds, "GET", f"{self.base_url}/segments?limit=1", headers=headers)
        except requests.RequestException as error:
            return shortened(error)
        return ""

    def _after_write(self, method: str, path: str, query: list[tuple[str, str]], response: requests.Response) -> None:
        line = f"{method} {response.request.url} -> {response.status_code}"
        matched = self.guard.match(path)
        ok = 200 <= response.status_code < 300
        creates = None
        if matched is not None:
            route, values = matched
            creates = (route.operations.get(method) or {}).get("x-creates")
        if matched is not None and ok:
            if creates:
                parent_owned = all(self.ledger.is_owned(route.id_params[name][0], canonical_id(value, route.id_params[name][1]) or "")
                                   for name, value in values.items())
                self.ledger.record_create(creates, _maybe_json(response.content), line, parent_owned=parent_owned)
            elif method == "DELETE" and not values:  # `DELETE /collection?id:in=...`
                kind = INTEGER if route.collection in self.ledger.integer_collections else UUID
                entries = [e for key, value in query if key == "id:in" for e in value.split(",")]
                self.ledger.record_deleted(route.collection, [k for k in (canonical_id(e, kind) for e in entries) if k])
            elif method == "DELETE" and route.template.endswith("}"):  # `DELETE /collection/{id}`
                name = list(values)[-1]
                collection, kind = route.id_params[name]
                key = canonical_id(values[name], kind)
                if key:
                    self.ledger.record_deleted(collection, [key])
        if not creates:  # a create adds; what could remove or change foreign items is read back at once
            self.ledger.quick_check(self.read, line)

    def _record(self, response: requests.Response, headers: dict[str, str], payload: Any) -> None:
        """The exchange as the reports show it, with the token masked wherever it appears:
        in the request, and in an answer that echoes it (the reports are CI artifacts). In
        answers, a token of fewer than MASKED_TOKEN_MIN characters is left alone: so short a
        string turns up by chance, and masking it would garble what the reports show."""
        token = next((v for k, v in headers.items() if k.lower() == "x-auth-token"), "")

        def mask(text: str) -> str:
            return text.replace(token, "***") if len(token) >= MASKED_TOKEN_MIN else text

        shown = {k: ("***" if k.lower() == "x-auth-token" else v) for k, v in headers.items()}
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        self.journal.append(
            Exchange(response.request.method, mask(response.request.url), shown, text, response.status_code,
                     {k: mask(v) for k, v in response.headers.items()}, mask(response.text))
        )

    def delete_owned(self) -> None:
        """Delete what the run owns and has not deleted yet; what the guard will not let
        go is listed in the ledger as left behind."""
        ledger = self.ledger
        ledger.left_behind.clear()  # what is left now replaces what an earlier cleanup left
        for collection in CLEANUP_ORDER:
            keys = ledger.alive_owned(collection)
            if collection == "promotions":  # by path: the ID is the whole target
                batches = [(f"/promotions/{key}", [key]) for key in keys]
            else:
                batches = [(f"/{collection}?id:in=" + ",".join(keys[i : i + 100]), keys[i : i + 100]) for i in range(0, len(keys), 100)]
            for path, batch in batches:
                try:
                    self.delete(path)
                except UnsafeRequest as refused:
                    ledger.left_behind.append(f"{len(batch)} {collection} ({', '.join(batch[:5])}{', …' if len(batch) > 5 else ''}): {refused}")
                except requests.RequestException as failure:
                    ledger.left_behind.append(f"{len(batch)} {collection}: the delete failed: {failure}")
            if collection == "customers":
                # the customers' profiles went with them
                ledger.record_deleted("shopper-profiles", ledger.alive_owned("shopper-profiles"))

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)


def prove_deletes(client: ConformanceClient, marker: str, attempt: str = "") -> None:
    """Show that the target honours `id:in` on DELETE before any DELETE that could reach
    foreign items: in a segment the run owns, remove one of two profiles the run owns and
    check that the other stays. Nothing foreign is named at any step. ``attempt`` tells a
    second probe's names and emails from those of one that was cut off."""
    ledger = client.ledger

    def fail(reason: str, behaviour: str | None = None) -> None:
        ledger.delete_proof = False
        ledger.delete_proof_reason = reason
        if behaviour:
            ledger.note(behaviour, reason)

    try:
        lent = ledger.lent.get("customers", [])
        if len(lent) >= 2:  # --customer-id: customers the user lent the run, instead of new ones
            customers = [{"id": int(key)} for key in lent[:2]]
        else:
            response = client.post("/customers", [{"email": f"{marker}-probe{attempt}-{i}@conformance.example",
                                                   "first_name": "Probe", "last_name": marker} for i in (1, 2)])
            customers = _owned_data(client, response, "customers")
            if len(customers) != 2:
                return fail(f"could not create two customers of its own (POST /customers: {response.status_code})")
        response = client.post("/shopper-profiles", [{"customer_id": c["id"]} for c in customers])
        profiles = _owned_data(client, response, "shopper-profiles")
        if len(profiles) != 2:
            return fail(f"could not create two shopper profiles of its own (POST /shopper-profiles: {response.status_code})")
        response = client.post("/segments", [{"name": f"{marker}-probe{attempt}"}])
        segments = _owned_data(client, response, "segments")
        if len(segments) != 1:
            return fail(f"could not create a segment of its own (POST /segments: {response.status_code})")
        members = f"/segments/{segments[0]['id']}/shopper-profiles"
        first, second = (p["id"] for p in profiles)
        response = client.post(members, [first, second])
        listed = _ids(client.get(members + "?limit=250"))
        if listed != {first, second}:
            return fail(f"after adding two profiles to a segment, the segment listed {sorted(listed) if listed is not None else 'nothing readable'}",
                        "the target does not keep what it is sent")
        response = client.delete(members + f"?id:in={first}")
        listed = _ids(client.get(members + "?limit=250"))
        if listed == set():
            return fail("removing one of two profiles by `id:in` emptied the segment: the target ignores `id:in` on DELETE",
                        "ignores id:in on DELETE")
        if listed != {second}:
            return fail(f"after removing one of two profiles by `id:in` ({response.status_code}), the segment listed "
                        f"{sorted(listed) if listed is not None else 'nothing readable'}")
    except UnsafeRequest as refused:
        return fail(str(refused))
    ledger.delete_proof = True
    ledger.delete_proof_reason = "proven: removing one of two profiles by `id:in` kept the other"


def _owned_data(client: ConformanceClient, response: requests.Response, collection: str) -> list[dict]:
    body = _maybe_json(response.content)
    data = body.get("data") if isinstance(body, dict) else None
    if not (200 <= response.status_code < 300) or not isinstance(data, list):
        return []
    kind = INTEGER if collection in client.ledger.integer_collections else UUID
    return [item for item in data if isinstance(item, dict)
            and client.ledger.is_owned(collection, canonical_id(item.get("id"), kind) or "")]


def _ids(response: requests.Response) -> set[str] | None:
    body = _maybe_json(response.content)
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    return {str(item.get("id")) for item in body["data"] if isinstance(item, dict)}


def _maybe_json(raw: bytes | str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past what Python parses: not an answer to read
        return None
