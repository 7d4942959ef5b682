"""The Promotions slice (BEHAVIOR.md 9.1, 9.2) over HTTP, both backends."""

from __future__ import annotations

import pytest

RULES = [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}]
MISSING = "00000000-0000-4000-8000-000000000000"


def error_of(response):
    """The v3 envelope inside the Promotions reference's error shape: `{"errors": [envelope]}`."""
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    return body["errors"][0]


def create(api, expect=201, **fields):
    body = {"name": "Promo", "redemption_type": "AUTOMATIC", "rules": RULES, **fields}
    response = api.post("/promotions", json=body)
    assert response.status_code == expect, response.text
    return response.json()["data"] if expect == 201 else error_of(response)


def test_create_fills_the_defaults_and_echoes_what_was_given(api):
    promotion = create(api, start_date="2025-01-01T00:00:00+01:00")
    assert promotion["id"] == 1 and promotion["status"] == "ENABLED" and promotion["rules"] == RULES
    # No segment condition and no end: both left out, never null (the reference's types are not nullable).
    assert promotion["customer"] == {"group_ids": [], "excluded_group_ids": [], "minimum_order_count": 0}
    assert promotion["start_date"] == "2025-01-01T00:00:00+01:00" and "end_date" not in promotion
    ended = api.put("/promotions/1", json={"end_date": "2026-01-01T00:00:00Z"}).json()["data"]
    assert ended["end_date"] == "2026-01-01T00:00:00Z"
    assert "end_date" not in api.put("/promotions/1", json={"end_date": None}).json()["data"]
    assert promotion["current_uses"] == 0 and promotion["created_from"] == "api"
    assert api.get("/promotions/1").json() == {"data": promotion, "meta": {}}


def test_every_operator_is_stored_as_given(api, make):
    a, b = (s["id"] for s in make.segments(2))
    expression = {"and": [{"or": [{"id": [a, a]}, {"id": [b]}]}, {"not": {"id": [b]}}]}
    assert create(api, customer={"segments": expression})["customer"]["segments"] == expression


@pytest.mark.parametrize(
    "expression",
    [
        {"not": {"not": {"not": {"id": [MISSING]}}}},
        {"and": [{"id": [MISSING]}]},
        {"or": []},
        {"id": []},
        {"id": ["not-a-uuid"]},
        {"id": [MISSING], "not": {"id": [MISSING]}},
        {"xor": [{"id": [MISSING]}, {"id": [MISSING]}]},
        {"and": [{"or": [{"not": {"id": [MISSING]}}, {"id": [MISSING]}]}, {"id": [MISSING]}]},
    ],
)
def test_grammar_errors_are_400(api, expression):
    assert create(api, expect=400, customer={"segments": expression})["status"] == 400
    assert api.get("/promotions").json()["data"] == []


def test_unprocessable_promotions_are_422_and_not_created(api, make):
    segment = make.segment()
    cases = [
        {"customer": {"segments": {"id": [segment["id"], MISSING]}}},
        {"customer": {"segments": {"id": [segment["id"].upper()]}}},
        {"customer": {"group_ids": [1], "excluded_group_ids": [2]}},
        {"codes": {"code": "AUTO"}},
        {"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-31T20:00:00-02:00"},  # 22:00 UTC: before
    ]
    for fields in cases:
        assert create(api, expect=422, **fields)["status"] == 422, fields
    assert api.get("/promotions").json()["data"] == []
    # 23:00 at -02:00 is 01:00 UTC the next day: after the start, so fine (dates compare as instants)
    create(api, start_date="2025-02-01T00:00:00Z", end_date="2025-01-31T23:00:00-02:00")


def test_list_filters_and_pages(api):
    ids = [create(api, name=f"p{i}", redemption_type=kind)["id"] for i, kind in enumerate(["AUTOMATIC", "COUPON", "COUPON"])]
    assert [p["id"] for p in api.get("/promotions?redemption_type=COUPON").json()["data"]] == ids[1:]
    assert [p["id"] for p in api.get(f"/promotions?id:in={ids[2]},{ids[0]},x").json()["data"]] == [ids[0], ids[2]]
    assert api.get("/promotions?limit=2&page=2").json()["meta"]["pagination"]["total_pages"] == 2
    assert api.get("/promotions?redemption_type=FREE").status_code == 400


