"""Promotions that target segments (BEHAVIOR.md section 9): the DOC rules.

Every refused promotion has a positive twin: the same body, differing only in the part
under test, must be accepted, so that a target which refuses every promotion (or every
`action`) cannot pass by refusing the wrong thing.
"""

from __future__ import annotations

import pytest

from .helpers import expect_refusal, promotion_total

ACTION = [{"action": {"cart_value": {"discount": {"percentage_amount": "1"}}}}]


REQUIRED_BY_THE_REFERENCE = {"channels": list, "notifications": list, "stop": bool, "currency_code": str,
                             "can_be_used_with_other_promotions": bool, "start_date": str, "created_from": str}
PLATFORM_DEFAULTS = {"channels": [], "notifications": [], "stop": False, "currency_code": "*", "can_be_used_with_other_promotions": True}


def promotion_body(make, **fields):
    return {"name": make.name(), "redemption_type": "AUTOMATIC", "rules": ACTION, **fields}


def accepted(response) -> bool:
    return response.status_code in (200, 201)


@pytest.mark.rule("PROMO-CREATE")
def test_promotion_targeting_a_segment_round_trips(api, make, checks):
    segment = make.segment()
    expression = {"or": [{"id": [segment["id"]]}, {"not": {"id": [segment["id"]]}}]}
    promotion = make.promotion(customer={"segments": expression})
    checks.must(isinstance(promotion.get("id"), int) and not isinstance(promotion.get("id"), bool),
                f"a promotion's id is an integer, got {promotion.get('id')!r}")
    checks.must(promotion["customer"]["segments"] == expression, "the expression is stored as given")
    checks.must(promotion.get("status") == "ENABLED", f"status defaults to ENABLED, got {promotion.get('status')!r}")
    checks.must(promotion.get("current_uses") == 0, f"current_uses starts at 0, got {promotion.get('current_uses')!r}")
    checks.must(promotion.get("redemption_type") == "AUTOMATIC", f"redemption_type {promotion.get('redemption_type')!r}")
    checks.must(promotion.get("rules") == ACTION, "rules are stored as given")
    checks.should(promotion.get("created_from") == "api", f"created_from SHOULD be 'api', got {promotion.get('created_from')!r}")
    # What the platform's saved promotion requires, whatever the client sent.
    for field, kind in REQUIRED_BY_THE_REFERENCE.items():
        checks.must(isinstance(promotion.get(field), kind) and not (kind is not bool and isinstance(promotion.get(field), bool)),
                    f"{field} is required by the platform's promotion schema ({kind.__name__}), got {promotion.get(field, 'absent')!r}")
    checks.should({k: promotion.get(k) for k in PLATFORM_DEFAULTS} == PLATFORM_DEFAULTS,
                  f"the platform's defaults: {PLATFORM_DEFAULTS}, got {({k: promotion.get(k) for k in PLATFORM_DEFAULTS})}")
    read = api.get(f"/promotions/{promotion['id']}")
    checks.must(read.status_code == 200 and read.json()["data"]["id"] == promotion["id"], f"read back: {read.status_code}")
    checks.must(read.status_code != 200 or read.json()["data"]["customer"]["segments"] == expression, "read back: the expression")
    response = api.delete(f"/promotions/{promotion['id']}")
    checks.must(response.status_code == 204, f"delete: {response.status_code}")
    checks.must(api.get(f"/promotions/{promotion['id']}").status_code == 404, "gone after delete")
    plain = make.promotion()
    checks.must(plain["customer"].get("group_ids") == [] and plain["customer"].get("excluded_group_ids") == []
                and plain["customer"].get("minimum_order_count") == 0 and plain["customer"].get("segments") is None,
                f"an absent customer condition reads as no condition, got {plain['customer']!r}")


BAD_EXPRESSIONS = [
    ("four levels", lambda s: {"not": {"not": {"not": {"id": [s]}}}}),
    ("and of one", lambda s: {"and": [{"id": [s]}]}),
    ("non-UUID id", lambda s: {"id": ["segment-one"]}),
    ("empty id list", lambda s: {"id": []}),
    ("two operators", lambda s: {"id": [s], "not": {"id": [s]}}),
]


