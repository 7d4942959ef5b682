"""Promotions that target segments: the expression grammar and who a promotion applies to.

Pure functions of plain data (BEHAVIOR.md section 9), so they can be tested on their
own; storage and HTTP come on top.

The targeting expression (``customer.segments``, 9.1) is one of
``{"id": [UUID, ...]}`` (at least one; true when the shopper is in any of them),
``{"not": X}``, ``{"and": [X, X, ...]}`` and ``{"or": [X, X, ...]}`` (at least two).
Every object is one level, the outermost is level 1, and at most three levels nest, so
level 3 holds only ``id`` leaves. Repeats are allowed and kept as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_LEVELS = 3
OPERATORS = ("id", "not", "and", "or")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# The reasons of 9.3, in the order they are checked; the first that fails is reported.
REASONS = (
    "disabled",
    "not_started",
    "expired",
    "guest_not_targetable",
    "group",
    "min_orders",
    "not_in_segment",
    "coupon_required",
    "coupon_invalid",
    "max_uses_reached",
)


def expression_errors(expression: Any, path: str = "segments", level: int = 1) -> dict[str, str]:
    """Grammar errors of a targeting expression, by JSON path; empty when well formed."""
    if not isinstance(expression, dict) or len(expression) != 1 or next(iter(expression)) not in OPERATORS:
        return {path: 'must be an object with exactly one of "id", "not", "and", "or"'}
    if level > MAX_LEVELS:
        return {path: f"expressions nest at most {MAX_LEVELS} levels"}
    [(operator, operand)] = expression.items()
    where = f"{path}.{operator}"
    if operator == "id":
        if not isinstance(operand, list) or not operand:
            return {where: "must be a non-empty list of segment IDs"}
        bad = {f"{where}[{i}]": "must be a UUID" for i, v in enumerate(operand) if not (isinstance(v, str) and _UUID.fullmatch(v))}
        return bad
    if operator == "not":
        return expression_errors(operand, where, level + 1)
    if not isinstance(operand, list) or len(operand) < 2:
        return {where: f'"{operator}" takes a list of at least two expressions'}
    errors: dict[str, str] = {}
    for i, member in enumerate(operand):
        errors.update(expression_errors(member, f"{where}[{i}]", level + 1))
    return errors


def segment_ids_in(expression: dict[str, Any]) -> list[str]:
    """Every segment ID an expression names, in order of appearance (repeats kept)."""
    [(operator, operand)] = expression.items()
    if operator == "id":
        return list(operand)
    if operator == "not":
        return segment_ids_in(operand)
    return [sid for member in operand for sid in segment_ids_in(member)]


def matches(expression: dict[str, Any], member_of: frozenset[str] | set[str]) -> bool:
    """Whether a shopper profile in these segments satisfies the expression.

    A segment the store no longer has is in nobody's set: ``{"id": [gone]}`` is false and
    ``{"not": {"id": [gone]}}`` true, as BEHAVIOR 9.2 says.
    """
    [(operator, operand)] = expression.items()
    if operator == "id":
        return any(sid in member_of for sid in operand)
    if operator == "not":
        return not matches(operand, member_of)
    if operator == "and":
        return all(matches(member, member_of) for member in operand)
    return any(matches(member, member_of) for member in operand)


@dataclass(frozen=True)
class CouponCode:
    code: str
    max_uses: int = 0  # 0: unlimited
    current_uses: int = 0


@dataclass(frozen=True)
class Promotion:
    id: int
    redemption_type: str  # AUTOMATIC | COUPON
    status: str = "ENABLED"  # ENABLED | DISABLED
    start_date: datetime | None = None
    end_date: datetime | None = None
    group_ids: tuple[int, ...] = ()
    excluded_group_ids: tuple[int, ...] = ()
    minimum_order_count: int = 0
    segments: dict[str, Any] | None = None  # the targeting expression; None: no segment condition
    codes: tuple[CouponCode, ...] = ()


@dataclass(frozen=True)
class Shopper:
    """What eligibility needs to know of a shopper. ``customer_id`` None is a guest."""

    customer_id: int | None = None
    customer_group_id: int = 0  # 0: no group (and every guest)
    order_count: int = 0
    segment_ids: frozenset[str] = field(default_factory=frozenset)  # of the shopper profile; empty without one

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None


def failing_reason(promotion: Promotion, shopper: Shopper, code: str | None, now: datetime) -> str | None:
    """The first reason of ``REASONS`` that keeps the promotion from applying, or None."""
    code = code.strip() if isinstance(code, str) and code.strip() else None
    group = 0 if shopper.is_guest else shopper.customer_group_id
    entered = None
    if code is not None:
        entered = next((c for c in promotion.codes if c.code.lower() == code.lower()), None)
    checks = (
        ("disabled", promotion.status == "DISABLED"),
        ("not_started", promotion.start_date is not None and now < promotion.start_date),
        ("expired", promotion.end_date is not None and now > promotion.end_date),
        ("guest_not_targetable", shopper.is_guest and promotion.segments is not None),
        (
            "group",
            (bool(promotion.group_ids) and group not in promotion.group_ids)
            or (bool(promotion.excluded_group_ids) and group in promotion.excluded_group_ids),
        ),
        ("min_orders", shopper.order_count < promotion.minimum_order_count),
        ("not_in_segment", promotion.segments is not None and not matches(promotion.segments, shopper.segment_ids)),
        ("coupon_required", promotion.redemption_type == "COUPON" and code is None),
        ("coupon_invalid", promotion.redemption_type == "COUPON" and code is not None and entered is None),
        (
            "max_uses_reached",
            promotion.redemption_type == "COUPON"
            and entered is not None
            and entered.max_uses > 0
            and entered.current_uses >= entered.max_uses,
        ),
    )
    return next((reason for reason, fails in checks if fails), None)


def eligibility(promotion: Promotion, shopper: Shopper, code: str | None, now: datetime) -> dict[str, Any]:
    reason = failing_reason(promotion, shopper, code, now)
    return {"id": promotion.id, "applies": reason is None, **({"reason": reason} if reason else {})}


PROMOTION_SORTS = ("id", "name", "priority", "start_date")


@dataclass(frozen=True)
class PromotionQuery:
    """The filters and sort of one ``getPromotions`` request (None: not given). Text
    compares case-insensitively; ``redemption_type`` takes the platform's lowercase
    values and the upper-case ones the promotions carry."""

    ids: list[int] | None = None
    redemption_type: str | None = None
    name: str | None = None
    code: str | None = None
    currency_code: str | None = None
    status: str | None = None
    channels: list[int] | None = None
    text: str | None = None  # `query`: in the name or in one of the codes
    sort: str = "id"
    descending: bool = False

    def needs_every_promotion(self) -> bool:
        """True unless the storage's own page (IDs and redemption type, by ID) answers it."""
        return any(value is not None for value in (self.name, self.code, self.currency_code, self.status, self.channels,
                                                   self.text)) or self.sort != "id" or self.descending

    def matches(self, promotion: dict[str, Any]) -> bool:
        codes = [c["code"].casefold() for c in promotion.get("codes", [])]
        channels = [c.get("id") for c in promotion.get("channels") or [] if isinstance(c, dict)]
        checks = (
            (self.ids, lambda: promotion["id"] in self.ids),
            (self.redemption_type, lambda: promotion["redemption_type"] == self.redemption_type),
            (self.name, lambda: promotion["name"].casefold() == self.name.casefold()),
            (self.code, lambda: self.code.casefold() in codes),
            (self.currency_code, lambda: str(promotion.get("currency_code", "*")).casefold() == self.currency_code.casefold()),
            (self.status, lambda: promotion["status"] == self.status.upper()),
            # A promotion for every channel (no channel listed) is in every channel's list.
            (self.channels, lambda: not channels or any(c in self.channels for c in channels)),
            (self.text, lambda: self.text.casefold() in promotion["name"].casefold()
                or any(self.text.casefold() in code for code in codes)),
        )
        return all(check() for given, check in checks if given is not None)

    def ordered(self, promotions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """By ``sort`` (``priority`` is creation order, as the mock keeps no other), ties by ID."""
        promotions = sorted(promotions, key=lambda p: p["id"])
        if self.sort in ("id", "priority"):
            return promotions[::-1] if self.descending else promotions

        def key(promotion: dict[str, Any]):
            if self.sort == "name":
                return promotion["name"].casefold()
            value = promotion.get("start_date")
            return datetime.fromisoformat(value).timestamp() if value else float("-inf")

        return sorted(promotions, key=key, reverse=self.descending)
