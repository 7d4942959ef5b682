"""The baseline: a bare Flask app that routes the mock's paths and answers bodies of given
sizes, served on the mock's own stack (``rsgi_app`` below).

Sizes come from the environment (``BARE_GET_BYTES``, ``BARE_POST_BYTES``,
``BARE_ADD_BYTES``) so that each endpoint answers exactly as many bytes as the mock's
answer it is compared with. POST endpoints read and parse their JSON body, as any real
endpoint would.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, request

app = Flask(__name__)


def _body(size: int) -> bytes:
    prefix = b'{"data":"'
    suffix = b'"}'
    return prefix + b"x" * max(0, size - len(prefix) - len(suffix)) + suffix


GET_BODY = _body(int(os.environ.get("BARE_GET_BYTES", "9000")))
POST_BODY = _body(int(os.environ.get("BARE_POST_BYTES", "170")))
ADD_BODY = _body(int(os.environ.get("BARE_ADD_BYTES", "150")))


# The mock's own paths: the baseline receives the very requests the mock does (path, query,
# headers, body), so that the two differ only in what is done with them.
@app.get("/stores/<store_hash>/v3/segments")
def bare_get(store_hash: str) -> Response:
    return Response(GET_BODY, mimetype="application/json")


@app.post("/stores/<store_hash>/v3/segments")
def bare_post(store_hash: str) -> Response:
    json.loads(request.get_data())
    return Response(POST_BODY, status=201, mimetype="application/json")


@app.post("/stores/<store_hash>/v3/segments/<segment_id>/shopper-profiles")
def bare_add(store_hash: str, segment_id: str) -> Response:
    json.loads(request.get_data())
    return Response(ADD_BODY, status=201, mimetype="application/json")


def rsgi_app():
    """The same app on the mock's serving stack (granian + mock_server.serving's adapter):
    ``granian --interface rsgi --factory benchmarks.bare_app:rsgi_app``."""
    from mock_server.serving import RsgiAdapter

    return RsgiAdapter(app, int(os.environ.get("BARE_THREADS", "4")), 1024 * 1024)