@pytest.mark.rule("PROMO-GRAMMAR")
@pytest.mark.parametrize(("why", "build"), BAD_EXPRESSIONS, ids=[b[0] for b in BAD_EXPRESSIONS])
def test_expression_grammar_is_enforced(api, make, checks, why, build):
    make.need("promotions")
    segment = make.segment()
    twin = api.post("/promotions", promotion_body(make, customer={"segments": {"not": {"not": {"id": [segment["id"]]}}}}))
    checks.must(accepted(twin), f"the positive twin (three levels, valid) must be accepted, got {twin.status_code}")
    before = promotion_total(api)
    response = api.post("/promotions", promotion_body(make, customer={"segments": build(segment["id"])}))
    expect_refusal(checks, response, why, 400)
    checks.must(promotion_total(api) == before, f"{why}: the refused promotion was created")


@pytest.mark.rule("PROMO-UNKNOWN-SEGMENT")
def test_unknown_segment_is_refused(api, make, checks, guard):
    make.need("promotions")
    segment = make.segment()
    twin = api.post("/promotions", promotion_body(make, customer={"segments": {"id": [segment["id"]]}}))
    checks.must(accepted(twin), f"the positive twin (a segment the store has) must be accepted, got {twin.status_code}")
    before = promotion_total(api)
    response = api.post("/promotions", promotion_body(make, customer={"segments": {"id": [guard.fresh_uuid()]}}))
    expect_refusal(checks, response, "a segment the store lacks", 422)
    checks.must(promotion_total(api) == before, "the refused promotion was created")


@pytest.mark.rule("PROMO-GROUPS")
def test_both_group_lists_are_refused(api, make, checks):
    promotion = make.promotion(customer={"group_ids": [0, 1]})
    checks.must(promotion["customer"]["group_ids"] == [0, 1], "the positive twin: one non-empty list is fine")
    before = promotion_total(api)
    response = api.post("/promotions", promotion_body(make, customer={"group_ids": [1], "excluded_group_ids": [2]}))
    expect_refusal(checks, response, "both group lists", 422)
    checks.must(promotion_total(api) == before, "the refused promotion was created")


@pytest.mark.rule("PROMO-LIST")
def test_promotions_are_listed_and_filtered(api, make, checks):
    automatic = make.promotion()
    coupon = make.promotion(redemption_type="COUPON")
    ids = f"{automatic['id']},{coupon['id']}"
    response = api.get(f"/promotions?id:in={ids}")
    checks.must(response.status_code == 200, f"listing by id:in: {response.status_code}")
    listed = sorted(p["id"] for p in response.json()["data"])
    checks.must(listed == sorted([automatic["id"], coupon["id"]]), f"id:in={ids} listed {listed}")
    response = api.get(f"/promotions?id:in={ids}&redemption_type=COUPON")
    checks.must(response.status_code == 200, f"filtering by redemption_type: {response.status_code}")
    checks.must([p["id"] for p in response.json()["data"]] == [coupon["id"]],
                f"redemption_type=COUPON listed {[p['id'] for p in response.json()['data']]}")
    meta = response.json().get("meta", {}).get("pagination", {})
    checks.must(meta.get("total") == 1, f"the filtered total is 1, got {meta.get('total')!r}")
    # The platform's reference spells the filter's values in lower case.
    response = api.get(f"/promotions?id:in={ids}&redemption_type=coupon")
    checks.must(response.status_code == 200 and [p["id"] for p in response.json()["data"]] == [coupon["id"]],
                f"redemption_type=coupon (the reference's spelling): {response.status_code} "
                f"{[p.get('id') for p in response.json().get('data', [])] if response.status_code == 200 else response.text[:200]}")


@pytest.mark.rule("PROMO-UPDATE")
def test_update_changes_named_fields_and_is_validated(api, make, checks, guard):
    segment = make.segment()
    promotion = make.promotion(customer={"segments": {"id": [segment["id"]]}})
    new_name = make.name()
    response = api.put(f"/promotions/{promotion['id']}", {"name": new_name, "status": "DISABLED"})
    checks.must(response.status_code in (200, 201), f"expected 200 or 201, got {response.status_code}")
    read = api.get(f"/promotions/{promotion['id']}").json()["data"]
    checks.must((read["name"], read["status"]) == (new_name, "DISABLED"), f"the named fields changed: {read['name']!r}, {read['status']!r}")
    checks.must(read["customer"]["segments"] == {"id": [segment["id"]]} and read["rules"] == ACTION, "fields not named are unchanged")
    for why, body in (("a grammar error", {"customer": {"segments": {"and": [{"id": [segment["id"]]}]}}}),
                      ("an unknown segment", {"customer": {"segments": {"id": [guard.fresh_uuid()]}}}),
                      ("a changed redemption_type", {"redemption_type": "COUPON"})):
        response = api.put(f"/promotions/{promotion['id']}", body)
        expect_refusal(checks, response, f"PUT with {why}")
        after = api.get(f"/promotions/{promotion['id']}").json()["data"]
        checks.must(after == read, f"PUT with {why} changed the promotion")