def test_update_changes_given_fields_and_replaces_customer_whole(api, make):
    segment = make.segment()
    promotion = create(api, customer={"group_ids": [2], "segments": {"id": [segment["id"]]}})
    response = api.put(f"/promotions/{promotion['id']}", json={"status": "DISABLED", "customer": {"minimum_order_count": 3}})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert updated["status"] == "DISABLED" and updated["name"] == promotion["name"]
    assert updated["customer"] == {"group_ids": [], "excluded_group_ids": [], "minimum_order_count": 3}
    assert api.put(f"/promotions/{promotion['id']}", json={"redemption_type": "COUPON"}).status_code == 422
    assert api.put(f"/promotions/{promotion['id']}", json={}).json()["data"] == updated
    assert api.put("/promotions/999", json={}).status_code == 404


def test_codes_only_for_coupons_unique_case_insensitively(api):
    coupon = create(api, redemption_type="COUPON", codes={"code": "SAVE10", "max_uses": 5})
    automatic = create(api, name="auto")
    response = api.post(f"/promotions/{coupon['id']}/codes", json={"code": "MORE"})
    assert response.status_code == 201
    assert response.json()["data"] == {"id": 2, "code": "MORE", "max_uses": 0, "max_uses_per_customer": 0, "current_uses": 0,
                                       "created": "2024-01-01T00:00:00+00:00"}
    assert api.post(f"/promotions/{coupon['id']}/codes", json={"code": "save10"}).status_code == 409
    assert create(api, expect=409, name="again", redemption_type="COUPON", codes={"code": "more"})["status"] == 409
    assert api.post(f"/promotions/{automatic['id']}/codes", json={"code": "NEW"}).status_code == 422
    assert api.post("/promotions/999/codes", json={"code": "NEW"}).status_code == 404
    for bad in ({"code": ""}, {"code": "x" * 51}, {"code": "X", "max_uses": -1}, {}):
        assert api.post(f"/promotions/{coupon['id']}/codes", json=bad).status_code == 400, bad


def test_deletes(api):
    ids = [create(api, name=f"p{i}")["id"] for i in range(3)]
    assert api.delete("/promotions").status_code == 422  # absent id:in deletes nothing
    assert api.delete("/promotions?ids=1").status_code == 422
    assert len(api.get("/promotions").json()["data"]) == 3
    assert api.delete("/promotions?id:in=").status_code == 204
    assert api.delete(f"/promotions?id:in={ids[0]}").status_code == 204
    assert api.delete(f"/promotions/{ids[1]}").status_code == 204
    assert api.delete(f"/promotions/{ids[1]}").status_code == 404
    assert [p["id"] for p in api.get("/promotions").json()["data"]] == [ids[2]]


def test_deleting_a_targeted_segment_leaves_the_promotion(api, make):
    segment = make.segment()
    promotion = create(api, customer={"segments": {"not": {"id": [segment["id"]]}}})
    api.delete(f"/segments?id:in={segment['id']}")
    assert api.get(f"/promotions/{promotion['id']}").json()["data"]["customer"]["segments"] == {"not": {"id": [segment["id"]]}}
    assert api.put(f"/promotions/{promotion['id']}", json={"status": "DISABLED"}).status_code == 200


def test_scopes_and_ids(api, readonly):
    promotion = create(api)
    assert readonly.get(f"/promotions/{promotion['id']}").status_code == 200
    assert readonly.get("/promotions").status_code == 200
    assert readonly.put(f"/promotions/{promotion['id']}", json={}).status_code == 403
    assert readonly.post("/promotions", json={"name": "n", "redemption_type": "AUTOMATIC", "rules": RULES}).status_code == 403
    for bad in ("0", "abc", "99999999999", "1.5"):
        assert api.get(f"/promotions/{bad}").status_code == 400, bad
    assert api.get("/promotions/424242").status_code == 404
    assert api.request("PATCH", f"/promotions/{promotion['id']}").headers["Allow"] == "GET, PUT, DELETE"


def test_unknown_promotion_fields_are_ignored(api):
    promotion = create(api, coupon_overrides_automatic=True, notifications=[])
    assert "coupon_overrides_automatic" not in promotion


# which promotions apply (BEHAVIOR 9.3), through the control plane

import requests  # noqa: E402


def applies(mock, customer_id, code=None):
    response = requests.post(f"{mock.url}/_mock/stores/store1/eligibility", json={"customer_id": customer_id, "code": code}, timeout=30)
    assert response.status_code == 200, response.text
    return {item["id"]: item.get("reason", "applies") for item in response.json()["data"]}


