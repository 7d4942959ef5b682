"""Real servers that do NOT conform, for the suite's safety tests.

:class:`UnsafeProxy` is a small Flask app that forwards to a running mock and bends one
thing the way real implementations get it wrong (an ORM that drops an empty filter, an
upserting create, a DELETE that ignores its filter...). :func:`canned_app` answers 2xx
to everything with fixed bodies and keeps no state. Both are served on loopback by
:func:`serve_app`.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests
from flask import Flask, Response, request

from mock_server.testing import serve_wsgi

CODES = re.compile(r"/promotions/[0-9]+/codes/?")
UUID_SHAPE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
BEHAVIOURS = ("empty id:in means all", "malformed entries dropped", "idempotent profile create",
              "unscoped deletes delete all", "ignores id:in on DELETE",
              "serves only segmentation",  # not unsafe: a target without the Customers and Promotions slices
              "redirects deletes to the whole collection",
              "stops answering")  # not unsafe: a target that goes away mid-run (after STOPS_AFTER requests)
STOPS_AFTER = 150  # past the inventory and the delete probe, in the first rules


class UnsafeProxy:
    """Forwards `/stores/{hash}/v3/...` to the mock, with one unsafe behaviour."""

    def __init__(self, upstream: str, behaviour: str):
        assert behaviour in BEHAVIOURS, behaviour
        self.upstream = upstream.rstrip("/")
        self.behaviour = behaviour
        self.session = requests.Session()
        self.received: list[tuple[str, str]] = []  # (method, path?query) as the target got them
        self.app = Flask("unsafe-target")
        self.app.add_url_rule("/<path:path>", "forward", self.forward, methods=METHODS)

    # plumbing

    def send(self, method: str, base: str, path: str, query: list[tuple[str, str]], body: bytes | None = None) -> requests.Response:
        url = f"{self.upstream}/{base}{path}" + (("?" + urlencode(query, safe=":,")) if query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("x-auth-token", "accept", "content-type")}
        return self.session.request(method, url, headers=headers, data=body, timeout=30)

    def every_id(self, base: str, collection: str) -> list[str]:
        ids, page = [], 1
        while True:
            data = self.send("GET", base, f"/{collection}", [("limit", "250"), ("page", str(page))]).json()["data"]
            ids += [str(item["id"]) for item in data]
            if len(data) < 250:
                return ids
            page += 1

    def forward(self, path: str) -> Response:
        self.received.append((request.method, request.full_path))
        if self.behaviour == "stops answering" and len(self.received) > STOPS_AFTER:
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)  # dropped, unanswered, from now on
            return Response(status=500)  # never arrives
        base, _, rest = ("/" + path).partition("/v3")
        base = base.lstrip("/") + "/v3"
        query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
        body = request.get_data() or None
        method = request.method
        handled = self.bend(method, base, rest, query, body)
        upstream = handled if handled is not None else self.send(method, base, rest, query, body)
        if isinstance(upstream, Response):
            return upstream
        excluded = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        return Response(upstream.content, upstream.status_code,
                        [(k, v) for k, v in upstream.headers.items() if k.lower() not in excluded])

    # the behaviours

    def bend(self, method: str, base: str, path: str, query: list[tuple[str, str]], body: bytes | None) -> Any:
        collection = path.rstrip("/").rsplit("/", 1)[-1]
        has_filter = any(k == "id:in" for k, _ in query)
        entries = [e.strip() for k, v in query if k == "id:in" for e in v.split(",") if e.strip()]
        if self.behaviour == "serves only segmentation" and path.startswith(("/customers", "/promotions")):
            envelope = {"status": 404, "title": "The requested resource was not found.", "type": "about:blank", "errors": {}}
            return Response(json.dumps(envelope), 404, content_type="application/json")
        if self.behaviour == "empty id:in means all" and has_filter and not entries:
            query[:] = [(k, v) for k, v in query if k != "id:in"]
        elif self.behaviour == "malformed entries dropped" and has_filter:
            good = [e for e in entries if UUID_SHAPE.fullmatch(e) or e.isdigit()]
            query[:] = [(k, v) for k, v in query if k != "id:in"] + ([("id:in", ",".join(good))] if good else [])
        elif self.behaviour == "ignores id:in on DELETE" and method == "DELETE":
            query[:] = [(k, v) for k, v in query if k != "id:in"]
        elif self.behaviour == "redirects deletes to the whole collection" and method == "DELETE" and has_filter:
            # 307 keeps the method: a client that follows it sends the DELETE again, without its filter.
            return Response(status=307, headers={"Location": f"/{base}{path}"})
        elif self.behaviour == "idempotent profile create" and method == "POST" and path == "/shopper-profiles":
            return self.upsert_profiles(base, body)
        if method == "DELETE" and path in ("/customers", "/promotions") and not any(k == "id:in" for k, _ in query) \
                and self.behaviour in ("unscoped deletes delete all", "ignores id:in on DELETE"):
            every = self.every_id(base, collection)
            for start in range(0, len(every), 100):
                self.send("DELETE", base, path, [("id:in", ",".join(every[start : start + 100]))])
            return Response(status=204)
        if method == "DELETE" and CODES.fullmatch(path) and not any(k == "id:in" for k, _ in query) \
                and self.behaviour in ("unscoped deletes delete all", "ignores id:in on DELETE"):
            for promotion_id in self.every_id(base, "promotions"):  # every code of the store, not just this promotion's
                codes = self.send("GET", base, f"/promotions/{promotion_id}/codes", [("limit", "250")]).json()["data"]
                if codes:
                    self.send("DELETE", base, f"/promotions/{promotion_id}/codes", [("id:in", ",".join(str(c["id"]) for c in codes))])
            return Response(status=204)
        return None

    def upsert_profiles(self, base: str, body: bytes | None) -> Any:
        """A create that answers a customer's existing profile instead of 409."""
        created = self.send("POST", base, "/shopper-profiles", [], body)
        if created.status_code != 409:
            return created
        items = json.loads(body or b"[]")
        profiles = {}
        page = 1
        while True:
            data = self.send("GET", base, "/shopper-profiles", [("limit", "250"), ("page", str(page))]).json()["data"]
            profiles.update({p["customer_id"]: p for p in data})
            if len(data) < 250:
                break
            page += 1
        answer = []
        for item in items:
            existing = profiles.get(item.get("customer_id"))
            if existing is None:
                single = self.send("POST", base, "/shopper-profiles", [], json.dumps([item]).encode())
                if single.status_code != 201:
                    return single
                existing = single.json()["data"][0]
            answer.append(existing)
        return Response(json.dumps({"data": answer, "meta": {}}), 201, content_type="application/json")


