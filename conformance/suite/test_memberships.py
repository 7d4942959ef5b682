"""Shopper profiles and their segments: creation, memberships, cascades."""

from __future__ import annotations

import time

import pytest

from .helpers import expect_refusal, member_ids, profile_by_id, segment_ids_of
from .test_segments import ISSUED_ID, TIMESTAMP


@pytest.mark.rule("PROFILE-CREATE", "IDS", "TIMESTAMPS")
def test_create_profiles_for_customers(api, make, checks):
    customers = make.shoppers(2)
    response = api.post("/shopper-profiles", [{"customer_id": c["id"]} for c in customers])
    checks.must(response.status_code == 201, f"expected 201, got {response.status_code}")
    data = response.json()["data"]
    checks.must(sorted(p["customer_id"] for p in data) == sorted(c["id"] for c in customers), "one profile per customer")
    for profile in data:
        checks.must(ISSUED_ID.fullmatch(profile["id"]), f"profile id {profile['id']!r} is not a lowercase RFC 4122 UUID")
        checks.must(TIMESTAMP.fullmatch(profile["created_at"]), f"profile created_at {profile['created_at']!r}")
        checks.must(TIMESTAMP.fullmatch(profile["updated_at"]), f"profile updated_at {profile['updated_at']!r}")
        checks.must(profile["created_at"] == profile["updated_at"], "created_at == updated_at on creation")


@pytest.mark.rule("PROFILE-ONE-PER-CUSTOMER")
def test_second_profile_for_a_customer_is_refused(api, make, checks):
    profile = make.profile()
    response = api.post("/shopper-profiles", [{"customer_id": profile["customer_id"]}])
    checks.must(400 <= response.status_code < 500, f"a second profile must be refused, got {response.status_code}")
    checks.should(response.status_code == 409, f"BEHAVIOR's choice is 409; the target answered {response.status_code}")


@pytest.mark.rule("PROFILE-NO-GUESTS", "ERROR-STATUS")
def test_guest_cannot_have_a_profile(api, make, checks):
    [customer] = make.shoppers(1)
    twin = api.post("/shopper-profiles", [{"customer_id": customer["id"]}])
    checks.must(twin.status_code == 201, f"the positive twin: a registered customer's profile must be created, got {twin.status_code}")
    response = api.post("/shopper-profiles", [{"customer_id": 0}])
    expect_refusal(checks, response, "customer_id 0 (a guest)")


@pytest.mark.rule("MEMBER-ADD", "MEMBER-LISTS")
def test_add_answers_201_with_full_profiles(api, make, checks):
    segment = make.segment()
    p1, p2 = make.profiles(2)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", [p1["id"], p2["id"]])
    checks.must(response.status_code == 201, f"expected 201, got {response.status_code}")
    body = response.json()
    checks.must(body.get("meta", {}) == {}, f"meta absent or empty, got {body.get('meta')!r}")
    checks.must(sorted(p["id"] for p in body["data"]) == sorted([p1["id"], p2["id"]]), "the added profiles")
    checks.must(all("customer_id" in p and "created_at" in p for p in body["data"]), "full shopper profile objects")
    checks.must(sorted(member_ids(api, segment["id"])) == sorted([p1["id"], p2["id"]]), "the segment lists them")
    checks.must(segment_ids_of(api, p1["id"]) == [segment["id"]], "the profile lists the segment")


@pytest.mark.rule("MEMBER-ADD-BUMPS")
def test_adding_moves_updated_at(api, make, checks):
    segment = make.segment()
    profile = make.profile()
    time.sleep(1.1)  # timestamps have whole seconds
    [added] = make.add(segment, profile).json()["data"]
    checks.must(added["updated_at"] > profile["updated_at"], f"answered updated_at {added['updated_at']} after {profile['updated_at']}")
    stored = profile_by_id(api, profile["id"], segment["id"])
    checks.must(stored["updated_at"] > profile["updated_at"], f"listed updated_at {stored['updated_at']} after {profile['updated_at']}")


@pytest.mark.rule("MEMBER-REMOVE-BUMPS")
def test_removing_moves_updated_at(api, make, checks):
    segment, other = make.segments(2)
    profile = make.profile()
    make.add(segment, profile)
    make.add(other, profile)
    before = profile_by_id(api, profile["id"], other["id"])
    time.sleep(1.1)
    api.delete(f"/segments/{segment['id']}/shopper-profiles?id:in={profile['id']}")
    after = profile_by_id(api, profile["id"], other["id"])
    checks.should(after["updated_at"] > before["updated_at"], "removal from a segment SHOULD move updated_at (BEHAVIOR's choice); the target left it")


