"""The API surface: ``/stores/{store_hash}/v3/...``, exactly the documented operations.

One dispatcher applies BEHAVIOR.md's precedence, first match wins:
unknown route 404 / wrong method 405 → 429 → 401 → 403 → 406 → 415 → 413 → 400 →
(in the domain) path resource 404 → 422 → 409.
Every response under this prefix carries the rate-limit headers, errors included.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, request

from ..domain import (
    BatchConflict,
    Conflict,
    DomainError,
    InvalidInput,
    ResourceNotFound,
    Segmentation,
    TooManyItems,
    Unprocessable,
)
from ..serving import UNREADABLE_BODY
from ..storage.base import Storage
from .contract import Contract
from .handlers import HANDLERS, ApiCall
from .faults import Faults
from .journal import Journal
from .negotiation import accepts_json, is_json_content_type
from .ratelimit import RateLimiter
from .representations import RATE_LIMIT_DOCS, Encoded, api_error_body, batch_conflict_envelope, dumps
from .validation import LimitExceeded, RequestInvalid, validate_request

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ApiError(Exception):
    """An error answer decided before the domain runs."""

    def __init__(self, status: int, title: str, errors: dict[str, str], headers: dict[str, str] | None = None):
        super().__init__(title)
        self.status, self.title, self.errors = status, title, errors
        self.headers = headers or {}


@dataclass
class ApiSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status=status, headers=headers)
    payload = body if isinstance(body, Encoded) else dumps(body)
    return Response(payload, status=status, headers=headers, mimetype="application/json")


def _subpath() -> str:
    """The path after ``/stores/{hash}/v3`` of the request being answered."""
    return (request.view_args or {}).get("subpath", "")


def _domain_status(error: DomainError) -> int:
    for kind, status in ((InvalidInput, 400), (TooManyItems, 413), (ResourceNotFound, 404), (Unprocessable, 422), (Conflict, 409)):
        if isinstance(error, kind):
            return status
    return 400


def create_api_blueprint(
    contract: Contract,
    service: Segmentation,
    storage: Storage,
    limiter: RateLimiter,
    settings: ApiSettings | None = None,
    journal: Journal | None = None,
    faults: Faults | None = None,
) -> Blueprint:
    settings = settings or ApiSettings()
    faults = faults or Faults()
    missing = set(contract.by_id) ^ set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations and handlers differ: {sorted(missing)}")
    api = Blueprint("api", __name__, url_prefix="/stores/<store_hash>/v3")

    def authorise(store_hash: str, scope: str) -> None:
        token = request.headers.get("X-Auth-Token")
        info = storage.token_info(token) if token else None
        if info is None or info.store_hash != store_hash:
            raise ApiError(401, "Unauthorized.", {"X-Auth-Token": "The token is missing or not valid for this store."})
        if scope == "modify" and info.scope != "modify":
            raise ApiError(
                403,
                "You don't have a required scope to access the endpoint.",
                {"X-Auth-Token": "This operation needs the Customers modify scope."},
            )

    def read_body() -> bytes:
        if not is_json_content_type(request.headers.get("Content-Type")):
            raise ApiError(415, "Unsupported media type.", {"Content-Type": "Send the body as application/json."})
        too_large = ApiError(
            413, "The request body is too large.", {"body": f"The maximum is {settings.max_body_bytes} bytes."}
        )
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            raise too_large
        unreadable = request.environ.get(UNREADABLE_BODY)  # the server could not read it (too slow, malformed)
        if unreadable:
            raise ApiError(400, "The request body could not be read.", {"body": unreadable})
        # With a Content-Length, read exactly that; without one (chunked), read up to the limit.
        try:
            raw = request.stream.read(length if length is not None else settings.max_body_bytes + 1)
        except (OSError, ValueError) as exc:  # a malformed chunked body, a client gone mid-body
            raise ApiError(400, "The request body could not be read.", {"body": f"{type(exc).__name__}: {exc}"[:200]}) from None
        if len(raw) > settings.max_body_bytes:
            raise too_large
        g.body = raw
        return raw

    @api.route("", methods=ALL_METHODS, provide_automatic_options=False, defaults={"subpath": ""})
    @api.route("/", methods=ALL_METHODS, provide_automatic_options=False, defaults={"subpath": ""})
    @api.route("/<path:subpath>", methods=ALL_METHODS, provide_automatic_options=False)
    def dispatch(store_hash: str, subpath: str) -> Response:
        req, state = request._get_current_object(), g._get_current_object()  # one proxy lookup each
        state.started = time.perf_counter()
        state.rate = limiter.hit(store_hash)
        found = contract.match("/" + subpath)
        if found is None:
            raise ApiError(404, "The requested resource was not found.", {"path": f"No route `/{subpath}`."})
        route, path_args = found
        operation = route.operations.get(req.method)
        if operation is None:
            allowed = ", ".join(route.allowed)
            raise ApiError(
                405,
                "Method not allowed.",
                {"method": f"{req.method} is not allowed here; use {allowed}."},
                headers={"Allow": allowed},
            )
        state.operation_id = operation.operation_id
        state.unscoped = bool(operation.unscoped_delete) and operation.unscoped_delete not in req.args
        entered = faults.enter(store_hash, operation.operation_id, operation.concurrency_limit)
        if entered is False:
            raise ApiError(
                429,
                "Too many concurrent requests.",
                {"request": f"At most {operation.concurrency_limit} concurrent requests to this operation."},
            )
        if entered:
            state.in_flight = (store_hash, operation.operation_id, operation.concurrency_limit)
        delay = faults.delay_seconds(store_hash)
        if delay:
            time.sleep(delay)
        forced = faults.forced(store_hash, req.method, "/" + subpath)
        if forced is not None:
            body = forced.body
            if body is None and forced.status >= 400:
                body = api_error_body(subpath, forced.status, "Forced by the mock's fault injection.", {})
            return json_response(forced.status, None if forced.status == 204 else body)
        if state.rate.exceeded:
            raise ApiError(
                429,
                "Too many requests.",
                {"X-Auth-Token": "The request quota of this store is used up for this window."},
            )
        authorise(store_hash, operation.scope)
        if not accepts_json(req.headers.get("Accept")):
            raise ApiError(406, "The requested representation is not available.", {"Accept": "This API answers application/json only."})
        body = read_body() if operation.body is not None else None
        try:
            valid = validate_request(operation, path_args, req.args, body)
        except LimitExceeded as exc:
            raise ApiError(413, "The limit parameter exceeded the maximum.", exc.errors) from None
        except RequestInvalid as exc:
            raise ApiError(400, "The request is not valid.", exc.errors) from None
        call = ApiCall(store_hash, valid.path, valid.query, valid.body)
        status, payload = HANDLERS[operation.operation_id](service, call)
        return json_response(status, payload)

    @api.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        docs = RATE_LIMIT_DOCS if error.status == 429 else None
        body = api_error_body(_subpath(), error.status, error.title, error.errors, **({"docs": docs} if docs else {}))
        return json_response(error.status, body, error.headers)

    @api.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        if isinstance(error, BatchConflict):
            return json_response(409, batch_conflict_envelope(error.title, error.errors, error.total))
        status = _domain_status(error)
        return json_response(status, api_error_body(_subpath(), status, error.title, error.errors))

    @api.teardown_request
    def leave(_error: BaseException | None) -> None:
        if g.get("in_flight"):
            faults.leave(*g.in_flight)

    @api.after_request
    def rate_limit_headers(response: Response) -> Response:
        state = g.get("rate")
        if state is not None:
            for name, value in state.headers():
                response.headers.add(name, value)
        if journal is not None:
            record(response)
        return response

    def record(response: Response) -> None:
        req, state = request._get_current_object(), g._get_current_object()  # one proxy lookup each
        rejected = None
        if response.status_code >= 400:
            try:
                body = json.loads(response.get_data())
                entries = body.get("errors")
                if "title" not in body and isinstance(entries, list) and len(entries) == 1:
                    body = entries[0]  # the Promotions error shape: the envelope is its one entry
                rejected = {"title": body.get("title"), "errors": body.get("errors")}
            except ValueError:
                rejected = {"title": response.status, "errors": None}
        view_args = req.view_args or {}
        journal.record(
            {
                "store_hash": view_args.get("store_hash"),
                "method": req.method,
                "path": "/" + view_args.get("subpath", ""),
                "query": req.query_string.decode("latin-1"),
                "operation": state.get("operation_id"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - state.get("started", time.perf_counter())) * 1000, 3),
                "unscoped_delete": bool(state.get("unscoped")) and response.status_code == 204,
                "rejected": rejected,
                "request_body": state.get("body"),
                "response_body": response.get_data(),
            }
        )

    return api