def test_faq_scenario_and_moving_profiles(mock, api, make):
    vip, lapsed = make.segments(2)
    signed_in, other = make.profiles(2)
    make.add(vip, signed_in)
    auto = create(api, name="auto", customer={"segments": {"id": [vip["id"]]}})["id"]
    coupon = create(api, name="coupon", redemption_type="COUPON", codes={"code": "VIP10", "max_uses": 2},
                    customer={"segments": {"id": [vip["id"]]}})["id"]
    not_lapsed = create(api, name="not lapsed", customer={"segments": {"not": {"id": [lapsed["id"]]}}})["id"]
    me = signed_in["customer_id"]
    assert applies(mock, me) == {auto: "applies", coupon: "coupon_required", not_lapsed: "applies"}
    assert applies(mock, me, "vip10")[coupon] == "applies"
    assert applies(mock, me, "OTHER")[coupon] == "coupon_invalid"
    assert applies(mock, None) == {auto: "guest_not_targetable", coupon: "guest_not_targetable", not_lapsed: "guest_not_targetable"}
    assert applies(mock, 0) == applies(mock, None)
    assert applies(mock, other["customer_id"])[auto] == "not_in_segment"
    # move the profile from VIP to Lapsed: the answers follow
    api.delete(f"/segments/{vip['id']}/shopper-profiles?id:in={signed_in['id']}")
    make.add(lapsed, signed_in)
    assert applies(mock, me) == {auto: "not_in_segment", coupon: "not_in_segment", not_lapsed: "not_in_segment"}
    # deleting Lapsed: {"not": {"id": [gone]}} is true again, {"id": [gone]} false
    api.delete(f"/segments?id:in={lapsed['id']},{vip['id']}")
    assert applies(mock, me) == {auto: "not_in_segment", coupon: "not_in_segment", not_lapsed: "applies"}


def test_order_counts_code_uses_groups_and_dates(mock, api, make):
    [customer] = make.customers(1)
    cid = customer["id"]
    loyal = create(api, name="loyal", customer={"minimum_order_count": 3})["id"]
    grouped = create(api, name="grouped", customer={"group_ids": [0]})["id"]
    later = create(api, name="later", start_date="2030-01-01T00:00:00Z")["id"]
    over = create(api, name="over", start_date="2019-01-01T00:00:00Z", end_date="2020-01-01T00:00:00+02:00")["id"]
    off = create(api, name="off", status="DISABLED")["id"]
    limited = create(api, name="limited", redemption_type="COUPON", codes={"code": "ONCE", "max_uses": 1})["id"]
    answers = applies(mock, cid, "once")
    assert answers == {loyal: "min_orders", grouped: "applies", later: "not_started", over: "expired", off: "disabled", limited: "applies"}
    assert requests.put(f"{mock.url}/_mock/stores/store1/customers/{cid}/order-count", json={"order_count": 3}, timeout=30).status_code == 200
    assert requests.put(f"{mock.url}/_mock/stores/store1/promotions/{limited}/codes/ONCE/uses", json={"current_uses": 1}, timeout=30).status_code == 200
    answers = applies(mock, cid, "ONCE")
    assert answers[loyal] == "applies" and answers[limited] == "max_uses_reached"
    assert requests.post(f"{mock.url}/_mock/stores/store1/eligibility", json={"customer_id": 999}, timeout=30).status_code == 404
    assert requests.post(f"{mock.url}/_mock/stores/store1/eligibility", json={"customer_id": "1"}, timeout=30).status_code == 400
    assert requests.put(f"{mock.url}/_mock/stores/store1/customers/999/order-count", json={"order_count": 1}, timeout=30).status_code == 404
    assert requests.put(f"{mock.url}/_mock/stores/store1/promotions/{limited}/codes/NOPE/uses", json={"current_uses": 1}, timeout=30).status_code == 404


SCENARIO = {
    "stores": [
        {
            "store_hash": "store1",
            "customers": [
                {"id": 1, "email": "member@example.com", "first_name": "M", "last_name": "E"},
                {"id": 2, "email": "outsider@example.com", "first_name": "O", "last_name": "U", "customer_group_id": 4},
            ],
            "shopper_profiles": [{"id": "11111111-1111-4111-8111-111111111111", "customer_id": 1}],
            "segments": [{"id": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "name": "VIP",
                          "shopper_profile_ids": ["11111111-1111-4111-8111-111111111111"]}],
            "promotions": [
                {"name": "VIP auto", "redemption_type": "AUTOMATIC", "rules": [{"action": {}}],
                 "customer": {"segments": {"id": ["aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"]}}},
                {"id": 7, "name": "VIP coupon", "redemption_type": "COUPON", "rules": [{"action": {}}],
                 "customer": {"segments": {"id": ["aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"]}, "minimum_order_count": 2},
                 "codes": [{"code": "VIP10", "max_uses": 3, "current_uses": 1}]},
            ],
            "order_counts": [{"customer_id": 1, "order_count": 2}],
        }
    ]
}


