"""The Promotions slice (BEHAVIOR.md 9.2): every rule a schema cannot say.

Request shape, the expression grammar included, is the OpenAPI document's; here:
unknown segments, codes only on COUPON promotions, unique codes (case-insensitive),
end not before start, one group list at most, an unchangeable redemption type, and
the defaults of a promotion. A promotion is kept as the document the API answers,
plus its codes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import Conflict, InvalidInput, ResourceNotFound, UnknownReferences, Unprocessable
from .model import Page, offset_of
from .promotions import CouponCode, Promotion, PromotionQuery, Shopper, eligibility, expression_errors, segment_ids_in

if TYPE_CHECKING:
    from ..storage.base import Storage

EMPTY_CUSTOMER = {"group_ids": [], "excluded_group_ids": [], "minimum_order_count": 0, "segments": None}
# The platform's promotion properties (Promotions V3) the client sets, kept as given.
PLATFORM_FIELDS = ("display_name", "channels", "notifications", "stop", "currency_code", "can_be_used_with_other_promotions",
                   "max_uses", "schedule", "shipping_address")
COUPON_FIELDS = ("coupon_overrides_automatic_when_offering_higher_discounts", "coupon_type")
FIELDS = ("name", "redemption_type", "rules", "status", "customer", "start_date", "end_date", *PLATFORM_FIELDS, *COUPON_FIELDS)
# The platform's defaults for what every promotion answer carries ("max_uses" 0: no limit).
DEFAULTS = {"channels": [], "notifications": [], "stop": False, "currency_code": "*", "can_be_used_with_other_promotions": True,
            "max_uses": 0}
COUPON_DEFAULTS = {"coupon_overrides_automatic_when_offering_higher_discounts": False, "coupon_type": "SINGLE"}
# A promotion kept before start dates were always set (a seed, an older file) shows this one.
UNBOUNDED_START = "1970-01-01T00:00:00+00:00"


def public(promotion: dict[str, Any]) -> dict[str, Any]:
    """The promotion as the API answers it: every property the platform's promotion schema
    requires, at its defaults where none was set (codes are not part of it)."""
    shown = {k: v for k, v in promotion.items() if k != "codes"}
    for key, value in {**DEFAULTS, **(COUPON_DEFAULTS if promotion["redemption_type"] == "COUPON" else {})}.items():
        shown.setdefault(key, copy.deepcopy(value))
    if shown.get("start_date") is None:
        shown["start_date"] = UNBOUNDED_START
    return shown


def public_code(code: dict[str, Any]) -> dict[str, Any]:
    """A coupon code as the platform answers it (codes kept before these fields existed get the defaults)."""
    return {"max_uses_per_customer": 0, "created": UNBOUNDED_START, **code}


def iso_instant(seconds: float) -> str:
    """An instant as the platform writes promotion dates: `2019-01-20T22:00:00+00:00`."""
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()


def _instant(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput({field: f"`{value}` is not an RFC 3339 date-time."}) from None


def evaluable(promotion: dict[str, Any]) -> Promotion:
    """A stored promotion as the evaluator's record."""
    customer = promotion["customer"]
    return Promotion(
        id=promotion["id"],
        redemption_type=promotion["redemption_type"],
        status=promotion["status"],
        start_date=datetime.fromisoformat(promotion["start_date"]) if promotion.get("start_date") else None,
        end_date=datetime.fromisoformat(promotion["end_date"]) if promotion.get("end_date") else None,
        group_ids=tuple(customer["group_ids"]),
        excluded_group_ids=tuple(customer["excluded_group_ids"]),
        minimum_order_count=customer["minimum_order_count"],
        segments=customer["segments"],
        codes=tuple(CouponCode(c["code"], c["max_uses"], c["current_uses"]) for c in promotion.get("codes", [])),
    )


