"""The control plane, under ``/_mock``: never part of the BigCommerce surface.

    GET    /_mock/health                          liveness and the stores served
    GET    /_mock/openapi.yaml                    the OpenAPI document the mock serves
    GET    /_mock/ui[?admin_token=T]              a dashboard: stores, counts, faults, the live journal, reset
    POST   /_mock/reset[?store_hash=H]            empty one store (or all), drop its faults and rate-limit
                                                   settings; stores and tokens stay
    GET    /_mock/stores                          stores with their tokens
    POST   /_mock/stores                          {store_hash, token?, readonly_token?}: create a store
    POST   /_mock/stores/{H}/tokens               {scope: modify|read_only, token?}: issue a token
    PUT    /_mock/stores/{H}/rate-limit           {quota?, window_ms?, enforce?}
    GET/PUT/DELETE /_mock/stores/{H}/faults       {latency_ms?, responses?: [...], concurrency_limit?}
    POST   /_mock/seed                            fixture (JSON or YAML): replace the named stores' data
    GET    /_mock/snapshot[?store_hash=H]         the same format, seedable back
    POST   /_mock/stores/{H}/eligibility          {customer_id: int|null, code?}: which promotions apply
    PUT    /_mock/stores/{H}/customers/{id}/order-count          {order_count}
    PUT    /_mock/stores/{H}/promotions/{id}/codes/{code}/uses   {current_uses}
    GET    /_mock/journal?store_hash&method&path&status&unscoped_delete&limit
    DELETE /_mock/journal[?store_hash=H]
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import yaml
from flask import Blueprint, Response, current_app, request

from segmentation_contract import spec_path

from ..domain import DomainError, ResourceNotFound, Segmentation
from ..domain.fixtures import parse_store_fixture, snapshot_store, write_store
from ..serving import UNREADABLE_BODY
from ..storage.base import SCOPES, Storage
from .api import json_response
from .faults import Faults, FaultSettingsError, parse_faults
from .journal import Journal
from .ratelimit import RateLimiter, RateLimitPolicy
from .representations import customer_json, profile_json, segment_json
from .ui import PAGE as DASHBOARD
from .validation import RequestInvalid, check_encodable, may_hold_surrogates


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _body() -> Any:
    unreadable = request.environ.get(UNREADABLE_BODY)  # the server could not read it (too slow, malformed)
    if unreadable:
        raise ControlError(400, f"the body could not be read: {unreadable}")
    limit = current_app.extensions["segmentation_mock"]["config"].control_body_bytes
    if (request.content_length or 0) > limit:
        raise ControlError(413, f"the body is over the control plane's limit of {limit} bytes")
    chunks, size = [], 0
    try:
        while size <= limit:  # in pieces: a read of `limit` bytes would allocate them all at once
            chunk = request.stream.read(64 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, ValueError) as exc:  # a malformed chunked body
        raise ControlError(400, f"the body could not be read: {exc}") from None
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise ControlError(413, f"the body is over the control plane's limit of {limit} bytes")
    if not raw.strip():
        return {}
    media = (request.mimetype or "").lower()
    try:
        body = yaml.safe_load(raw) if media in ("application/yaml", "application/x-yaml", "text/yaml") else json.loads(raw)
        if may_hold_surrogates(raw):  # a walk of a million-profile seed costs seconds: only when needed
            check_encodable(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise ControlError(400, f"the body is not valid {'YAML' if 'yaml' in media else 'JSON'}: {exc}") from None
    except RecursionError:
        raise ControlError(400, "the body is nested too deeply") from None
    except RequestInvalid as exc:
        raise ControlError(400, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be an object")
    return body


def render_snapshot(records: dict[str, Any]) -> dict[str, Any]:
    return {
        "customers": [customer_json(c) for c in records["customers"]],
        "shopper_profiles": [profile_json(p) for p in records["shopper_profiles"]],
        "segments": [{**segment_json(s), "shopper_profile_ids": members} for s, members in records["segments"]],
        "last_customer_id": records["last_customer_id"],
        "promotions": records["promotions"],
        "order_counts": records["order_counts"],
    }


def create_control_blueprint(
    storage: Storage,
    service: Segmentation,
    limiter: RateLimiter,
    journal: Journal,
    faults: Faults,
    admin_token: str | None = None,
    after_seed: Callable[[], None] | None = None,
) -> Blueprint:
    """``after_seed``: called once a seed is written (the server uses it to move the
    seeded records out of the garbage collector's reach)."""
    control = Blueprint("control", __name__, url_prefix="/_mock")

    @control.before_request
    def require_admin() -> Response | None:
        given_text = request.headers.get("X-Mock-Admin-Token", "")
        if request.endpoint == "control.dashboard" and not given_text:
            given_text = request.args.get("admin_token", "")  # a browser opening the page cannot send the header
        given = given_text.encode("utf-8", "surrogateescape")
        if admin_token and not secrets.compare_digest(given, admin_token.encode("utf-8")):
            return json_response(401, {"status": 401, "title": "The control plane needs X-Mock-Admin-Token."})
        return None

    def require_store(store_hash: str) -> None:
        if not storage.has_store(store_hash):
            raise ControlError(404, f"no store `{store_hash}`")

    def store_view(store_hash: str) -> dict[str, Any]:
        tokens = storage.tokens_of(store_hash)
        policy = limiter.policy(store_hash)
        with storage.transaction(store_hash, write=False) as tx:
            counts = {"segments": tx.segment_count(), "shopper_profiles": tx.profiles_page(0, 0)[0],
                      "customers": tx.customers_page(None, 0, 0)[0], "promotions": tx.promotions_page(None, None, 0, 0)[0]}
        return {
            "store_hash": store_hash,
            "base_path": f"/stores/{store_hash}/v3",
            "tokens": [{"token": token, "scope": scope} for token, scope in tokens],
            "rate_limit": {"quota": policy.quota, "window_ms": policy.window_ms, "enforce": policy.enforce},
            "counts": counts,
        }

    def add_token(store_hash: str, scope: str, token: str | None) -> str:
        if scope not in SCOPES:
            raise ControlError(400, f"scope must be one of {list(SCOPES)}")
        token = token or secrets.token_hex(16)
        existing = storage.token_info(token)
        if existing is not None and existing.store_hash != store_hash:
            raise ControlError(409, "that token belongs to another store")
        storage.set_token(token, store_hash, scope)
        return token

    @control.errorhandler(ControlError)
    def control_error(error: ControlError) -> Response:
        return json_response(error.status, {"status": error.status, "title": str(error)})

    @control.errorhandler(TypeError)
    @control.errorhandler(OverflowError)
    @control.errorhandler(RecursionError)
    def wrong_value(error: Exception) -> Response:
        # A value of the wrong type or size that a handler did not name (a string where a
        # number goes, 2**63): the request's fault, answered 400, never 500.
        return json_response(400, {"status": 400, "title": f"A value in the request has the wrong type or size: {error}"[:300]})

    @control.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        if isinstance(error, ResourceNotFound):
            return json_response(404, {"status": 404, "title": error.title, "errors": error.errors})
        return json_response(400, {"status": 400, "title": "The fixture is not valid.", "errors": error.errors})

    @control.get("/health")
    def health() -> Response:
        return json_response(200, {"status": "ok", "stores": storage.store_hashes()})

    @control.get("/ui")
    def dashboard() -> Response:
        return Response(DASHBOARD, status=200, mimetype="text/html")

    @control.get("/openapi.yaml")
    def openapi_document() -> Response:
        """The contract the mock serves and validates by, as a client or generator would fetch it."""
        return Response(spec_path().read_bytes(), status=200, mimetype="application/yaml")

    @control.post("/reset")
    def reset() -> Response:
        store_hash = request.args.get("store_hash")
        if store_hash is not None:
            require_store(store_hash)
        storage.reset(store_hash)
        journal.clear(store_hash)
        for h in [store_hash] if store_hash else storage.store_hashes():  # faults and limits set here go too
            faults.by_store.pop(h, None)
            limiter.policies.pop(h, None)
        return json_response(200, {"reset": [store_hash] if store_hash else storage.store_hashes()})

    @control.get("/stores")
    def stores() -> Response:
        return json_response(200, {"stores": [store_view(h) for h in storage.store_hashes()]})

    @control.post("/stores")
    def create_store() -> Response:
        body = _body()
        store_hash = body.get("store_hash") if isinstance(body, dict) else None
        if not isinstance(store_hash, str) or not store_hash or "/" in store_hash:
            raise ControlError(400, "store_hash is required (a non-empty string without `/`)")
        if storage.has_store(store_hash):
            raise ControlError(409, f"store `{store_hash}` exists")
        storage.add_store(store_hash)
        add_token(store_hash, "modify", body.get("token"))
        add_token(store_hash, "read_only", body.get("readonly_token"))
        return json_response(201, store_view(store_hash))

    @control.post("/stores/<store_hash>/tokens")
    def issue_token(store_hash: str) -> Response:
        require_store(store_hash)
        body = _body()
        token = add_token(store_hash, body.get("scope", "modify"), body.get("token"))
        return json_response(201, {"token": token, "scope": body.get("scope", "modify"), "store_hash": store_hash})

    @control.put("/stores/<store_hash>/rate-limit")
    def rate_limit(store_hash: str) -> Response:
        require_store(store_hash)
        body = _body()
        current = limiter.policy(store_hash)
        policy = RateLimitPolicy(
            quota=body.get("quota", current.quota),
            window_ms=body.get("window_ms", current.window_ms),
            enforce=body.get("enforce", current.enforce),
        )
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (policy.quota, policy.window_ms)):
            raise ControlError(400, "quota and window_ms must be integers of at least 1")
        if not isinstance(policy.enforce, bool):
            raise ControlError(400, "enforce must be true or false")
        limiter.policies[store_hash] = policy
        return json_response(200, store_view(store_hash))

    @control.get("/stores/<store_hash>/faults")
    def read_faults(store_hash: str) -> Response:
        require_store(store_hash)
        return json_response(200, faults.of(store_hash).as_dict())

    @control.put("/stores/<store_hash>/faults")
    def set_faults(store_hash: str) -> Response:
        require_store(store_hash)
        try:
            faults.by_store[store_hash] = parse_faults(_body())
        except FaultSettingsError as exc:
            raise ControlError(400, str(exc)) from None
        return json_response(200, faults.of(store_hash).as_dict())

    @control.delete("/stores/<store_hash>/faults")
    def clear_faults(store_hash: str) -> Response:
        require_store(store_hash)
        faults.by_store[store_hash] = parse_faults({})
        return json_response(204, None)

    @control.post("/stores/<store_hash>/eligibility")
    def eligibility(store_hash: str) -> Response:
        """Which promotions apply to a shopper: a signed-in customer, or a guest (null or 0)."""
        require_store(store_hash)
        body = _body()
        customer_id, code = body.get("customer_id"), body.get("code")
        if customer_id is not None and (not isinstance(customer_id, int) or isinstance(customer_id, bool) or customer_id < 0):
            raise ControlError(400, "customer_id is a customer's ID, or null (or 0) for a guest")
        if code is not None and not isinstance(code, str):
            raise ControlError(400, "code is a string or null")
        answers = service.promotions.eligibility(store_hash, customer_id, code)
        return json_response(200, {"data": answers})

    @control.put("/stores/<store_hash>/customers/<int:customer_id>/order-count")
    def order_count(store_hash: str, customer_id: int) -> Response:
        require_store(store_hash)
        count = _body().get("order_count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ControlError(400, "order_count is a non-negative integer")
        service.promotions.set_order_count(store_hash, customer_id, count)
        return json_response(200, {"customer_id": customer_id, "order_count": count})

    @control.put("/stores/<store_hash>/promotions/<int:promotion_id>/codes/<code>/uses")
    def code_uses(store_hash: str, promotion_id: int, code: str) -> Response:
        require_store(store_hash)
        uses = _body().get("current_uses")
        if not isinstance(uses, int) or isinstance(uses, bool) or uses < 0:
            raise ControlError(400, "current_uses is a non-negative integer")
        return json_response(200, service.promotions.set_code_uses(store_hash, promotion_id, code, uses))

    @control.post("/seed")
    def seed() -> Response:
        body = _body()
        if not isinstance(body, dict) or not isinstance(body.get("stores"), list):
            raise ControlError(400, "a fixture is {stores: [{store_hash, ...}]}")
        # Every store of the fixture is checked before any is written: an invalid one
        # leaves all of them as they were.
        seeded = []
        for index, entry in enumerate(body["stores"]):
            store_hash = entry.get("store_hash") if isinstance(entry, dict) else None
            if not isinstance(store_hash, str) or not store_hash:
                raise ControlError(400, f"stores[{index}].store_hash is required")
            tokens = []
            for scope, key in (("modify", "token"), ("read_only", "readonly_token")):
                token = entry.get(key)
                if token is None:
                    continue
                if not isinstance(token, str) or not token:
                    raise ControlError(400, f"stores[{index}].{key} must be a non-empty string")
                existing = storage.token_info(token)
                if existing is not None and existing.store_hash != store_hash:
                    raise ControlError(409, f"stores[{index}].{key} belongs to another store")
                tokens.append((scope, token))
            seeded.append((store_hash, parse_store_fixture(service, entry, f"stores[{index}]."), tokens))
        if len({h for h, _, _ in seeded}) != len(seeded):
            raise ControlError(400, "a store appears twice in the fixture")
        for store_hash, records, tokens in seeded:
            storage.add_store(store_hash)
            for scope, token in tokens:
                add_token(store_hash, scope, token)
            write_store(service, store_hash, records)
        if after_seed is not None:
            after_seed()
        return json_response(200, {"seeded": [h for h, _, _ in seeded]})

    @control.get("/snapshot")
    def snapshot() -> Response:
        store_hash = request.args.get("store_hash")
        hashes = [store_hash] if store_hash else storage.store_hashes()
        for h in hashes:
            require_store(h)
        return json_response(
            200, {"stores": [{"store_hash": h, **render_snapshot(snapshot_store(service, h))} for h in hashes]}
        )

    @control.get("/journal")
    def read_journal() -> Response:
        args = request.args
        unscoped = args.get("unscoped_delete")
        try:
            limit = int(args.get("limit", 100))
        except ValueError:
            raise ControlError(400, "limit must be an integer") from None
        entries = journal.query(
            store_hash=args.get("store_hash"),
            method=args.get("method"),
            path=args.get("path"),
            status=args.get("status"),
            unscoped_delete=None if unscoped is None else unscoped.lower() in ("1", "true", "yes"),
            limit=limit,
        )
        return json_response(200, {"entries": entries})

    @control.delete("/journal")
    def clear_journal() -> Response:
        journal.clear(request.args.get("store_hash"))
        return json_response(204, None)

    return control
