"""The application factory."""

from __future__ import annotations


import logging
import re
import time
from collections.abc import Callable

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..config import MockConfig
from ..domain import Segmentation
from ..storage import Storage, open_storage
from .api import ApiSettings, create_api_blueprint, json_response
from .contract import Contract
from .control import create_control_blueprint
from .faults import Faults, parse_faults
from .journal import Journal
from .ratelimit import RateLimiter
from .remembered import ListAnswers
from .validation import QueryReadings
from .representations import api_error_body

log = logging.getLogger(__name__)
_CONTRACT: Contract | None = None


def shared_contract() -> Contract:
    """The compiled document, built once per process."""
    global _CONTRACT
    if _CONTRACT is None:
        _CONTRACT = Contract()
    return _CONTRACT


def seed_from_file(service: Segmentation, storage: Storage, path: str) -> None:
    """``serve --seed``: load a fixture file (YAML or JSON) into its stores."""
    from ..config import load_config_file
    from ..domain.fixtures import seed_store

    fixture = load_config_file(path)
    for index, entry in enumerate(fixture.get("stores") or []):
        store_hash = entry["store_hash"]
        storage.add_store(store_hash)
        for scope, key in (("modify", "token"), ("read_only", "readonly_token")):
            if entry.get(key):
                storage.set_token(entry[key], store_hash, scope)
        seed_store(service, store_hash, entry, f"stores[{index}].")


_API_PATH = re.compile(r"^/stores/([^/]+)/v3(?:/|$)")


def create_app(
    config: MockConfig | None = None,
    storage: Storage | None = None,
    clock: Callable[[], float] = time.time,
    after_seed: Callable[[], None] | None = None,
) -> Flask:
    """``after_seed``: called after each seed through the control plane (see
    ``serving.settle_heap``)."""
    config = config or MockConfig()
    storage = storage or open_storage(config.data_file)
    for store in config.stores:
        storage.add_store(store.store_hash)
        if store.token:
            storage.set_token(store.token, store.store_hash, "modify")
        if store.readonly_token:
            storage.set_token(store.readonly_token, store.store_hash, "read_only")

    contract = shared_contract()
    service = Segmentation(storage, clock=lambda: int(clock()))
    limiter = RateLimiter(storage, clock, config.rate_limit)
    journal = Journal(config.journal_size)
    faults = Faults(parse_faults(config.faults))
    readings = QueryReadings()
    answers = ListAnswers(storage)
    if config.seed_file:
        seed_from_file(service, storage, config.seed_file)

    app = Flask(__name__, static_folder=None)  # no static files: one route less to match per request
    app.url_map.merge_slashes = False  # `//segments` is not a redirect: the API answers it (404, in the envelope)
    app.json.sort_keys = False
    app.extensions["segmentation_mock"] = {
        "config": config,
        "storage": storage,
        "service": service,
        "limiter": limiter,
        "contract": contract,
        "journal": journal,
        "faults": faults,
        "query_readings": readings,
        "list_answers": answers,
    }
    app.register_blueprint(
        create_api_blueprint(
            contract, service, storage, limiter, ApiSettings(max_body_bytes=config.max_body_bytes), journal, faults,
            readings, answers,
        )
    )
    app.register_blueprint(create_control_blueprint(storage, service, limiter, journal, faults, config.admin_token, after_seed))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Routing errors outside a blueprint's reach (a method werkzeug cannot route, a path
        # its converters refuse): the envelope, and under /stores/*/v3 the rate-limit headers.
        status = error.code or 500
        headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else {}
        api_path = _API_PATH.match(request.path)
        subpath = request.path[api_path.end():] if api_path else ""
        if api_path:
            headers.update(limiter.hit(api_path.group(1)).headers())
            found = contract.match("/" + subpath.lstrip("/")) if status == 405 else None
            if found is not None:  # the methods the document gives this path, not every method Flask routes
                headers["Allow"] = ", ".join(found[0].allowed)
        body = api_error_body(subpath, status, error.name, {"request": error.description or ""})
        return json_response(status, body, headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        # api_error_body reads only a path under /stores/*/v3; any other path keeps the flat envelope.
        subpath = request.path[api_path.end():] if (api_path := _API_PATH.match(request.path)) else ""
        return json_response(500, api_error_body(subpath, 500, "Internal server error.", {"server": type(error).__name__}))

    return app
