"""Promotions that target segments (BEHAVIOR.md section 9): the DOC rules."""

from __future__ import annotations

import pytest


@pytest.mark.rule("PROMO-CREATE")
def test_promotion_targeting_a_segment_round_trips(api, make, checks):
    segment = make.segment()
    expression = {"or": [{"id": [segment["id"]]}, {"not": {"id": [segment["id"]]}}]}
    promotion = make.promotion(customer={"segments": expression})
    checks.must(promotion["customer"]["segments"] == expression, "the expression is stored as given")
    read = api.get(f"/promotions/{promotion['id']}")
    checks.must(read.status_code == 200 and read.json()["data"]["id"] == promotion["id"], f"read back: {read.status_code}")
    response = api.delete(f"/promotions/{promotion['id']}")
    checks.must(response.status_code == 204, f"delete: {response.status_code}")
    checks.must(api.get(f"/promotions/{promotion['id']}").status_code == 404, "gone after delete")


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
    segment = make.segment()
    body = {"name": make.name(), "redemption_type": "AUTOMATIC", "rules": [{"action": {}}], "customer": {"segments": build(segment["id"])}}
    response = api.post("/promotions", body)
    checks.must(400 <= response.status_code < 500, f"{why}: expected a 4xx, got {response.status_code}")
    checks.should(response.status_code == 400, f"{why}: BEHAVIOR's choice is 400; the target answered {response.status_code}")


@pytest.mark.rule("PROMO-UNKNOWN-SEGMENT")
def test_unknown_segment_is_refused(api, make, checks, guard):
    name = make.name()
    body = {"name": name, "redemption_type": "AUTOMATIC", "rules": [{"action": {}}], "customer": {"segments": {"id": [guard.fresh_uuid()]}}}
    response = api.post("/promotions", body)
    checks.must(400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}")
    checks.should(response.status_code == 422, f"BEHAVIOR's choice is 422; the target answered {response.status_code}")


@pytest.mark.rule("PROMO-GROUPS")
def test_both_group_lists_are_refused(api, make, checks):
    body = {"name": make.name(), "redemption_type": "AUTOMATIC", "rules": [{"action": {}}],
            "customer": {"group_ids": [1], "excluded_group_ids": [2]}}
    response = api.post("/promotions", body)
    checks.must(400 <= response.status_code < 500, f"expected a 4xx, got {response.status_code}")
    promotion = make.promotion(customer={"group_ids": [0, 1]})
    checks.must(promotion["customer"]["group_ids"] == [0, 1], "one non-empty list is fine")
