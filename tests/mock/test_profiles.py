"""Shopper profiles and customers: BEHAVIOR.md sections 1 (operations 8-10), 2, 6 and 7."""

from __future__ import annotations

import json


def profile_ids(api):
    return [p["id"] for p in api.get("/shopper-profiles?limit=250").json()["data"]]


def test_create_profile_for_registered_customers(api, make):
    c1, c2 = make.customers(2)
    response = api.post("/shopper-profiles", json=[{"customer_id": c2["id"]}, {"customer_id": c1["id"]}])
    assert response.status_code == 201
    body = response.json()
    assert body["meta"] == {}
    assert [p["customer_id"] for p in body["data"]] == [c2["id"], c1["id"]]
    assert all(p["created_at"] == p["updated_at"] for p in body["data"])
    assert profile_ids(api) == [p["id"] for p in body["data"]]


def test_one_profile_per_customer(api, make):
    c1, c2 = make.customers(2)
    api.post("/shopper-profiles", json=[{"customer_id": c1["id"]}])
    again = api.post("/shopper-profiles", json=[{"customer_id": c2["id"]}, {"customer_id": c1["id"]}])
    assert again.status_code == 409
    assert list(again.json()["errors"]) == ["1"]
    twice = api.post("/shopper-profiles", json=[{"customer_id": c2["id"]}, {"customer_id": c2["id"]}])
    assert twice.status_code == 409 and list(twice.json()["errors"]) == ["1"]
    assert len(profile_ids(api)) == 1


def test_unknown_customers_are_422_and_nothing_is_created(api, make):
    [customer] = make.customers(1)
    response = api.post("/shopper-profiles", json=[{"customer_id": customer["id"]}, {"customer_id": 999999}])
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["1"]
    assert profile_ids(api) == []


def test_guests_and_non_integers_cannot_have_profiles(api):
    for raw in ('[{"customer_id": 0}]', '[{"customer_id": -1}]', '[{"customer_id": "123"}]', '[{"customer_id": 12.0}]',
                '[{"customer_id": 1e2}]', '[{"customer_id": 2147483648}]', '[{"customer_id": null}]', "[{}]", "[]", "{}"):
        response = api.post("/shopper-profiles", data=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, raw
        assert response.json()["errors"], raw


def test_delete_profiles_by_id_or_all_keeps_customers(api, make):
    p1, p2, p3 = make.profiles(3)
    assert api.delete(f"/shopper-profiles?id:in={p1['id']}&id:in={p3['id']}").status_code == 204
    assert profile_ids(api) == [p2["id"]]
    assert api.delete("/shopper-profiles?id:in=").status_code == 204
    assert profile_ids(api) == [p2["id"]]
    assert api.delete("/shopper-profiles").status_code == 204
    assert profile_ids(api) == []
    assert len(api.get("/customers").json()["data"]) == 3


def test_customers_get_ascending_ids_and_default_group(api):
    body = [
        {"email": "a@example.com", "first_name": "A", "last_name": "One"},
        {"email": "b@example.com", "first_name": "B", "last_name": "Two", "customer_group_id": 4},
    ]
    response = api.post("/customers", json=body)
    assert response.status_code == 200
    created = response.json()["data"]
    assert response.json()["meta"] == {}
    assert created[1]["id"] == created[0]["id"] + 1
    assert [c["customer_group_id"] for c in created] == [0, 4]
    assert created[0]["date_created"] == created[0]["date_modified"] == "2024-01-01T00:00:00Z"
    later = api.post("/customers", json=[{"email": "c@example.com", "first_name": "C", "last_name": "Three"}])
    assert later.json()["data"][0]["id"] == created[1]["id"] + 1


def test_customer_ids_are_not_reused_after_delete(api, make):
    [customer] = make.customers(1)
    api.delete(f"/customers?id:in={customer['id']}")
    [after] = make.customers(1)
    assert after["id"] > customer["id"]


def test_email_used_is_422_case_insensitive_in_store_and_batch(api, make):
    [customer] = make.customers(1)
    response = api.post(
        "/customers",
        json=[
            {"email": customer["email"].upper(), "first_name": "X", "last_name": "Y"},
            {"email": "new@example.com", "first_name": "X", "last_name": "Y"},
            {"email": "NEW@example.com", "first_name": "X", "last_name": "Y"},
        ],
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"0", "2"}
    assert len(api.get("/customers").json()["data"]) == 1


def test_customer_shape_errors_are_400(api):
    good = {"email": "a@b.c", "first_name": "A", "last_name": "B"}
    for change in ({"email": "ab.c"}, {"email": "a @b.c"}, {"email": "a@b@c"}, {"email": "@b"}, {"first_name": ""},
                   {"last_name": "  "}, {"customer_group_id": -1}, {"customer_group_id": "1"}):
        assert api.post("/customers", json=[{**good, **change}]).status_code == 400, change
    assert api.post("/customers", json=[{"email": "a@b.c", "first_name": "A"}]).status_code == 400


def test_include_adds_profile_and_segments_only_when_asked(api, make):
    c1, c2 = make.customers(2)
    [profile] = api.post("/shopper-profiles", json=[{"customer_id": c1["id"]}]).json()["data"]
    s1, s2 = make.segments(2)
    make.add(s2, profile)
    make.add(s1, profile)
    plain = api.get("/customers").json()["data"]
    assert all("shopper_profile_id" not in c and "segment_ids" not in c for c in plain)
    both = api.get("/customers?include=segment_ids,shopper_profile_id,bogus").json()["data"]
    assert both[0]["shopper_profile_id"] == profile["id"] and both[0]["segment_ids"] == [s1["id"], s2["id"]]
    assert both[1]["shopper_profile_id"] is None and both[1]["segment_ids"] == []
    only = api.get("/customers?include=shopper_profile_id").json()["data"]
    assert "segment_ids" not in only[0] and only[0]["shopper_profile_id"] == profile["id"]


def test_customer_id_filter(api, make):
    c1, c2, c3 = make.customers(3)
    ids = lambda q: [c["id"] for c in api.get("/customers" + q).json()["data"]]
    assert ids(f"?id:in={c3['id']},abc,%200{c1['id']}%20") == [c1["id"], c3["id"]]
    assert ids(f"?id:in={c2['id']}&id:in={c1['id']}") == [c1["id"], c2["id"]]
    assert ids("?id:in=") == []
    for bad in ("0", "2147483648", "99999999999"):
        assert api.get(f"/customers?id:in={bad}").status_code == 400, bad
    assert api.get(f"/customers?id:in={c1['id']}&id:in=0").status_code == 400


def test_delete_customers_needs_id_in_and_cascades(api, make):
    c1, c2 = make.customers(2)
    [p1] = api.post("/shopper-profiles", json=[{"customer_id": c1["id"]}]).json()["data"]
    segment = make.segment()
    make.add(segment, p1)
    assert api.delete("/customers").status_code == 400
    assert api.delete("/customers?id:in=").status_code == 204
    assert len(api.get("/customers").json()["data"]) == 2
    assert api.delete(f"/customers?id:in={c1['id']},nonsense").status_code == 204
    assert [c["id"] for c in api.get("/customers").json()["data"]] == [c2["id"]]
    assert profile_ids(api) == []
    assert api.get(f"/segments/{segment['id']}/shopper-profiles").json()["data"] == []


def test_a_guest_has_no_profile_even_through_json_tricks(api):
    raw = json.dumps([{"customer_id": 0}])
    assert api.post("/shopper-profiles", data=raw, headers={"Content-Type": "application/json"}).status_code == 400
