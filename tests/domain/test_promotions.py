"""The targeting-expression grammar and the eligibility evaluator (BEHAVIOR.md 9.1, 9.3),
on their own: named cases for each reason, operator and FAQ sentence, and Hypothesis
against a reference interpretation built a different way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.promotions import (
    REASONS,
    CouponCode,
    Promotion,
    Shopper,
    eligibility,
    expression_errors,
    failing_reason,
    matches,
    segment_ids_in,
)

A, B, C = (f"{c * 8}-{c * 4}-4{c * 3}-8{c * 3}-{c * 12}" for c in "abc")
GONE = "dddddddd-dddd-4ddd-8ddd-dddddddddddd"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def shopper(*segments, group=0, orders=0, customer_id=1):
    return Shopper(customer_id=customer_id, customer_group_id=group, order_count=orders, segment_ids=frozenset(segments))


GUEST = Shopper(customer_id=None)


# grammar

VALID = [
    {"id": [A]},
    {"id": [A, A]},
    {"not": {"id": [A, B]}},
    {"and": [{"id": [A]}, {"id": [B]}]},
    {"or": [{"id": [A]}, {"not": {"id": [B]}}]},
    {"and": [{"or": [{"id": [A]}, {"id": [B]}]}, {"not": {"id": [C]}}]},
    {"not": {"not": {"id": [A]}}},
    {"and": [{"id": [A]}, {"id": [A]}]},
]
INVALID = [
    ({}, "segments"),
    ({"id": []}, "segments.id"),
    ({"id": A}, "segments.id"),
    ({"id": ["not-a-uuid"]}, "segments.id[0]"),
    ({"id": [A], "not": {"id": [B]}}, "segments"),
    ({"xor": [{"id": [A]}, {"id": [B]}]}, "segments"),
    ({"and": [{"id": [A]}]}, "segments.and"),
    ({"or": []}, "segments.or"),
    ({"not": [{"id": [A]}]}, "segments.not"),
    ({"not": {"not": {"not": {"id": [A]}}}}, "segments.not.not.not"),
    ({"and": [{"or": [{"not": {"id": [A]}}, {"id": [B]}]}, {"id": [C]}]}, "segments.and[0].or[0].not"),
    ([{"id": [A]}], "segments"),
    (None, "segments"),
]


@pytest.mark.parametrize("expression", VALID)
def test_well_formed_expressions(expression):
    assert expression_errors(expression) == {}


@pytest.mark.parametrize(("expression", "where"), INVALID)
def test_grammar_errors_name_the_place(expression, where):
    assert where in expression_errors(expression)


def test_segment_ids_in_keeps_order_and_repeats():
    assert segment_ids_in({"or": [{"id": [B, A]}, {"not": {"id": [B]}}]}) == [B, A, B]


# operators


@pytest.mark.parametrize(
    ("expression", "member_of", "expected"),
    [
        ({"id": [A, B]}, {B}, True),  # "is A and/or B"
        ({"id": [A, B]}, {C}, False),
        ({"not": {"id": [A, B]}}, {C}, True),  # "is not A nor B"
        ({"not": {"id": [A, B]}}, {A}, False),
        ({"and": [{"id": [A]}, {"id": [B]}]}, {A, B}, True),
        ({"and": [{"id": [A]}, {"id": [B]}]}, {A}, False),
        ({"or": [{"id": [A]}, {"id": [B]}]}, set(), False),
        ({"and": [{"or": [{"id": [A]}, {"id": [B]}]}, {"not": {"id": [C]}}]}, {B}, True),
        ({"and": [{"or": [{"id": [A]}, {"id": [B]}]}, {"not": {"id": [C]}}]}, {B, C}, False),
        ({"id": [GONE]}, {A, B, C}, False),  # a deleted segment matches nobody
        ({"not": {"id": [GONE]}}, set(), True),
    ],
)
def test_operators(expression, member_of, expected):
    assert matches(expression, member_of) is expected


# eligibility, reason by reason


def automatic(**fields):
    return Promotion(id=1, redemption_type="AUTOMATIC", **fields)


def coupon(*codes, **fields):
    return Promotion(id=2, redemption_type="COUPON", codes=codes, **fields)


@pytest.mark.parametrize(
    ("promotion", "who", "code", "reason"),
    [
        (automatic(), shopper(), None, None),
        (automatic(status="DISABLED"), shopper(), None, "disabled"),
        (automatic(start_date=NOW + timedelta(seconds=1)), shopper(), None, "not_started"),
        (automatic(start_date=NOW), shopper(), None, None),  # start <= now <= end
        (automatic(end_date=NOW), shopper(), None, None),
        (automatic(end_date=NOW - timedelta(seconds=1)), shopper(), None, "expired"),
        (automatic(segments={"id": [A]}), GUEST, None, "guest_not_targetable"),
        (automatic(segments={"not": {"id": [A]}}), GUEST, None, "guest_not_targetable"),  # not even a `not`
        (automatic(), GUEST, None, None),
        (automatic(group_ids=(3,)), shopper(group=2), None, "group"),
        (automatic(group_ids=(0,)), GUEST, None, None),  # group 0 is guests and group-less customers
        (automatic(group_ids=(0,)), shopper(group=0), None, None),
        (automatic(excluded_group_ids=(0,)), GUEST, None, "group"),
        (automatic(excluded_group_ids=(2,)), shopper(group=2), None, "group"),
        (automatic(minimum_order_count=3), shopper(orders=2), None, "min_orders"),
        (automatic(minimum_order_count=3), shopper(orders=3), None, None),
        (automatic(segments={"id": [A]}), shopper(B), None, "not_in_segment"),
        (automatic(segments={"id": [A]}), shopper(), None, "not_in_segment"),  # no profile: in no segment
        (automatic(segments={"id": [A]}), shopper(A), "WHATEVER", None),  # AUTOMATIC ignores the code
        (coupon(CouponCode("SAVE10")), shopper(), None, "coupon_required"),
        (coupon(CouponCode("SAVE10")), shopper(), "  ", "coupon_required"),
        (coupon(CouponCode("SAVE10")), shopper(), "SAVE20", "coupon_invalid"),
        (coupon(CouponCode("SAVE10")), shopper(), "save10", None),  # codes compare case-insensitively
        (coupon(CouponCode("SAVE10", max_uses=5, current_uses=5)), shopper(), "SAVE10", "max_uses_reached"),
        (coupon(CouponCode("SAVE10", max_uses=5, current_uses=4)), shopper(), "SAVE10", None),
        (coupon(CouponCode("SAVE10", max_uses=0, current_uses=99)), shopper(), "SAVE10", None),  # 0: unlimited
    ],
)
def test_each_reason(promotion, who, code, reason):
    assert failing_reason(promotion, who, code, NOW) == reason


def test_the_first_failing_reason_is_reported_in_order():
    everything_wrong = coupon(
        CouponCode("X", max_uses=1, current_uses=1),
        status="DISABLED",
        start_date=NOW + timedelta(days=1),
        end_date=NOW - timedelta(days=1),
        group_ids=(9,),
        minimum_order_count=5,
        segments={"id": [A]},
    )
    seen = []
    promotion = everything_wrong
    fixes = {
        "disabled": {"status": "ENABLED"},
        "not_started": {"start_date": None},
        "expired": {"end_date": None},
        "group": {"group_ids": ()},
        "min_orders": {"minimum_order_count": 0},
        "not_in_segment": {"segments": None},
    }
    who = shopper(group=1)
    while (reason := failing_reason(promotion, who, "X", NOW)) is not None:
        seen.append(reason)
        promotion = Promotion(**{**promotion.__dict__, **fixes[reason]}) if reason in fixes else None
        if promotion is None:
            break
    assert seen == ["disabled", "not_started", "expired", "group", "min_orders", "not_in_segment", "max_uses_reached"]
    assert [r for r in REASONS if r in seen] == seen


def test_faq_scenario():
    """"For a promotion to apply, you must assign a customer to the targeted segment, and
    they must sign in ... automatic promotions apply themselves ... coupon promotions
    need a valid coupon code."""
    auto, code = automatic(segments={"id": [A]}), coupon(CouponCode("VIP"), segments={"id": [A]})
    member, outsider = shopper(A), shopper(B)
    assert eligibility(auto, member, None, NOW) == {"id": 1, "applies": True}
    assert eligibility(auto, outsider, None, NOW)["reason"] == "not_in_segment"
    assert eligibility(auto, GUEST, None, NOW)["reason"] == "guest_not_targetable"  # not signed in
    assert eligibility(code, member, None, NOW)["reason"] == "coupon_required"
    assert eligibility(code, member, "vip", NOW)["applies"] is True


# property: the evaluator against a reference built as Python source


def _reference_source(expression) -> str:
    [(operator, operand)] = expression.items()
    if operator == "id":
        return "(" + " or ".join(f"{sid!r} in S" for sid in operand) + ")"
    if operator == "not":
        return f"(not {_reference_source(operand)})"
    joiner = f" {operator} "
    return "(" + joiner.join(_reference_source(member) for member in operand) + ")"


IDS = st.sampled_from([A, B, C, GONE])
LEAF = st.builds(lambda ids: {"id": ids}, st.lists(IDS, min_size=1, max_size=3))


def _expressions(depth: int):
    if depth == 1:
        return LEAF
    inner = _expressions(depth - 1)
    return st.one_of(
        LEAF,
        st.builds(lambda x: {"not": x}, inner),
        st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=2, max_size=3)),
    )


@settings(max_examples=300, deadline=None)
@given(_expressions(3), st.frozensets(IDS))
def test_matches_agrees_with_the_reference(expression, member_of):
    assert expression_errors(expression) == {}
    assert matches(expression, member_of) is eval(_reference_source(expression), {"S": member_of})  # noqa: S307


@settings(max_examples=100, deadline=None)
@given(_expressions(3))
def test_one_more_level_is_a_grammar_error(expression):
    assert expression_errors({"not": {"not": {"not": {"id": [A]}}}})
    deeper = {"not": expression}
    depth = lambda e: 1 if "id" in e else 1 + max(depth(c) for c in ([e["not"]] if "not" in e else next(iter(e.values()))))  # noqa: E731
    assert bool(expression_errors(deeper)) is (depth(deeper) > 3)