def test_a_whole_targeting_scenario_seeds_from_one_fixture_and_round_trips(mock, api):
    assert requests.post(f"{mock.url}/_mock/seed", json=SCENARIO, timeout=30).status_code == 200
    assert applies(mock, 1, "vip10") == {1: "applies", 7: "applies"}
    assert applies(mock, 2) == {1: "not_in_segment", 7: "min_orders"}  # checked before the segments
    assert create(api, name="next")["id"] == 8  # IDs continue after the fixture's
    snapshot = requests.get(f"{mock.url}/_mock/snapshot?store_hash=store1", timeout=30).json()
    [store] = snapshot["stores"]
    assert store["order_counts"] == [{"customer_id": 1, "order_count": 2}]
    assert store["promotions"][1]["codes"] == [{"id": 1, "code": "VIP10", "max_uses": 3, "current_uses": 1}]
    api.delete("/promotions?id:in=1")
    assert requests.post(f"{mock.url}/_mock/seed", json=snapshot, timeout=30).status_code == 200
    assert requests.get(f"{mock.url}/_mock/snapshot?store_hash=store1", timeout=30).json() == snapshot


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s["promotions"][0].update(customer={"segments": {"id": ["bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"]}}), "promotions[0].customer.segments"),
        (lambda s: s["promotions"][0].update(customer={"segments": {"and": [{"id": ["aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"]}]}}), "promotions[0].customer.segments.and"),
        (lambda s: s["promotions"][0].update(codes=[{"code": "X"}]), "promotions[0].codes[0]"),
        (lambda s: s["promotions"][1]["codes"].append({"code": "vip10"}), "promotions[1].codes[1].code"),
        (lambda s: s["promotions"][0].update(start_date="soon"), "promotions[0].start_date"),
        (lambda s: s["order_counts"].append({"customer_id": 9, "order_count": 1}), "order_counts[1].customer_id"),
    ],
)
def test_fixture_promotions_are_checked(mock, change, where):
    import copy

    fixture = copy.deepcopy(SCENARIO)
    change(fixture["stores"][0])
    response = requests.post(f"{mock.url}/_mock/seed", json=fixture, timeout=30)
    assert response.status_code == 400 and f"stores[0].{where}" in response.json()["errors"], response.text


def test_each_operator_decides_eligibility_over_http(mock, api, make):
    a, b = make.segments(2)
    in_a, in_both, in_none = make.profiles(3)
    make.add(a, in_a, in_both)
    make.add(b, in_both)
    expressions = {
        "any": {"id": [a["id"], b["id"]]},
        "neither": {"not": {"id": [a["id"], b["id"]]}},
        "both": {"and": [{"id": [a["id"]]}, {"id": [b["id"]]}]},
        "either": {"or": [{"id": [b["id"]]}, {"not": {"id": [a["id"]]}}]},
        "deep": {"and": [{"or": [{"id": [a["id"]]}, {"id": [b["id"]]}]}, {"not": {"id": [b["id"]]}}]},
    }
    ids = {name: create(api, name=name, customer={"segments": e})["id"] for name, e in expressions.items()}
    expected = {  # shopper -> which promotions apply
        in_a["customer_id"]: {"any", "deep"},
        in_both["customer_id"]: {"any", "both", "either"},
        in_none["customer_id"]: {"neither", "either"},
    }
    for customer_id, names in expected.items():
        answers = applies(mock, customer_id)
        assert {name for name, pid in ids.items() if answers[pid] == "applies"} == names, customer_id
        assert {answers[pid] for name, pid in ids.items() if name not in names} <= {"not_in_segment"}


