"""Shopper profiles in segments: BEHAVIOR.md sections 1 (operations 5-7, 11), 2, 5 and 6."""

from __future__ import annotations

MISSING = "00000000-0000-4000-8000-000000000000"


def member_ids(api, segment):
    response = api.get(f"/segments/{segment['id']}/shopper-profiles?limit=250")
    assert response.status_code == 200
    return [p["id"] for p in response.json()["data"]]


def segment_ids(api, profile):
    response = api.get(f"/shopper-profiles/{profile['id']}/segments?limit=250")
    assert response.status_code == 200
    return [s["id"] for s in response.json()["data"]]


def test_add_answers_201_with_full_profiles_bumped_and_no_meta(api, make, mock):
    segment = make.segment()
    first, second = make.profiles(2)
    mock.clock.advance(90)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", json=[second["id"], first["id"]])
    assert response.status_code == 201
    body = response.json()
    assert "meta" not in body
    assert [p["id"] for p in body["data"]] == [second["id"], first["id"]]
    for before, after in zip((second, first), body["data"]):
        assert after["customer_id"] == before["customer_id"]
        assert after["created_at"] == before["created_at"]
        assert after["updated_at"] == "2024-01-01T00:01:30Z"
    listed = api.get("/shopper-profiles").json()["data"]
    assert {p["updated_at"] for p in listed} == {"2024-01-01T00:01:30Z"}


def test_members_list_in_profile_creation_order_not_membership_order(api, make):
    segment = make.segment()
    a, b, c = make.profiles(3)
    make.add(segment, c)
    make.add(segment, a, b)
    assert member_ids(api, segment) == [a["id"], b["id"], c["id"]]


def test_profile_segments_list_in_segment_creation_order(api, make):
    s1, s2, s3 = make.segments(3)
    profile = make.profile()
    for segment in (s3, s1, s2):
        make.add(segment, profile)
    assert segment_ids(api, profile) == [s1["id"], s2["id"], s3["id"]]


def test_many_to_many(api, make):
    s1, s2 = make.segments(2)
    p1, p2 = make.profiles(2)
    make.add(s1, p1, p2)
    make.add(s2, p1)
    assert member_ids(api, s1) == [p1["id"], p2["id"]]
    assert member_ids(api, s2) == [p1["id"]]
    assert segment_ids(api, p1) == [s1["id"], s2["id"]]
    assert segment_ids(api, p2) == [s1["id"]]


def test_already_member_is_a_batch_conflict_and_adds_nothing(api, make):
    segment = make.segment()
    p1, p2, p3 = make.profiles(3)
    make.add(segment, p2)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", json=[p1["id"], p2["id"], p3["id"]])
    assert response.status_code == 409
    body = response.json()
    assert body["data"] == [] and body["meta"] == {"total": 3, "success": 0, "failed": 1}
    [entry] = body["errors"]
    assert entry["status"] == 409
    assert entry["title"] == "Unable to add shopper profiles to segment due to conflicts."
    assert entry["errors"] == {"1": f"Shopper profile `{p2['id']}` already exists for segment `{segment['id']}`."}
    assert member_ids(api, segment) == [p2["id"]]


def test_unknown_profiles_are_422_and_outrank_conflicts(api, make):
    segment = make.segment()
    profile = make.profile()
    make.add(segment, profile)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", json=[profile["id"], MISSING, profile["id"].upper()])
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"1", "2"}
    assert member_ids(api, segment) == [profile["id"]]


def test_add_to_unknown_segment_is_404(api, make):
    profile = make.profile()
    for segment_id in (MISSING, make.segment()["id"].upper()):
        response = api.post(f"/segments/{segment_id}/shopper-profiles", json=[profile["id"]])
        assert response.status_code == 404
        assert "segmentId" in response.json()["errors"]


def test_add_request_shape_errors_are_400(api, make):
    segment = make.segment()
    profile = make.profile()
    url = f"/segments/{segment['id']}/shopper-profiles"
    fifty_one = [f"00000000-0000-4000-8000-{i:012d}" for i in range(51)]
    for body in ([], fifty_one, [profile["id"], profile["id"]], ["not-a-uuid"], [None], {"id": profile["id"]}):
        assert api.post(url, json=body).status_code == 400, body
    assert api.post("/segments/not-a-uuid/shopper-profiles", json=[profile["id"]]).status_code == 400
    assert member_ids(api, segment) == []


