"""The API surface: ``/stores/{store_hash}/v3/...``, exactly the documented operations.

One dispatcher runs every request through the same steps, in BEHAVIOR.md's precedence
(first refusal wins):

1. count the request against the store's quota (the rate-limit headers);
2. find the operation: unknown route 404, wrong method 405 (with ``Allow``);
3. fault injection: concurrency limit 429, latency, forced answers;
4. quota used up 429 → token 401 → scope 403 → ``Accept`` 406;
5. the body: ``Content-Type`` 415 → size 413 → unreadable 400;
6. parameters and body by the document: ``limit`` over its maximum 413 → 400;
7. the handler and the domain: path resource 404 → 422 → 409 (a list's answer is
   served again while no store's data changes: remembered.py);
8. every answer, errors included, gets the rate-limit headers and a journal entry.

The request's state lives in one ``Exchange`` object that the steps pass along; nothing
is kept in Flask's ``g``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Request, Response, request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from segmentation_contract import route_rule

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
from ..serving import BODY, UNREADABLE_BODY
from ..storage.base import Storage
from .contract import CompiledOperation, Contract, Route
from .handlers import HANDLERS, ApiCall
from .faults import Faults
from .journal import Journal
from .negotiation import accepts_json, is_json_content_type
from .ratelimit import RateLimiter
from .remembered import ListAnswers
from .representations import RATE_LIMIT_DOCS, Encoded, api_error_body, batch_conflict_envelope, dumps
from .validation import LimitExceeded, QueryReadings, RequestInvalid, validate_request

log = logging.getLogger(__name__)
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


class JsonResponse(Response):
    """A JSON answer whose headers are complete when it is made: a body (so its
    ``Content-Length``), no ``Location``, a status that is neither 1xx, 204 nor 304. The
    WSGI server gets those headers as they are, where werkzeug would first copy them (and
    check every value again) to correct what such an answer never has."""

    def get_wsgi_headers(self, environ: Any) -> Any:
        return self.headers


def json_response(status: int, body: Any, headers: Any = None) -> Response:
    """``headers``: a dict or a list of (name, value) pairs."""
    if body is None:
        return Response(status=status, headers=headers)
    payload = body.data if isinstance(body, Encoded) else dumps(body)
    if status < 200 or status in (204, 304):
        return Response(payload, status=status, headers=headers, content_type="application/json")
    response = JsonResponse(payload, status=status, content_type="application/json")
    add = response.headers.add  # one by one: werkzeug's extend() walks a generator per pair
    for name, value in headers.items() if isinstance(headers, dict) else headers or ():
        add(name, value)
    return response


@dataclass(slots=True)
class Exchange:
    """One API request on its way through the dispatcher's steps."""

    store_hash: str
    subpath: str
    started: float
    rate: Any = None  # the RateState of step 1
    operation_id: str | None = None
    unscoped: bool = False  # an unscoped DELETE (its filter absent)
    in_flight: tuple | None = None  # counted by the concurrency limit: counted out at the end
    body: bytes | None = None
    rejected: dict[str, Any] | None = None  # the title and field messages of an error answer


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
    readings: QueryReadings | None = None,
    answers: ListAnswers | None = None,
) -> Blueprint:
    settings = settings or ApiSettings()
    faults = faults or Faults()
    readings = readings if readings is not None else QueryReadings()
    answers = answers if answers is not None else ListAnswers(storage)
    lists = {op.operation_id for op in contract.by_id.values()
             if op.method == "GET" and any(p.name == "page" for p in op.query_parameters)}
    missing = set(contract.by_id) ^ set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations and handlers differ: {sorted(missing)}")
    api = Blueprint("api", __name__, url_prefix="/stores/<store_hash>/v3")

    def authorise(req: Request, store_hash: str, scope: str) -> None:
        token = req.environ.get("HTTP_X_AUTH_TOKEN")
        info = storage.token_info(token) if token else None
        if info is None or info.store_hash != store_hash:
            raise ApiError(401, "Unauthorized.", {"X-Auth-Token": "The token is missing or not valid for this store."})
        if scope == "modify" and info.scope != "modify":
            raise ApiError(
                403,
                "You don't have a required scope to access the endpoint.",
                {"X-Auth-Token": "This operation needs the Customers modify scope."},
            )

    def too_large() -> ApiError:
        return ApiError(413, "The request body is too large.", {"body": f"The maximum is {settings.max_body_bytes} bytes."})

    def read_body(req: Request) -> bytes:
        environ = req.environ
        if not is_json_content_type(environ.get("CONTENT_TYPE")):
            raise ApiError(415, "Unsupported media type.", {"Content-Type": "Send the body as application/json."})
        raw = environ.get(BODY)  # read already by the serving stack (which reads none when the declared size is too large)
        if raw is None:
            length = req.content_length
            if length is not None and length > settings.max_body_bytes:
                raise too_large()
        unreadable = environ.get(UNREADABLE_BODY)  # the server could not read it (too slow, malformed)
        if unreadable:
            raise ApiError(400, "The request body could not be read.", {"body": unreadable})
        if raw is None:
            # With a Content-Length, read exactly that; without one (chunked), read up to the limit.
            try:
                raw = req.stream.read(length if length is not None else settings.max_body_bytes + 1)
            except (OSError, ValueError, ClientDisconnected) as exc:  # a malformed chunked body, a client gone mid-body
                raise ApiError(400, "The request body could not be read.", {"body": f"{type(exc).__name__}: {exc}"[:200]}) from None
        if len(raw) > settings.max_body_bytes:
            raise too_large()
        return raw

    def answer(req: Request, exchange: Exchange, route: Route | None, path_args: dict[str, str]) -> Response:
        """Steps 1-7: the answer to a request, or an exception that says why not."""
        store_hash, subpath = exchange.store_hash, exchange.subpath
        exchange.rate = rate = limiter.hit(store_hash)
        if route is None:
            raise ApiError(404, "The requested resource was not found.", {"path": f"No route `/{subpath}`."})
        operation = route.operations.get(req.method)
        if operation is None:
            allowed = ", ".join(route.allowed)
            raise ApiError(
                405,
                "Method not allowed.",
                {"method": f"{req.method} is not allowed here; use {allowed}."},
                headers={"Allow": allowed},
            )
        exchange.operation_id = operation.operation_id
        query = readings.read(operation, req.environ.get("QUERY_STRING", ""), lambda: req.args)
        exchange.unscoped = bool(operation.unscoped_delete) and operation.unscoped_delete not in query.names
        if faults.configured(store_hash):
            forced = inject_faults(req, exchange, operation)
            if forced is not None:
                return forced
        if rate.exceeded:
            raise ApiError(
                429,
                "Too many requests.",
                {"X-Auth-Token": "The request quota of this store is used up for this window."},
            )
        authorise(req, store_hash, operation.scope)
        if not accepts_json(req.environ.get("HTTP_ACCEPT")):
            raise ApiError(406, "The requested representation is not available.", {"Accept": "This API answers application/json only."})
        body = None
        if operation.body is not None:
            exchange.body = body = read_body(req)
        try:
            valid = validate_request(operation, path_args, query, body)
        except LimitExceeded as exc:
            raise ApiError(413, "The limit parameter exceeded the maximum.", exc.errors) from None
        except RequestInvalid as exc:
            raise ApiError(400, "The request is not valid.", exc.errors) from None
        handler, call = HANDLERS[operation.operation_id], ApiCall(store_hash, valid.path, valid.query, valid.body)
        if operation.operation_id in lists:  # served again while no store changes (remembered.py)
            key = (operation.operation_id, store_hash, *path_args.values())
            status, payload = answers.answer(key, req.environ.get("QUERY_STRING", ""), lambda: handler(service, call))
        else:
            status, payload = handler(service, call)
        return json_response(status, payload, exchange.rate.headers())

    def inject_faults(req: Request, exchange: Exchange, operation: CompiledOperation) -> Response | None:
        """Step 3, for a store with faults set: the concurrency limit (429), latency, and a
        forced answer (returned)."""
        store_hash = exchange.store_hash
        entered = faults.enter(store_hash, operation.operation_id, operation.concurrency_limit)
        if entered is False:
            raise ApiError(
                429,
                "Too many concurrent requests.",
                {"request": f"At most {operation.concurrency_limit} concurrent requests to this operation."},
            )
        if entered:
            exchange.in_flight = (store_hash, operation.operation_id, operation.concurrency_limit)
        delay = faults.delay_seconds(store_hash)
        if delay:
            time.sleep(delay)
        forced = faults.forced(store_hash, req.method, "/" + exchange.subpath)
        if forced is not None:
            return forced_response(exchange, forced.status, forced.body)
        return None

    def forced_response(exchange: Exchange, status: int, body: Any) -> Response:
        if body is None and status >= 400:
            body = api_error_body(exchange.subpath, status, "Forced by the mock's fault injection.", {})
        if status >= 400:
            exchange.rejected = _rejection(body)
        return json_response(status, None if status == 204 else body, exchange.rate.headers())

    def error_response(exchange: Exchange, error: Exception) -> Response:
        """An exception of steps 1-7 as its answer in the envelope."""
        headers = exchange.rate.headers() if exchange.rate is not None else []
        if isinstance(error, ApiError):
            status, title, errors = error.status, error.title, error.errors
            headers.extend(error.headers.items())
            extra = {"docs": RATE_LIMIT_DOCS} if status == 429 else {}
            body = api_error_body(exchange.subpath, status, title, errors, **extra)
        elif isinstance(error, BatchConflict):
            status, title, errors = 409, error.title, error.errors
            body = batch_conflict_envelope(title, errors, error.total)
        elif isinstance(error, DomainError):
            status, title, errors = _domain_status(error), error.title, error.errors
            body = api_error_body(exchange.subpath, status, title, errors)
        elif isinstance(error, HTTPException) and error.code and error.code < 500:  # werkzeug's own refusals
            status, title, errors = error.code, error.name, {"request": error.description or ""}
            body = api_error_body(exchange.subpath, status, title, errors)
        else:
            log.exception("unhandled error on %s /stores/%s/v3/%s", request.method, exchange.store_hash, exchange.subpath)
            status, title, errors = 500, "Internal server error.", {"server": type(error).__name__}
            body = api_error_body(exchange.subpath, status, title, errors)
        exchange.rejected = {"title": title, "errors": errors}
        return json_response(status, body, headers)

    def dispatch(store_hash: str, route: Route | None, path_args: dict[str, str]) -> Response:
        req = request._get_current_object()  # one proxy lookup
        parts = req.path.split("/", 4)  # "", "stores", hash, "v3", the rest
        exchange = Exchange(store_hash, parts[4] if len(parts) > 4 else "", time.perf_counter())
        try:
            response = answer(req, exchange, route, path_args)
        except Exception as error:  # noqa: BLE001 - every failure is answered in the envelope
            response = error_response(exchange, error)
        finally:
            if exchange.in_flight:
                faults.leave(*exchange.in_flight)
        if journal is not None:
            record(req, exchange, response)
        return response

    # One rule per route of the document (werkzeug matches them without a regex over the
    # whole path), and one for every other path under the prefix: 404 in the envelope.
    for index, route in enumerate(contract.routes):
        api.add_url_rule(
            route_rule(route.path),
            endpoint=f"route{index}",
            view_func=functools.partial(_route_view, dispatch, route),
            methods=ALL_METHODS,
            provide_automatic_options=False,
        )
    for rule, endpoint in (("", "unknown_base"), ("/", "unknown_base_slash"), ("/<path:subpath>", "unknown")):
        api.add_url_rule(
            rule,
            endpoint=endpoint,
            view_func=lambda store_hash, subpath="": dispatch(store_hash, None, {}),
            methods=ALL_METHODS,
            provide_automatic_options=False,
        )

    def record(req: Request, exchange: Exchange, response: Response) -> None:
        status = response.status_code
        journal.record(
            {
                "store_hash": exchange.store_hash,
                "method": req.method,
                "path": "/" + exchange.subpath,
                "query": req.environ.get("QUERY_STRING", ""),
                "operation": exchange.operation_id,
                "status": status,
                "duration_ms": (time.perf_counter() - exchange.started) * 1000,  # rounded when read
                "unscoped_delete": exchange.unscoped and status == 204,
                "rejected": exchange.rejected if status >= 400 else None,
                "request_body": exchange.body,
                "response_body": response.get_data(),
            }
        )

    return api


def _route_view(dispatch: Callable, route: Route, store_hash: str, **path_args: str) -> Response:
    return dispatch(store_hash, route, path_args)


def _rejection(body: Any) -> dict[str, Any]:
    """The title and field messages of an error body (the Promotions shape: its one entry)."""
    if isinstance(body, dict):
        entries = body.get("errors")
        if "title" not in body and isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], dict):
            body = entries[0]
        return {"title": body.get("title"), "errors": body.get("errors")}
    return {"title": None, "errors": None}
