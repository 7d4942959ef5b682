"""The Customers V3 slice the segmentation guide relies on (BEHAVIOR.md section 7)."""

from __future__ import annotations

import pytest

from .helpers import expect_refusal, member_ids

CUSTOMER_FIELDS = ("id", "email", "first_name", "last_name", "customer_group_id", "date_created", "date_modified")


def listed_customers(api, ids, include=""):
    query = f"/customers?limit=250&id:in={','.join(str(i) for i in ids)}" + (f"&include={include}" if include else "")
    response = api.get(query)
    assert response.status_code == 200, f"GET {query}: {response.status_code}"
    return {c["id"]: c for c in response.json()["data"]}


def customer_total(api) -> int:
    response = api.get("/customers?limit=1")
    assert response.status_code == 200, f"GET /customers: {response.status_code}"
    return response.json()["meta"]["pagination"]["total"]


@pytest.mark.rule("CUSTOMER-FIELDS")
def test_customers_carry_their_fields(api, make, checks):
    customer, other = make.customers(2)
    for field in CUSTOMER_FIELDS:
        checks.must(field in customer, f"created customer lacks {field!r}")
    checks.must(isinstance(customer.get("id"), int) and customer["id"] >= 1, f"a customer's id is a positive integer: {customer.get('id')!r}")
    checks.should(other["id"] > customer["id"], "ids ascend in creation order")
    listed = listed_customers(api, [customer["id"]])
    checks.must(list(listed) == [customer["id"]], f"id:in of one customer listed {list(listed)}")


@pytest.mark.rule("CUSTOMER-INCLUDE")
def test_include_adds_profile_and_segments_only_when_asked(api, make, checks):
    segment_a, segment_b = make.segments(2)
    profile = make.profile()
    [bare] = make.customers(1)
    make.add(segment_b, profile)
    make.add(segment_a, profile)
    customer_id = profile["customer_id"]
    plain = listed_customers(api, [customer_id, bare["id"]])
    checks.must(set(plain) == {customer_id, bare["id"]}, f"both customers listed: {sorted(plain)}")
    for customer in plain.values():
        checks.must("shopper_profile_id" not in customer and "segment_ids" not in customer,
                    "neither shopper_profile_id nor segment_ids appears unless asked for")
    both = listed_customers(api, [customer_id, bare["id"]], "shopper_profile_id,segment_ids")
    checks.must(both[customer_id].get("shopper_profile_id") == profile["id"], f"shopper_profile_id {both[customer_id].get('shopper_profile_id')!r}")
    checks.must(sorted(both[customer_id].get("segment_ids") or []) == sorted([segment_a["id"], segment_b["id"]]),
                f"segment_ids {both[customer_id].get('segment_ids')!r}")
    checks.should(both[customer_id].get("segment_ids") == [segment_a["id"], segment_b["id"]], "segment_ids in the segments' creation order")
    checks.must("shopper_profile_id" in both[bare["id"]] and both[bare["id"]]["shopper_profile_id"] is None,
                f"a customer without a profile: shopper_profile_id null, got {both[bare['id']].get('shopper_profile_id', 'absent')!r}")
    checks.must(both[bare["id"]].get("segment_ids") == [], f"a customer without a profile: segment_ids [], got {both[bare['id']].get('segment_ids', 'absent')!r}")
    only_profile = listed_customers(api, [customer_id], "shopper_profile_id")[customer_id]
    checks.must("shopper_profile_id" in only_profile and "segment_ids" not in only_profile, "include adds only what it names")


@pytest.mark.rule("CUSTOMER-EMAIL-UNIQUE", "BATCH-ATOMIC")
def test_an_email_already_used_is_refused(api, make, checks):
    [customer] = make.customers(1)
    fresh = f"{make.name()}@conformance.example"
    body = [{"email": fresh, "first_name": "A", "last_name": "B"},
            {"email": customer["email"].upper(), "first_name": "A", "last_name": "B"}]
    before = customer_total(api)
    response = api.post("/customers", body)
    expect_refusal(checks, response, "an email already used, in another case", 422)
    checks.must(customer_total(api) == before, "nothing of the refused batch was created")


@pytest.mark.rule("CUSTOMER-DELETE")
def test_deleting_customers_takes_their_profiles_and_memberships(api, make, checks):
    segment = make.segment()
    gone, kept = make.profiles(2)
    make.add(segment, gone, kept)
    response = api.delete(f"/customers?id:in={gone['customer_id']}")
    checks.must(response.status_code == 204, f"expected 204, got {response.status_code}")
    listed = listed_customers(api, [gone["customer_id"], kept["customer_id"]])
    checks.must(list(listed) == [kept["customer_id"]], f"only the named customer is gone; listed {sorted(listed)}")
    checks.must(member_ids(api, segment["id"]) == [kept["id"]], "the deleted customer's profile left the segment")
    response = api.get(f"/shopper-profiles/{gone['id']}/segments")
    checks.must(response.status_code == 404, f"the deleted customer's profile is gone (404), got {response.status_code}")