CANNED_SEGMENT = {"id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "name": "Canned", "description": "",
                  "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
CANNED_PROFILE = {"id": "6b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "customer_id": 1,
                  "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
CANNED_CUSTOMER = {"id": 1, "email": "canned@example.com", "first_name": "Can", "last_name": "Ned", "customer_group_id": 0,
                   "date_created": "2024-01-01T00:00:00Z", "date_modified": "2024-01-01T00:00:00Z"}
CANNED_PROMOTION = {"id": 1, "name": "Canned", "redemption_type": "AUTOMATIC", "status": "ENABLED", "rules": [{"action": {}}],
                    "customer": {"group_ids": [], "excluded_group_ids": [], "minimum_order_count": 0, "segments": None},
                    "start_date": None, "end_date": None, "current_uses": 0, "created_from": "api"}


def canned_app() -> Flask:
    """2xx to everything, the same fixed bodies whatever was sent: no state at all."""
    app = Flask("canned-target")
    item_for = {"segments": CANNED_SEGMENT, "shopper-profiles": CANNED_PROFILE, "customers": CANNED_CUSTOMER,
                "promotions": CANNED_PROMOTION, "codes": {"id": 1, "code": "CANNED", "max_uses": 0, "current_uses": 0}}

    app.config["received"] = received = []

    def answer(path: str) -> Response:
        received.append((request.method, request.full_path))
        parts = [p for p in path.split("/") if p]
        collection = next((p for p in reversed(parts) if p in item_for), "segments")
        item = item_for[collection]
        if request.method == "DELETE":
            return Response(status=204)
        if request.method == "GET" and parts[-1] == collection:
            meta = {"pagination": {"total": 1, "count": 1, "per_page": 50, "current_page": 1, "total_pages": 1}}
            return Response(json.dumps({"data": [item], "meta": meta}), 200, content_type="application/json")
        data: Any = item if collection in ("promotions", "codes") else [item]
        return Response(json.dumps({"data": data, "meta": {}}), 201 if request.method == "POST" else 200,
                        content_type="application/json")

    app.add_url_rule("/<path:path>", "answer", answer, methods=METHODS)
    return app


def serve_app(app: Flask):
    """The target on a free loopback port (a context manager yielding its URL)."""
    return serve_wsgi(app)