@pytest.mark.rule("PROMO-DELETE-MANY")
def test_delete_by_id_in_deletes_exactly_those(api, make, checks):
    gone, other_gone, kept = make.promotion(), make.promotion(), make.promotion()
    response = api.delete(f"/promotions?id:in={gone['id']},{other_gone['id']}")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    listed = sorted(p["id"] for p in api.get(f"/promotions?id:in={gone['id']},{other_gone['id']},{kept['id']}").json()["data"])
    checks.must(listed == [kept["id"]], f"only the named promotions are gone; listed {listed}")


@pytest.mark.rule("PROMO-CODES")
def test_coupon_codes(api, make, checks, target):
    coupon, other = make.promotion(redemption_type="COUPON"), make.promotion(redemption_type="COUPON")
    code = f"{target.run_id}-Code"
    response = api.post(f"/promotions/{coupon['id']}/codes", {"code": code, "max_uses": 5})
    checks.must(response.status_code == 201, f"a code on a COUPON promotion: expected 201, got {response.status_code}")
    if response.status_code == 201:
        data = response.json()["data"]
        checks.must(data.get("code") == code and data.get("max_uses") == 5 and data.get("current_uses") == 0
                    and isinstance(data.get("id"), int), f"the code as created: {data!r}")
    response = api.post(f"/promotions/{other['id']}/codes", {"code": code.swapcase()})
    expect_refusal(checks, response, "a code taken in another case", 409)
    twin = api.post(f"/promotions/{other['id']}/codes", {"code": f"{target.run_id}-other"})
    checks.must(twin.status_code == 201, f"the positive twin: a fresh code on the other promotion, got {twin.status_code}")
    # Listed, and deleted by `id:in` and by ID, on the promotion that has them.
    third = api.post(f"/promotions/{other['id']}/codes", {"code": f"{target.run_id}-third"})
    checks.must(third.status_code == 201, f"a second code on the same promotion, got {third.status_code}")
    listed = api.get(f"/promotions/{other['id']}/codes")
    codes = {c["code"]: c["id"] for c in listed.json().get("data", [])} if listed.status_code == 200 else {}
    checks.must(set(codes) == {f"{target.run_id}-other", f"{target.run_id}-third"}, f"the promotion lists its codes: {listed.status_code} {sorted(codes)}")
    if len(codes) == 2:
        response = api.delete(f"/promotions/{other['id']}/codes?id:in={codes[f'{target.run_id}-other']}")
        checks.must(response.status_code == 204, f"deleting a code by id:in: expected 204, got {response.status_code}")
        left = [c["code"] for c in api.get(f"/promotions/{other['id']}/codes").json()["data"]]
        checks.must(left == [f"{target.run_id}-third"], f"only the named code is gone: {left}")
        response = api.delete(f"/promotions/{other['id']}/codes/{codes[f'{target.run_id}-third']}")
        checks.must(response.status_code == 204, f"deleting a code by ID: expected 204, got {response.status_code}")
        checks.must(api.get(f"/promotions/{other['id']}/codes").json()["data"] == [], "no code left")
    automatic = make.promotion()
    response = api.post(f"/promotions/{automatic['id']}/codes", {"code": f"{target.run_id}-auto"})
    expect_refusal(checks, response, "a code on an AUTOMATIC promotion", 422)


@pytest.mark.rule("PROMO-DATES")
def test_dates_are_echoed_and_end_before_start_is_refused(api, make, checks):
    start, end = "2030-01-01T00:00:00+01:00", "2030-02-01T12:30:00Z"
    promotion = make.promotion(start_date=start, end_date=end)
    checks.must((promotion.get("start_date"), promotion.get("end_date")) == (start, end),
                f"dates are echoed as given: {promotion.get('start_date')!r}, {promotion.get('end_date')!r}")
    before = promotion_total(api)
    response = api.post("/promotions", promotion_body(make, start_date=end, end_date=start))
    expect_refusal(checks, response, "an end before the start", 422)
    checks.must(promotion_total(api) == before, "the refused promotion was created")
    response = api.put(f"/promotions/{promotion['id']}", {"end_date": "2029-12-31T00:00:00Z"})
    expect_refusal(checks, response, "a PUT moving the end before the start", 422)