def test_fifty_is_the_most_per_request(api, make):
    segment = make.segment()
    profiles = make.profiles(50)
    assert api.post(f"/segments/{segment['id']}/shopper-profiles", json=[p["id"] for p in profiles]).status_code == 201
    assert len(member_ids(api, segment)) == 50


def test_listing_a_segments_profiles_needs_the_modify_scope(api, readonly, make):
    segment = make.segment()
    assert readonly.get(f"/segments/{segment['id']}/shopper-profiles").status_code == 403
    assert api.get(f"/segments/{segment['id']}/shopper-profiles").status_code == 200
    assert api.get(f"/segments/{MISSING}/shopper-profiles").status_code == 404


def test_remove_keeps_profiles_and_their_other_segments(api, make, mock):
    s1, s2 = make.segments(2)
    p1, p2 = make.profiles(2)
    make.add(s1, p1, p2)
    make.add(s2, p1)
    mock.clock.advance(30)
    response = api.delete(f"/segments/{s1['id']}/shopper-profiles?id:in={p1['id']},{MISSING}")
    assert response.status_code == 204 and response.content == b""
    assert member_ids(api, s1) == [p2["id"]]
    assert segment_ids(api, p1) == [s2["id"]]
    profiles = {p["id"]: p for p in api.get("/shopper-profiles").json()["data"]}
    assert set(profiles) == {p1["id"], p2["id"]}
    assert profiles[p1["id"]]["updated_at"] == "2024-01-01T00:00:30Z"  # removal bumps (CHOICE)
    assert profiles[p2["id"]]["updated_at"] == "2024-01-01T00:00:00Z"


def test_remove_with_empty_id_in_removes_nothing_and_absent_empties(api, make):
    segment = make.segment()
    profiles = make.profiles(2)
    make.add(segment, *profiles)
    assert api.delete(f"/segments/{segment['id']}/shopper-profiles?id:in=").status_code == 204
    assert len(member_ids(api, segment)) == 2
    assert api.delete(f"/segments/{segment['id']}/shopper-profiles?id:in={profiles[0]['id'].upper()}").status_code == 204
    assert len(member_ids(api, segment)) == 2
    assert api.delete(f"/segments/{segment['id']}/shopper-profiles").status_code == 204
    assert member_ids(api, segment) == []
    assert len(api.get("/shopper-profiles").json()["data"]) == 2


def test_remove_from_unknown_segment_is_404(api):
    assert api.delete(f"/segments/{MISSING}/shopper-profiles?id:in={MISSING}").status_code == 404
    assert api.delete("/segments/42/shopper-profiles").status_code == 400


def test_deleting_a_profile_removes_it_from_every_segment(api, make):
    s1, s2 = make.segments(2)
    p1, p2 = make.profiles(2)
    make.add(s1, p1, p2)
    make.add(s2, p1)
    assert api.delete(f"/shopper-profiles?id:in={p1['id']}").status_code == 204
    assert member_ids(api, s1) == [p2["id"]]
    assert member_ids(api, s2) == []
    assert api.get(f"/shopper-profiles/{p1['id']}/segments").status_code == 404


def test_deleting_a_segment_leaves_its_profiles_unassociated(api, make):
    s1, s2 = make.segments(2)
    profile = make.profile()
    make.add(s1, profile)
    make.add(s2, profile)
    api.delete(f"/segments?id:in={s1['id']}")
    assert segment_ids(api, profile) == [s2["id"]]
    assert api.get(f"/segments/{s1['id']}/shopper-profiles").status_code == 404


def test_profile_segments_of_unknown_or_malformed_profile(api, make):
    profile = make.profile()
    assert api.get(f"/shopper-profiles/{MISSING}/segments").status_code == 404
    assert api.get(f"/shopper-profiles/{profile['id'].upper()}/segments").status_code == 404
    assert api.get("/shopper-profiles/xyz/segments").status_code == 400
