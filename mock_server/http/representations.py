"""JSON shapes of the API: resources, lists, and the platform's error envelopes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from ..domain.model import Customer, CustomerView, Page, Segment, ShopperProfile

ERROR_DOCS = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
RATE_LIMIT_DOCS = "https://developer.bigcommerce.com/api-docs/getting-started/api-rate-limits"


@lru_cache(maxsize=65536)  # a store's resources share few distinct seconds; formatting dominated lists
def timestamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "created_at": timestamp(segment.created_at),
        "updated_at": timestamp(segment.updated_at),
    }


def profile_json(profile: ShopperProfile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "customer_id": profile.customer_id,
        "created_at": timestamp(profile.created_at),
        "updated_at": timestamp(profile.updated_at),
    }


def customer_json(customer: Customer) -> dict[str, Any]:
    """The platform's customer (Customers V3), every scalar field it documents."""
    body = {
        "id": customer.id,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company": customer.company,
        "phone": customer.phone,
        "registration_ip_address": customer.registration_ip_address,
        "notes": customer.notes,
        "tax_exempt_category": customer.tax_exempt_category,
        "customer_group_id": customer.customer_group_id,
        "date_created": timestamp(customer.date_created),
        "date_modified": timestamp(customer.date_modified),
        "address_count": 0,
        "attribute_count": 0,
        "authentication": {"force_password_reset": customer.force_password_reset},
        "accepts_product_review_abandoned_cart_emails": customer.accepts_product_review_abandoned_cart_emails,
        "origin_channel_id": customer.origin_channel_id,
    }
    if customer.channel_ids is not None:  # global access: absent (the reference's type is an array)
        body["channel_ids"] = list(customer.channel_ids)
    return body


def promotion_json(promotion: dict[str, Any]) -> dict[str, Any]:
    """A kept promotion as the platform shows it. An open end and a missing segment
    condition are left out rather than sent as ``null``: the Promotions reference types
    ``end_date`` as a string and ``customer.segments`` as an expression, neither nullable."""
    body = {name: value for name, value in promotion.items() if not (name == "end_date" and value is None)}
    customer = promotion.get("customer")
    if isinstance(customer, dict) and customer.get("segments", False) is None:
        body["customer"] = {name: value for name, value in customer.items() if name != "segments"}
    return body


def customer_view_json(view: CustomerView) -> dict[str, Any]:
    body = customer_json(view.customer)
    if view.include_profile:
        body["shopper_profile_id"] = view.shopper_profile_id
    if view.segment_ids is not None:
        body["segment_ids"] = view.segment_ids
    for field in view.empty_includes:
        body[field] = []
    return body


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder, not one per answer


def dumps(body: Any) -> str:
    return _JSON.encode(body)