class Promotions:
    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time):
        self.storage = storage
        self.clock = clock

    def _read(self, store: str):
        return self.storage.transaction(store, write=False)

    def _write(self, store: str):
        return self.storage.transaction(store, write=True)

    @staticmethod
    def _require(tx, promotion_id: int) -> dict[str, Any]:
        found = tx.promotions_by_id([promotion_id]).get(promotion_id)
        if found is None:
            raise ResourceNotFound({"promotion_id": f"Promotion `{promotion_id}` does not exist."})
        return found

    def list(self, store: str, query: PromotionQuery | list[int] | None, redemption_type: str | None = None,
             page: int = 1, limit: int = 50) -> Page[dict]:
        """``getPromotions``: ``query`` carries its filters and sort (a plain ID list, or
        None, with ``redemption_type``, is the same as a query of those only)."""
        if not isinstance(query, PromotionQuery):
            query = PromotionQuery(ids=query, redemption_type=redemption_type)
        with self._read(store) as tx:
            if query.needs_every_promotion():
                _, everything = tx.promotions_page(None, None, 0, 10**12)
                matching = query.ordered([p for p in everything if query.matches(p)])
                total, items = len(matching), matching[offset_of(page, limit):][:limit]
            else:
                total, items = tx.promotions_page(query.ids, query.redemption_type, offset_of(page, limit), limit)
        return Page([public(p) for p in items], total, page, limit)

    def get(self, store: str, promotion_id: int) -> dict[str, Any]:
        with self._read(store) as tx:
            return public(self._require(tx, promotion_id))

    def create(self, store: str, body: dict[str, Any]) -> dict[str, Any]:
        promotion = {
            "id": 0,
            "name": body["name"],
            "redemption_type": body["redemption_type"],
            "status": body.get("status", "ENABLED"),
            "rules": body["rules"],
            "customer": {**EMPTY_CUSTOMER, **body.get("customer", {})},
            # As on the platform, a promotion without a start date starts when it is created.
            "start_date": body.get("start_date") or iso_instant(self.clock()),
            "end_date": body.get("end_date"),
            "current_uses": 0,
            "created_from": "api",
            **DEFAULTS,
            **(COUPON_DEFAULTS if body["redemption_type"] == "COUPON" else {}),
            **{field: body[field] for field in (*PLATFORM_FIELDS, *COUPON_FIELDS) if field in body},
            "codes": [],
        }
        code = body.get("codes")
        with self._write(store) as tx:
            self._check(tx, promotion, check_segments=True)
            if code is not None and promotion["redemption_type"] != "COUPON":
                raise Unprocessable({"codes": "Only COUPON promotions have codes."}, title="The promotion cannot be saved.")
            if code is not None:
                self._check_code_free(tx, code["code"])
            [promotion["id"]] = tx.next_counter("promotion")
            if code is not None:
                promotion["codes"].append(self._new_code(tx, code, self.clock()))
            tx.save_promotion(promotion)
        return public(promotion)

    def update(self, store: str, promotion_id: int, body: dict[str, Any]) -> dict[str, Any]:
        with self._write(store) as tx:
            promotion = self._require(tx, promotion_id)
            if "redemption_type" in body and body["redemption_type"] != promotion["redemption_type"]:
                raise Unprocessable(
                    {"redemption_type": "The redemption type of a promotion cannot change."},
                    title="The promotion cannot be saved.",
                )
            if "coupon_type" in body and body["coupon_type"] != public(promotion).get("coupon_type"):
                raise Unprocessable({"coupon_type": "The coupon type of a promotion cannot change."},
                                    title="The promotion cannot be saved.")
            changed = copy.deepcopy(promotion)
            for field in FIELDS:
                if field in body:
                    changed[field] = {**EMPTY_CUSTOMER, **body[field]} if field == "customer" else body[field]
            if "start_date" in body and body["start_date"] is None:
                changed["start_date"] = iso_instant(self.clock())
            self._check(tx, changed, check_segments="customer" in body)
            tx.save_promotion(changed)
        return public(changed)

    def delete(self, store: str, promotion_id: int) -> None:
        with self._write(store) as tx:
            self._require(tx, promotion_id)
            tx.delete_promotions([promotion_id])

    def delete_many(self, store: str, ids: list[int] | None) -> int:
        if ids is None:
            raise Unprocessable(
                {"id:in": "Name the promotions to delete with id:in."}, title="The promotions cannot be deleted."
            )
        with self._write(store) as tx:
            return tx.delete_promotions(ids)

    def add_code(self, store: str, promotion_id: int, body: dict[str, Any]) -> dict[str, Any]:
        with self._write(store) as tx:
            promotion = self._require(tx, promotion_id)
            if promotion["redemption_type"] != "COUPON":
                raise Unprocessable({"promotion_id": "Only COUPON promotions have codes."}, title="The code cannot be added.")
            self._check_code_free(tx, body["code"])
            code = self._new_code(tx, body, self.clock())
            promotion["codes"].append(code)
            tx.save_promotion(promotion)
        return public_code(code)

    def list_codes(self, store: str, promotion_id: int, page: int, limit: int, unserved: list[str] = (),
                   code: str | None = None) -> Page[dict]:
        if unserved:  # documented by the platform, not honoured here: refused, never ignored
            raise InvalidInput({name: f"`{name}` is not served by the mock; use `page` and `limit`." for name in unserved})
        with self._read(store) as tx:
            codes = [public_code(c) for c in self._require(tx, promotion_id).get("codes", [])
                     if code is None or c["code"].lower() == code.lower()]
        start = offset_of(page, limit)
        return Page(codes[start : start + limit], len(codes), page, limit)

    def delete_codes(self, store: str, promotion_id: int, ids: list[int] | None) -> None:
        if ids is None:
            raise Unprocessable({"id:in": "Name the codes to delete with id:in."}, title="The codes cannot be deleted.")
        with self._write(store) as tx:
            promotion = self._require(tx, promotion_id)
            doomed = set(ids)
            kept = [code for code in promotion.get("codes", []) if code["id"] not in doomed]
            if len(kept) != len(promotion.get("codes", [])):
                promotion["codes"] = kept
                tx.save_promotion(promotion)

    # which promotions apply (BEHAVIOR 9.3), and the facts a test may set

    def eligibility(self, store: str, customer_id: int | None, code: str | None) -> list[dict[str, Any]]:
        """Every promotion of the store, in ID order, with ``applies`` and the first failing reason."""
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        with self._read(store) as tx:
            shopper = Shopper()
            if customer_id:  # None or 0: a guest
                customer = tx.customers_by_id([customer_id]).get(customer_id)
                if customer is None:
                    raise ResourceNotFound({"customer_id": f"Customer `{customer_id}` does not exist."})
                profile = tx.profile_ids_by_customer([customer_id]).get(customer_id)
                segments = tx.segment_ids_of_profiles([profile]).get(profile, []) if profile else []
                shopper = Shopper(customer_id, customer.customer_group_id, tx.order_counts().get(customer_id, 0), frozenset(segments))
            _, promotions = tx.promotions_page(None, None, 0, 10**12)
        return [eligibility(evaluable(p), shopper, code, now) for p in promotions]

    def set_order_count(self, store: str, customer_id: int, count: int) -> None:
        with self._write(store) as tx:
            if customer_id not in tx.customers_by_id([customer_id]):
                raise ResourceNotFound({"customer_id": f"Customer `{customer_id}` does not exist."})
            tx.set_order_count(customer_id, count)

    def set_code_uses(self, store: str, promotion_id: int, code: str, uses: int) -> dict[str, Any]:
        with self._write(store) as tx:
            promotion = self._require(tx, promotion_id)
            found = next((c for c in promotion.get("codes", []) if c["code"].lower() == code.lower()), None)
            if found is None:
                raise ResourceNotFound({"code": f"Promotion `{promotion_id}` has no code `{code}`."})
            found["current_uses"] = uses
            tx.save_promotion(promotion)
        return found

    # rules

    @staticmethod
    def _new_code(tx, body: dict[str, Any], now: float) -> dict[str, Any]:
        [code_id] = tx.next_counter("code")
        return {"id": code_id, "code": body["code"], "max_uses": body.get("max_uses", 0),
                "max_uses_per_customer": body.get("max_uses_per_customer", 0), "current_uses": 0, "created": iso_instant(now)}

    @staticmethod
    def _check_code_free(tx, code: str) -> None:
        if code.lower() in tx.coupon_codes():
            raise Conflict({"code": f"Code `{code}` is already used."}, title="Coupon codes are unique in a store.")

    @staticmethod
    def _check(tx, promotion: dict[str, Any], check_segments: bool) -> None:
        customer = promotion["customer"]
        expression = customer.get("segments")
        if expression is not None:
            grammar = expression_errors(expression, "customer.segments")
            if grammar:
                raise InvalidInput(grammar)
        problems: dict[str, str] = {}
        if customer["group_ids"] and customer["excluded_group_ids"]:
            problems["customer.excluded_group_ids"] = "Only one of group_ids and excluded_group_ids may be non-empty."
        if promotion["redemption_type"] != "COUPON":
            for field in COUPON_FIELDS:
                if field in promotion:
                    problems[field] = "Only COUPON promotions have this property."
        elif promotion.get("coupon_overrides_automatic_when_offering_higher_discounts") and \
                promotion.get("can_be_used_with_other_promotions", True):
            problems["coupon_overrides_automatic_when_offering_higher_discounts"] = (
                "It may be true only when can_be_used_with_other_promotions is false.")
        start, end = _instant(promotion["start_date"], "start_date"), _instant(promotion["end_date"], "end_date")
        if start and end:
            try:
                backwards = end < start
            except TypeError:  # one has an offset, the other not: compare as given is impossible
                backwards = False
            if backwards:
                problems["end_date"] = "The end date is before the start date."
        if problems:
            raise Unprocessable(problems, title="The promotion cannot be saved.")
        if check_segments and expression is not None:
            named = segment_ids_in(expression)
            known = tx.segments_by_id(named)
            unknown = [sid for sid in dict.fromkeys(named) if sid not in known]
            if unknown:
                raise UnknownReferences(
                    {"customer.segments": f"Segments do not exist: {', '.join(unknown)}."},
                    title="The promotion cannot be saved.",
                )
