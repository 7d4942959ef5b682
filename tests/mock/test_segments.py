"""Segments: BEHAVIOR.md sections 1, 2, 5, 5.1, 5.2, 5.3 and 6, over HTTP, both backends."""

from __future__ import annotations

import re

LOWER_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def names(api, query=""):
    response = api.get("/segments?limit=250" + query)
    assert response.status_code == 200
    return [s["name"] for s in response.json()["data"]]


def test_create_answers_201_with_items_in_request_order(api):
    response = api.post("/segments", json=[{"name": "B", "description": "b"}, {"name": "A"}])
    assert response.status_code == 201
    body = response.json()
    assert body["meta"] == {}
    assert [s["name"] for s in body["data"]] == ["B", "A"]
    assert body["data"][1]["description"] == ""
    for segment in body["data"]:
        assert LOWER_V4.fullmatch(segment["id"])
        assert segment["created_at"] == segment["updated_at"] == "2024-01-01T00:00:00Z"


def test_list_is_oldest_first_and_filters_by_id(api, make):
    first, second, third = make.segments(3)
    assert names(api) == [first["name"], second["name"], third["name"]]
    assert names(api, f"&id:in={third['id']},{first['id']}") == [first["name"], third["name"]]
    assert names(api, f"&id:in={third['id']}&id:in={first['id']}") == [first["name"], third["name"]]
    assert names(api, f"&id:in=%20{second['id']}%20,,") == [second["name"]]


def test_id_filter_ignores_unknown_malformed_and_uppercase_ids(api, make):
    segment = make.segment()
    assert names(api, f"&id:in=nope,{segment['id'].upper()},00000000-0000-4000-8000-000000000000") == []
    assert names(api, "&id:in=") == []  # present but empty selects nothing
    assert names(api) == [segment["name"]]


def test_name_used_in_store_is_a_batch_conflict_and_nothing_is_created(api, make):
    taken = make.segment()["name"]
    response = api.post("/segments", json=[{"name": "fresh"}, {"name": taken}])
    assert response.status_code == 409
    assert response.json() == {
        "data": [],
        "errors": [
            {
                "status": 409,
                "title": "Cannot have multiple segments with the same name.",
                "type": response.json()["errors"][0]["type"],
                "errors": {"1": f"Segment name `{taken}` is already used."},
            }
        ],
        "meta": {"total": 2, "success": 0, "failed": 1},
    }
    assert names(api) == [taken]


def test_every_repeat_of_a_name_in_a_batch_fails_but_not_its_first_use(api):
    response = api.post("/segments", json=[{"name": "x"}, {"name": "y"}, {"name": "x"}, {"name": "x"}])
    assert response.status_code == 409
    entries = response.json()["errors"]
    assert [list(e["errors"]) for e in entries] == [["2"], ["3"]]
    assert response.json()["meta"] == {"total": 4, "success": 0, "failed": 2}
    assert names(api) == []


def test_names_compare_exactly(api):
    assert api.post("/segments", json=[{"name": "VIP"}, {"name": "vip"}, {"name": "VIP "}]).status_code == 201


def test_store_holds_at_most_1000_segments(api, make):
    for _ in range(9):
        make.segments(111)
    assert api.get("/segments").json()["meta"]["pagination"]["total"] == 999
    over = api.post("/segments", json=[{"name": "one"}, {"name": "two"}])
    assert over.status_code == 422
    assert over.json()["status"] == 422
    assert api.get("/segments").json()["meta"]["pagination"]["total"] == 999
    assert api.post("/segments", json=[{"name": "last"}]).status_code == 201
    assert api.post("/segments", json=[{"name": "too many"}]).status_code == 422
    assert api.get("/segments").json()["meta"]["pagination"]["total"] == 1000


def test_cap_outranks_name_conflict(api, make):
    for _ in range(10):
        make.segments(100)
    taken = api.get("/segments?limit=1").json()["data"][0]["name"]
    assert api.post("/segments", json=[{"name": taken}]).status_code == 422


def test_update_answers_201_and_moves_updated_at_only(api, make, mock):
    segment = make.segment(description="old")
    mock.clock.advance(60)
    response = api.put("/segments", json=[{"id": segment["id"], "description": "new"}])
    assert response.status_code == 201
    [updated] = response.json()["data"]
    assert response.json()["meta"] == {}
    assert updated["description"] == "new" and updated["name"] == segment["name"]
    assert updated["created_at"] == segment["created_at"]
    assert updated["updated_at"] == "2024-01-01T00:01:00Z"