class Encoded:
    """A JSON document ready to send, as its UTF-8 bytes."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data


_CACHED_RECORDS = 8192  # per kind of record; each cache is emptied when it reaches this (its entries are
# objects the garbage collector walks: a larger cache would lengthen its full collections)


class _RecordEncoder:
    """Records are immutable, so each record's JSON is computed once and reused. Looked up
    by value (SQLite reads make equal records anew) and, for a record encoded for the first
    time, also by identity: the in-memory backend hands out the same records again, and an
    identity look-up costs less than hashing a record's fields. Every identity entry has
    its record as a key of the value cache (the two are filled and emptied together), which
    keeps the record alive, so its identity cannot be reused while the entry lives; the
    identity cache holds only integers and text, which the garbage collector skips.
    Unhashable views (a customer with its segment list) are encoded each time."""

    __slots__ = ("render", "by_value", "by_identity", "lock")

    def __init__(self, render: Callable[[Any], dict[str, Any]]):
        self.render = render
        self.by_value: dict[Any, str] = {}
        self.by_identity: dict[int, str] = {}
        self.lock = threading.Lock()

    def one(self, item: Any) -> str:
        text = self.by_identity.get(id(item))
        if text is not None:
            return text
        try:
            text = self.by_value.get(item)
        except TypeError:  # unhashable
            return dumps(self.render(item))
        if text is None:
            text = dumps(self.render(item))
            with self.lock:  # misses only: an identity entry only for the record that is the key
                if len(self.by_value) >= _CACHED_RECORDS:
                    self.by_identity.clear()  # first: no identity entry outlives its record
                    self.by_value.clear()
                if item not in self.by_value:
                    self.by_value[item] = text
                    self.by_identity[id(item)] = text
        return text

    def joined(self, items: list, before: str = "", after: str = "") -> str:
        """The items' JSON, comma-separated, between ``before`` and ``after`` (joined in
        one pass: a page's text is copied once). The identity look-ups run without a
        Python call per item (a page of records the in-memory backend hands out again
        costs one pass in C); only the items they miss go through ``one``."""
        texts = list(map(self.by_identity.get, map(id, items)))
        if not all(texts):  # a miss (None); no record's JSON is empty
            texts = [text if text is not None else self.one(item) for text, item in zip(texts, items)]
        if not texts:
            return before + after
        texts[0] = before + texts[0]
        texts[-1] = texts[-1] + after
        return ",".join(texts)


_ENCODERS: dict[Callable[[Any], dict[str, Any]], _RecordEncoder] = {}


def _encoder(render: Callable[[Any], dict[str, Any]]) -> _RecordEncoder:
    encoder = _ENCODERS.get(render)
    if encoder is None:
        encoder = _ENCODERS.setdefault(render, _RecordEncoder(render))
    return encoder


def collection(page: Page, render: Callable[[Any], dict[str, Any]], links: dict[str, str] | None = None) -> Encoded:
    # Integers only (and the links' text, encoded): written directly, in the encoder's order.
    pagination = (f'"total":{int(page.total)},"count":{int(page.count)},"per_page":{int(page.limit)},'
                  f'"current_page":{int(page.page)},"total_pages":{int(page.total_pages)}')
    if links is not None:
        pagination += f',"links":{dumps(links)}'
    text = _encoder(render).joined(page.items, '{"data":[', f'],"meta":{{"pagination":{{{pagination}}}}}}}')
    return Encoded(text.encode())


def batch(items: list, render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {"data": [render(item) for item in items], "meta": {}}


def error_envelope(status: int, title: str, errors: dict[str, str], docs: str = ERROR_DOCS) -> dict[str, Any]:
    return {"status": status, "title": title, "type": docs, "errors": errors}


def api_error_body(subpath: str, status: int, title: str, errors: dict[str, str], docs: str = ERROR_DOCS) -> dict[str, Any]:
    """An error under ``/stores/{hash}/v3``: the v3 envelope, except under ``/promotions``,
    where BigCommerce's Promotions reference gives its own shape — the envelope as the one
    entry of an ``errors`` list (``PromotionErrorResponse`` in the document)."""
    envelope = error_envelope(status, title, errors, docs)
    if subpath.lstrip("/").split("/", 1)[0] == "promotions":
        return {"errors": [envelope]}
    return envelope


def batch_conflict_envelope(title: str, errors: dict[str, str], total: int) -> dict[str, Any]:
    """One entry per failing item, in index order; nothing was written."""
    ordered = sorted(errors.items(), key=lambda item: int(item[0]))
    return {
        "data": [],
        "errors": [error_envelope(409, title, {index: message}) for index, message in ordered],
        "meta": {"total": total, "success": 0, "failed": len(ordered)},
    }


def page_links(page: Page, query: dict[str, Any]) -> dict[str, str]:
    """The Customers V3 pagination links: the request's own query with another ``page``
    (``previous`` and ``next`` only where such a page exists)."""
    kept = [(name, ",".join(value) if isinstance(value, list) else str(value))
            for name, value in query.items() if name not in ("page", "limit")]

    def link(number: int) -> str:
        return "?" + urlencode([*kept, ("page", str(number)), ("limit", str(page.limit))], safe=":,")

    links = {"current": link(page.page)}
    if page.page > 1:
        links["previous"] = link(min(page.page - 1, max(page.total_pages, 1)))
    if page.page < page.total_pages:
        links["next"] = link(page.page + 1)
    return links
