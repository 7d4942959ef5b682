"""Fixtures: one store's whole state as plain data, to seed from and to snapshot to.

The format (JSON or YAML), per store::

    customers:        [{id?, email, first_name, last_name, customer_group_id?, date_created?, date_modified?,
                        company?, phone?, notes?, tax_exempt_category?, registration_ip_address?,
                        accepts_product_review_abandoned_cart_emails?, origin_channel_id?, channel_ids?,
                        authentication?: {force_password_reset?}}]
    shopper_profiles: [{id?, customer_id, created_at?, updated_at?}]
    segments:         [{id?, name, description?, created_at?, updated_at?, shopper_profile_ids?: [...]}]
    last_customer_id: int   (optional: IDs allocated later start above it)
    promotions:       [{id?, name, redemption_type, rules, status?, customer?, start_date?, end_date?,
                        current_uses?, the platform's other properties (channels?, currency_code?, ...),
                        codes?: [{code, max_uses?, max_uses_per_customer?, current_uses?, created?}]}]
    order_counts:     [{customer_id, order_count}]

IDs and timestamps are generated when absent (timestamps: now). Order is creation
order. Seeding checks every invariant the API keeps (unique names and emails, at most
1000 segments, one profile per customer, references that exist), and a store's
snapshot seeds back to exactly the same state.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .model import Customer, Segment, ShopperProfile
from .promotion_service import EMPTY_CUSTOMER
from .promotions import expression_errors, segment_ids_in
from .service import MAX_SEGMENTS_PER_STORE

if TYPE_CHECKING:
    from .service import Segmentation

_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_ISSUED_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMAIL = re.compile(r"[^@ \t\n\v\f\r]+@[^@ \t\n\v\f\r]+")


def _timestamp(value: Any, where: str, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise InvalidInput({where: "must be an RFC 3339 UTC timestamp with whole seconds, like 2022-08-24T14:15:22Z"})
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


def _text(value: Any, where: str, max_length: int, blank_ok: bool = False) -> str:
    if not isinstance(value, str) or len(value) > max_length or (not blank_ok and not value.strip(" \t\n\v\f\r")):
        raise InvalidInput({where: f"must be a{'' if blank_ok else ' non-blank'} string of at most {max_length} characters"})
    return value


def _int(value: Any, where: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 2**31 - 1:
        raise InvalidInput({where: f"must be an integer from {minimum} to 2147483647"})
    return value


_CUSTOMER_TEXTS = {"company": 255, "phone": 50, "notes": 65535, "tax_exempt_category": 255, "registration_ip_address": 30}


def _customer_extras(item: dict[str, Any], at: str) -> dict[str, Any]:
    """The platform's other customer fields, as a snapshot writes them (all optional)."""
    extras: dict[str, Any] = {}
    for name, max_length in _CUSTOMER_TEXTS.items():
        if name in item:
            extras[name] = _text(item[name], f"{at}.{name}", max_length, blank_ok=True)
    if "accepts_product_review_abandoned_cart_emails" in item:
        extras["accepts_product_review_abandoned_cart_emails"] = _bool(item["accepts_product_review_abandoned_cart_emails"],
                                                                       f"{at}.accepts_product_review_abandoned_cart_emails")
    if "origin_channel_id" in item:
        extras["origin_channel_id"] = _int(item["origin_channel_id"], f"{at}.origin_channel_id", 1)
    if item.get("channel_ids") is not None:
        if not isinstance(item["channel_ids"], list):
            raise InvalidInput({f"{at}.channel_ids": "must be a list of channel IDs or null"})
        extras["channel_ids"] = tuple(_int(c, f"{at}.channel_ids", 1) for c in item["channel_ids"])
    authentication = item.get("authentication") or {}
    if not isinstance(authentication, dict):
        raise InvalidInput({f"{at}.authentication": "must be a mapping"})
    if "force_password_reset" in authentication:
        extras["force_password_reset"] = _bool(authentication["force_password_reset"], f"{at}.authentication.force_password_reset")
    return extras


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput({where: "must be true or false"})
    return value