@pytest.mark.rule("MEMBER-CONFLICT", "BATCH-ATOMIC")
def test_profile_already_in_segment_is_409(api, make, checks):
    segment = make.segment()
    p1, p2 = make.profiles(2)
    make.add(segment, p1)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", [p2["id"], p1["id"]])
    checks.must(response.status_code == 409, f"expected 409, got {response.status_code}")
    body = response.json()
    messages = [m for entry in body.get("errors", []) for m in entry.get("errors", {}).values()]
    expected = f"Shopper profile `{p1['id']}` already exists for segment `{segment['id']}`."
    checks.must(expected in messages, f"message {expected!r} among {messages}")
    checks.must(member_ids(api, segment["id"]) == [p1["id"]], "nothing of the failed batch was added")


@pytest.mark.rule("MEMBER-MAX-50", "ERROR-STATUS", "BATCH-ATOMIC")
def test_more_than_50_ids_are_refused_and_50_accepted(api, make, checks):
    segment = make.segment()
    profiles = make.profiles(51)
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", [p["id"] for p in profiles])
    expect_refusal(checks, response, "51 IDs")
    checks.must(member_ids(api, segment["id"]) == [], "nothing was added")
    response = api.post(f"/segments/{segment['id']}/shopper-profiles", [p["id"] for p in profiles[:50]])
    checks.must(response.status_code == 201, f"the positive twin: 50 IDs must be accepted, got {response.status_code}")
    checks.must(len(member_ids(api, segment["id"])) == 50, "all 50 profiles are in the segment")


@pytest.mark.rule("REL-SEGMENT-DELETE")
def test_deleting_a_segment_keeps_its_profiles(api, make, checks):
    gone, kept = make.segments(2)
    profile = make.profile()
    make.add(gone, profile)
    make.add(kept, profile)
    api.delete(f"/segments?id:in={gone['id']}")
    checks.must(segment_ids_of(api, profile["id"]) == [kept["id"]], "the profile stays, in its other segment only")


def two_segments_sharing_a_profile(make):
    """s1 holds p1 and p2; s2 holds p1."""
    s1, s2 = make.segments(2)
    p1, p2 = make.profiles(2)
    make.add(s1, p1, p2)
    make.add(s2, p1)
    return s1, s2, p1, p2


@pytest.mark.rule("REL-REMOVE")
def test_removing_keeps_profiles_and_other_segments(api, make, checks):
    s1, s2, p1, p2 = two_segments_sharing_a_profile(make)
    response = api.delete(f"/segments/{s1['id']}/shopper-profiles?id:in={p1['id']}")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    checks.must(member_ids(api, s1["id"]) == [p2["id"]], "only the named profile left the segment")
    checks.must(segment_ids_of(api, p1["id"]) == [s2["id"]], "the profile stays in its other segment")


@pytest.mark.destructive
@pytest.mark.rule("UNSCOPED-MEMBER-REMOVE")
def test_remove_without_id_in_empties_the_segment(api, make, checks):
    s1, s2, p1, p2 = two_segments_sharing_a_profile(make)
    response = api.delete(f"/segments/{s1['id']}/shopper-profiles")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    checks.must(member_ids(api, s1["id"]) == [], "without id:in the segment is emptied")
    checks.must(segment_ids_of(api, p2["id"]) == [], "its profiles still exist, in no segment")
    checks.must(member_ids(api, s2["id"]) == [p1["id"]], "other segments keep their profiles")


@pytest.mark.rule("REL-PROFILE-DELETE")
def test_deleting_a_profile_removes_it_everywhere(api, make, checks):
    s1, s2 = make.segments(2)
    p1, p2 = make.profiles(2)
    make.add(s1, p1, p2)
    make.add(s2, p1)
    response = api.delete(f"/shopper-profiles?id:in={p1['id']}")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    checks.must(member_ids(api, s1["id"]) == [p2["id"]], "gone from the first segment")
    checks.must(member_ids(api, s2["id"]) == [], "gone from the second segment")


@pytest.mark.destructive
@pytest.mark.rule("UNSCOPED-PROFILE-DELETE")
def test_delete_without_id_in_deletes_every_profile(api, make, checks):
    make.profiles(2)
    response = api.delete("/shopper-profiles")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    checks.must(api.get("/shopper-profiles").json()["meta"]["pagination"]["total"] == 0, "every profile is gone")


@pytest.mark.rule("NO-COERCION", "ERROR-STATUS")
def test_json_numbers_are_not_coerced(api, make, checks):
    [customer] = make.shoppers(1)
    cid = customer["id"]
    for why, raw in (("a string", f'[{{"customer_id": "{cid}"}}]'), ("a fraction", f'[{{"customer_id": {cid}.0}}]'),
                     ("an exponent", f'[{{"customer_id": {cid}e0}}]')):
        response = api.post("/shopper-profiles", data=raw.encode(), headers={"Content-Type": "application/json"})
        expect_refusal(checks, response, f"customer_id as {why} ({raw})", 400)
    twin = api.post("/shopper-profiles", [{"customer_id": cid}])
    checks.must(twin.status_code == 201, f"the positive twin: the same customer as an integer gets a profile, got {twin.status_code}")
