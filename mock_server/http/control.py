"""The control plane, under ``/_mock``: never part of the BigCommerce surface."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..storage.base import Storage
from .api import json_response


def create_control_blueprint(storage: Storage) -> Blueprint:
    control = Blueprint("control", __name__, url_prefix="/_mock")

    @control.get("/health")
    def health() -> Response:
        return json_response(200, {"status": "ok", "stores": storage.store_hashes()})

    @control.post("/reset")
    def reset() -> Response:
        store_hash = request.args.get("store_hash")
        if store_hash is not None and not storage.has_store(store_hash):
            return json_response(404, {"status": 404, "title": f"No store `{store_hash}`."})
        storage.reset(store_hash)
        return json_response(200, {"reset": [store_hash] if store_hash else storage.store_hashes()})

    return control