def _new_id(value: Any, where: str, service: Segmentation, seen: set[str]) -> str:
    if value is None:
        value = service.new_id()
    if not isinstance(value, str) or not _ISSUED_ID.fullmatch(value):
        raise InvalidInput({where: "must be a lowercase UUID"})
    if value in seen:
        raise InvalidInput({where: f"`{value}` is used twice"})
    seen.add(value)
    return value


def parse_store_fixture(service: Segmentation, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Check a store fixture against the API's invariants; the records to write."""
    now = service.clock()
    if not isinstance(data, dict):
        raise InvalidInput({prefix or "fixture": "must be a mapping"})
    customers: list[Customer] = []
    emails: set[str] = set()
    for i, item in enumerate(data.get("customers") or []):
        at = f"{prefix}customers[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput({at: "must be a mapping"})
        cid = item.get("id", (customers[-1].id if customers else 0) + 1)
        email = item.get("email")
        if not isinstance(email, str) or not _EMAIL.fullmatch(email) or len(email) > 255:
            raise InvalidInput({f"{at}.email": "must be one `@` with text on both sides and no whitespace"})
        if email.lower() in emails:
            raise InvalidInput({f"{at}.email": f"`{email}` is used twice"})
        emails.add(email.lower())
        created = _timestamp(item.get("date_created"), f"{at}.date_created", now)
        customers.append(
            Customer(
                _int(cid, f"{at}.id", 1),
                email,
                _text(item.get("first_name"), f"{at}.first_name", 255),
                _text(item.get("last_name"), f"{at}.last_name", 255),
                _int(item.get("customer_group_id", 0), f"{at}.customer_group_id", 0),
                created,
                _timestamp(item.get("date_modified"), f"{at}.date_modified", created),
                **_customer_extras(item, at),
            )
        )
    customer_ids = [c.id for c in customers]
    if len(set(customer_ids)) != len(customer_ids) or customer_ids != sorted(customer_ids):
        raise InvalidInput({f"{prefix}customers": "IDs must be unique and ascending"})
    known_customers = set(customer_ids)
    ids: set[str] = set()
    profiles: list[ShopperProfile] = []
    with_profile: set[int] = set()
    for i, item in enumerate(data.get("shopper_profiles") or []):
        at = f"{prefix}shopper_profiles[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput({at: "must be a mapping"})
        cid = _int(item.get("customer_id"), f"{at}.customer_id", 1)
        if cid not in known_customers:
            raise InvalidInput({f"{at}.customer_id": f"customer `{cid}` is not in the fixture"})
        if cid in with_profile:
            raise InvalidInput({f"{at}.customer_id": f"customer `{cid}` already has a shopper profile"})
        with_profile.add(cid)
        created = _timestamp(item.get("created_at"), f"{at}.created_at", now)
        profiles.append(
            ShopperProfile(_new_id(item.get("id"), f"{at}.id", service, ids), cid, created,
                           _timestamp(item.get("updated_at"), f"{at}.updated_at", created))
        )
    known_profiles = {p.id for p in profiles}
    segments: list[Segment] = []
    memberships: list[tuple[str, list[str]]] = []
    names: set[str] = set()
    raw_segments = data.get("segments") or []
    if len(raw_segments) > MAX_SEGMENTS_PER_STORE:
        raise InvalidInput({f"{prefix}segments": f"at most {MAX_SEGMENTS_PER_STORE} segments per store"})
    for i, item in enumerate(raw_segments):
        at = f"{prefix}segments[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput({at: "must be a mapping"})
        name = _text(item.get("name"), f"{at}.name", 255)
        if name in names:
            raise InvalidInput({f"{at}.name": f"`{name}` is used twice"})
        names.add(name)
        created = _timestamp(item.get("created_at"), f"{at}.created_at", now)
        segment = Segment(
            _new_id(item.get("id"), f"{at}.id", service, ids),
            name,
            _text(item.get("description", ""), f"{at}.description", 1000, blank_ok=True),
            created,
            _timestamp(item.get("updated_at"), f"{at}.updated_at", created),
        )
        members = item.get("shopper_profile_ids") or []
        if not isinstance(members, list) or len(set(members)) != len(members):
            raise InvalidInput({f"{at}.shopper_profile_ids": "must be a list of distinct shopper profile IDs"})
        unknown = [m for m in members if m not in known_profiles]
        if unknown:
            raise InvalidInput({f"{at}.shopper_profile_ids": f"not in the fixture: {unknown[:5]}"})
        segments.append(segment)
        memberships.append((segment.id, members))
    last = data.get("last_customer_id", max(customer_ids, default=0))
    if _int(last, f"{prefix}last_customer_id", 0) < max(customer_ids, default=0):
        raise InvalidInput({f"{prefix}last_customer_id": "must be at least the highest customer ID"})
    promotions = _parse_promotions(data.get("promotions") or [], {s.id for s in segments}, prefix)
    order_counts = {}
    for i, item in enumerate(data.get("order_counts") or []):
        at = f"{prefix}order_counts[{i}]"
        cid = _int(item.get("customer_id") if isinstance(item, dict) else None, f"{at}.customer_id", 1)
        if cid not in known_customers:
            raise InvalidInput({f"{at}.customer_id": f"customer `{cid}` is not in the fixture"})
        order_counts[cid] = _int(item.get("order_count"), f"{at}.order_count", 0)
    return {
        "customers": customers,
        "profiles": profiles,
        "segments": segments,
        "memberships": memberships,
        "last": last,
        "promotions": promotions,
        "order_counts": order_counts,
    }


_PLATFORM_TYPES = {"display_name": str, "channels": list, "notifications": list, "stop": bool, "currency_code": str,
                   "can_be_used_with_other_promotions": bool, "max_uses": int, "schedule": dict, "shipping_address": dict,
                   "coupon_overrides_automatic_when_offering_higher_discounts": bool, "coupon_type": str}


def _platform_fields(item: dict[str, Any], kind: str, at: str) -> dict[str, Any]:
    """The platform's other promotion properties, kept as given (as a snapshot writes them)."""
    kept = {}
    for name, kind_of in _PLATFORM_TYPES.items():
        if name not in item:
            continue
        value = item[name]
        if not isinstance(value, kind_of) or (kind_of is int and isinstance(value, bool)):
            raise InvalidInput({f"{at}.{name}": f"must be of JSON type {kind_of.__name__}"})
        if name.startswith("coupon") and kind != "COUPON":
            raise InvalidInput({f"{at}.{name}": "only COUPON promotions have it"})
        kept[name] = value
    return kept


def _parse_promotions(items: list, segment_ids: set[str], prefix: str) -> list[dict[str, Any]]:
    """Promotions as stored: the API's rules, with segments looked up in the fixture."""
    promotions: list[dict[str, Any]] = []
    codes_seen: set[str] = set()
    code_id = 0
    for i, item in enumerate(items):
        at = f"{prefix}promotions[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput({at: "must be a mapping"})
        pid = _int(item.get("id", (promotions[-1]["id"] if promotions else 0) + 1), f"{at}.id", 1)
        if promotions and pid <= promotions[-1]["id"]:
            raise InvalidInput({f"{at}.id": "IDs must be ascending"})
        kind = item.get("redemption_type")
        if kind not in ("AUTOMATIC", "COUPON"):
            raise InvalidInput({f"{at}.redemption_type": "must be AUTOMATIC or COUPON"})
        if item.get("status", "ENABLED") not in ("ENABLED", "DISABLED"):
            raise InvalidInput({f"{at}.status": "must be ENABLED or DISABLED"})
        rules = item.get("rules")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
            raise InvalidInput({f"{at}.rules": "must be a non-empty list of rule objects"})
        customer = {**EMPTY_CUSTOMER, **(item.get("customer") or {})}
        expression = customer["segments"]
        if expression is not None:
            grammar = expression_errors(expression, f"{at}.customer.segments")
            if grammar:
                raise InvalidInput(grammar)
            unknown = [sid for sid in segment_ids_in(expression) if sid not in segment_ids]
            if unknown:
                raise InvalidInput({f"{at}.customer.segments": f"segments not in the fixture: {unknown[:5]}"})
        if customer["group_ids"] and customer["excluded_group_ids"]:
            raise InvalidInput({f"{at}.customer": "only one of group_ids and excluded_group_ids may be non-empty"})
        codes = []
        for j, code in enumerate(item.get("codes") or []):
            where = f"{at}.codes[{j}]"
            if kind != "COUPON":
                raise InvalidInput({where: "only COUPON promotions have codes"})
            text = _text(code.get("code") if isinstance(code, dict) else None, f"{where}.code", 50)
            if text.lower() in codes_seen:
                raise InvalidInput({f"{where}.code": f"`{text}` is used twice"})
            codes_seen.add(text.lower())
            code_id += 1
            codes.append({"id": code.get("id", code_id), "code": text,
                          "max_uses": _int(code.get("max_uses", 0), f"{where}.max_uses", 0),
                          "current_uses": _int(code.get("current_uses", 0), f"{where}.current_uses", 0),
                          **({"max_uses_per_customer": _int(code["max_uses_per_customer"], f"{where}.max_uses_per_customer", 0)}
                             if "max_uses_per_customer" in code else {}),
                          **({"created": _text(code["created"], f"{where}.created", 64)} if "created" in code else {})})
            code_id = max(code_id, codes[-1]["id"])
        for field in ("start_date", "end_date"):
            value = item.get(field)
            try:
                if value is not None:
                    datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise InvalidInput({f"{at}.{field}": "must be an RFC 3339 date-time or null"}) from None
        promotions.append({
            "id": pid,
            "name": _text(item.get("name"), f"{at}.name", 255),
            "redemption_type": kind,
            "status": item.get("status", "ENABLED"),
            "rules": rules,
            "customer": customer,
            "start_date": item.get("start_date"),
            "end_date": item.get("end_date"),
            "current_uses": _int(item.get("current_uses", 0), f"{at}.current_uses", 0),
            "created_from": item.get("created_from", "api"),
            **_platform_fields(item, kind, at),
            "codes": codes,
        })
    return promotions


def seed_store(service: Segmentation, store: str, data: dict[str, Any], prefix: str = "") -> None:
    """Replace the store's data with the fixture's, all or nothing."""
    write_store(service, store, parse_store_fixture(service, data, prefix))


def write_store(service: Segmentation, store: str, records: dict[str, Any]) -> None:
    """Replace the store's data with checked records, in one write transaction: an API
    write racing the seed lands wholly before it (and is replaced) or wholly after it."""
    with service.storage.transaction(store, write=True) as tx:
        tx.clear()
        tx.insert_customers(records["customers"])
        tx.raise_last_customer_id(records["last"])
        tx.insert_profiles(records["profiles"])
        tx.insert_segments(records["segments"])
        for segment_id, members in records["memberships"]:
            if members:
                tx.add_members(segment_id, members)
        for promotion in records["promotions"]:
            tx.save_promotion(promotion)
        if records["promotions"]:
            tx.next_counter("promotion", records["promotions"][-1]["id"])
            codes = [c["id"] for p in records["promotions"] for c in p["codes"]]
            if codes:
                tx.next_counter("code", max(codes))
        for customer_id, count in records["order_counts"].items():
            tx.set_order_count(customer_id, count)


def snapshot_store(service: Segmentation, store: str) -> dict[str, Any]:
    """The store's whole state as records, in creation order (the HTTP layer renders them)."""
    everything = 10**12
    with service.storage.transaction(store, write=False) as tx:
        _, customers = tx.customers_page(None, 0, everything)
        _, profiles = tx.profiles_page(0, everything)
        _, segments = tx.segments_page(None, 0, everything)
        members = {s.id: [p.id for p in tx.segment_members_page(s.id, 0, everything)[1]] for s in segments}
        last = tx.last_customer_id()
        _, promotions = tx.promotions_page(None, None, 0, everything)
        order_counts = tx.order_counts()
    return {
        "customers": customers,
        "shopper_profiles": profiles,
        "segments": [(segment, members[segment.id]) for segment in segments],
        "last_customer_id": last,
        "promotions": promotions,
        "order_counts": [{"customer_id": c, "order_count": n} for c, n in sorted(order_counts.items())],
    }