def test_every_answer_carries_the_platforms_required_properties_at_its_defaults(api):
    automatic = create(api)
    assert {k: automatic[k] for k in ("channels", "notifications", "stop", "currency_code", "can_be_used_with_other_promotions",
                                      "max_uses")} == {"channels": [], "notifications": [], "stop": False, "currency_code": "*",
                                                       "can_be_used_with_other_promotions": True, "max_uses": 0}
    assert automatic["start_date"] == "2024-01-01T00:00:00+00:00"  # the creation instant, as on the platform
    assert "coupon_type" not in automatic
    coupon = create(api, name="c", redemption_type="COUPON")
    assert (coupon["coupon_type"], coupon["coupon_overrides_automatic_when_offering_higher_discounts"]) == ("SINGLE", False)
    given = {"display_name": "Ten off", "channels": [{"id": 2}], "notifications": [{"type": "UPSELL", "content": "Hi"}],
             "stop": True, "currency_code": "USD", "can_be_used_with_other_promotions": False, "max_uses": 9,
             "schedule": {"week_days": ["Monday"]}, "shipping_address": {"countries": [{"iso2_country_code": "US"}]},
             "coupon_type": "BULK", "coupon_overrides_automatic_when_offering_higher_discounts": True}
    echoed = create(api, name="given", redemption_type="COUPON", **given)
    assert {k: echoed[k] for k in given} == given
    assert api.put(f"/promotions/{echoed['id']}", json={"currency_code": "EUR"}).json()["data"]["currency_code"] == "EUR"


@pytest.mark.parametrize("fields, key", [
    ({"coupon_type": "SINGLE"}, "coupon_type"),
    ({"coupon_overrides_automatic_when_offering_higher_discounts": False}, "coupon_overrides_automatic_when_offering_higher_discounts"),
    ({"redemption_type": "COUPON", "coupon_overrides_automatic_when_offering_higher_discounts": True},
     "coupon_overrides_automatic_when_offering_higher_discounts"),
])
def test_coupon_only_properties_are_refused_where_the_platform_refuses_them(api, fields, key):
    assert key in create(api, expect=422, **fields)["errors"]


def test_the_coupon_type_cannot_change(api):
    coupon = create(api, redemption_type="COUPON")
    response = api.put(f"/promotions/{coupon['id']}", json={"coupon_type": "BULK"})
    assert response.status_code == 422 and "coupon_type" in error_of(response)["errors"]
    assert api.put(f"/promotions/{coupon['id']}", json={"coupon_type": "SINGLE"}).status_code == 200


@pytest.mark.parametrize("query, expected", [
    ("redemption_type=coupon", [2, 3]),
    ("redemption_type=AUTOMATIC", [1]),
    ("id=2", [2]),
    ("id=2&id:in=1,3", []),
    ("name=spring SALE", [2]),
    ("code=save10", [2]),
    ("currency_code=usd", [3]),
    ("status=disabled", [3]),
    ("channels=1", [1, 2]),
    ("channels=2", [1, 3]),
    ("channels=1,2", [1, 2, 3]),
    ("query=sale", [2]),
    ("query=VIP", [3]),
    ("sort=name", [1, 2, 3]),
    ("sort=name&direction=desc", [3, 2, 1]),
    ("sort=start_date&direction=desc", [3, 1, 2]),
    ("sort=priority&direction=desc", [3, 2, 1]),
])
def test_get_promotions_filters_and_sort(api, query, expected):
    create(api, name="Autumn", start_date="2025-01-01T00:00:00Z")
    create(api, name="Spring sale", redemption_type="COUPON", codes={"code": "SAVE10"}, channels=[{"id": 1}],
           start_date="2024-06-01T00:00:00Z")
    create(api, name="Winter", redemption_type="COUPON", codes={"code": "VIP"}, channels=[{"id": 2}], currency_code="USD",
           status="DISABLED", start_date="2026-01-01T00:00:00+05:00")
    response = api.get(f"/promotions?{query}")
    assert response.status_code == 200, response.text
    assert [p["id"] for p in response.json()["data"]] == expected


def test_codes_carry_the_platforms_fields_filter_by_code_and_link_their_pages(api):
    coupon = create(api, redemption_type="COUPON", codes={"code": "ONE"})
    response = api.post(f"/promotions/{coupon['id']}/codes", json={"code": "Two", "max_uses": 3, "max_uses_per_customer": 1})
    assert response.json()["data"] == {"id": 2, "code": "Two", "max_uses": 3, "max_uses_per_customer": 1, "current_uses": 0,
                                       "created": "2024-01-01T00:00:00+00:00"}
    listed = api.get(f"/promotions/{coupon['id']}/codes?code=two&limit=1")
    assert [c["code"] for c in listed.json()["data"]] == ["Two"]
    assert listed.json()["meta"]["pagination"]["links"] == {"current": "?code=two&page=1&limit=1"}
    response = api.delete(f"/promotions/{coupon['id']}/codes?id:in=2&code=Two")
    assert response.status_code == 400 and "code" in error_of(response)["errors"]  # not served: refused, never ignored
    assert len(api.get(f"/promotions/{coupon['id']}/codes").json()["data"]) == 2