def test_update_that_changes_nothing_leaves_updated_at(api, make, mock):
    segment = make.segment(description="same")
    mock.clock.advance(60)
    for item in ({"id": segment["id"]}, {"id": segment["id"], "name": segment["name"], "description": "same"}):
        [after] = api.put("/segments", json=[item]).json()["data"]
        assert after == segment


def test_update_of_unknown_ids_is_422_and_changes_nothing(api, make):
    segment = make.segment()
    response = api.put(
        "/segments",
        json=[{"id": segment["id"], "name": "renamed"}, {"id": "00000000-0000-4000-8000-000000000000", "name": "z"}],
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["1"]
    assert names(api) == [segment["name"]]


def test_uppercase_id_is_not_the_same_id(api, make):
    segment = make.segment()
    response = api.put("/segments", json=[{"id": segment["id"].upper(), "name": "renamed"}])
    assert response.status_code == 422


def test_same_id_twice_in_update_is_400(api, make):
    segment = make.segment()
    response = api.put("/segments", json=[{"id": segment["id"]}, {"id": segment["id"], "name": "n"}])
    assert response.status_code == 400
    assert "1.id" in response.json()["errors"]


def test_rename_to_a_name_another_segment_keeps_is_409(api, make):
    a, b = make.segments(2)
    response = api.put("/segments", json=[{"id": a["id"], "name": b["name"]}])
    assert response.status_code == 409
    body = response.json()
    assert body["title"] == "Cannot have multiple segments with the same name."
    assert body["errors"] == {"0": f"Segment name `{b['name']}` is already used."}
    assert names(api) == [a["name"], b["name"]]


def test_two_segments_may_swap_names_in_one_update(api, make):
    a, b = make.segments(2)
    response = api.put("/segments", json=[{"id": a["id"], "name": b["name"]}, {"id": b["id"], "name": a["name"]}])
    assert response.status_code == 201
    assert names(api) == [b["name"], a["name"]]


def test_every_item_whose_final_name_collides_is_named(api, make):
    a, b, c = make.segments(3)
    response = api.put(
        "/segments", json=[{"id": a["id"], "name": "same"}, {"id": b["id"]}, {"id": c["id"], "name": "same"}]
    )
    assert response.status_code == 409
    assert set(response.json()["errors"]) == {"0", "2"}
    kept = api.put("/segments", json=[{"id": a["id"], "name": b["name"]}, {"id": b["id"]}])
    assert kept.status_code == 409 and set(kept.json()["errors"]) == {"0", "1"}


def test_unknown_reference_outranks_conflict_in_update(api, make):
    a, b = make.segments(2)
    response = api.put(
        "/segments", json=[{"id": a["id"], "name": b["name"]}, {"id": "00000000-0000-4000-8000-000000000000"}]
    )
    assert response.status_code == 422


def test_delete_by_id_keeps_the_rest_and_the_profiles(api, make):
    a, b = make.segments(2)
    profile = make.profile()
    make.add(a, profile)
    assert api.delete(f"/segments?id:in={a['id']},not-a-uuid").status_code == 204
    assert names(api) == [b["name"]]
    assert api.get("/shopper-profiles").json()["data"][0]["id"] == profile["id"]
    assert api.get(f"/shopper-profiles/{profile['id']}/segments").json()["data"] == []


def test_delete_with_empty_or_unmatched_id_in_deletes_nothing(api, make):
    make.segments(2)
    for query in ("?id:in=", "?id:in=,,", "?id:in=garbage", "?id:in=%20"):
        response = api.delete("/segments" + query)
        assert response.status_code == 204 and response.content == b""
        assert len(names(api)) == 2


def test_delete_without_id_in_deletes_every_segment(api, make):
    make.segments(3)
    assert api.delete("/segments").status_code == 204
    assert names(api) == []


def test_misspelled_filter_is_an_unscoped_delete(api, make):
    segment = make.segment()
    assert api.delete(f"/segments?ids={segment['id']}").status_code == 204
    assert names(api) == []


def test_unicode_and_limit_length_names(api):
    response = api.post("/segments", json=[{"name": "Ünïcødé 🎯 客户"}, {"name": "x" * 255, "description": "d" * 1000}])
    assert response.status_code == 201
    assert response.json()["data"][0]["name"] == "Ünïcødé 🎯 客户"
    for bad in ({"name": "x" * 256}, {"name": ""}, {"name": "   "}, {"name": None}, {"name": 5}, {}, {"name": "n", "description": "d" * 1001}):
        assert api.post("/segments", json=[bad]).status_code == 400, bad
    assert names(api) == ["Ünïcødé 🎯 客户", "x" * 255]
