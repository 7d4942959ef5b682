"""The Customers V3 slice the segmentation guide relies on (BEHAVIOR.md section 7)."""

from __future__ import annotations

import pytest

from .helpers import expect_refusal, member_ids

CUSTOMER_FIELDS = ("id", "email", "first_name", "last_name", "customer_group_id", "date_created", "date_modified")


def listed_customers(api, ids, include=""):
    query = f"/customers?limit=250&id:in={','.join(str(i) for i in ids)}" + (f"&include={include}" if include else "")
    response = api.get(query)
    assert response.status_code == 200, f"GET {query}: {response.status_code}"
    return {c.get("id"): c for c in response.json().get("data", []) if isinstance(c, dict)}


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


def listed_ids(api, checks, query: str) -> list[int]:
    response = api.get(f"/customers?limit=250&{query}")
    checks.must(response.status_code == 200, f"GET /customers?{query}: expected 200, got {response.status_code}")
    return [c["id"] for c in response.json().get("data", [])] if response.status_code == 200 else []


@pytest.mark.rule("CUSTOMER-FILTERS")
def test_customer_filters_sort_and_links(api, make, checks):
    marker = make.name()
    [a] = make.customers(1, last_name="Alpha", company=f"{marker}-company")
    [b] = make.customers(1, last_name=f"M{marker}")
    [c] = make.customers(1, last_name="Gamma")
    ours = ",".join(str(x["id"]) for x in (a, b, c))
    # Each filter, alone on the whole store (the values are the run's own, so unique), then with id:in.
    for what, query, expected in (
        ("email:in", f"email:in={a['email']}", [a["id"]]),
        ("company:in", f"company:in={marker}-company", [a["id"]]),
        ("name:like", f"name:like={marker}", [b["id"]]),
        ("name:in", f"name:in=Conformance M{marker}", [b["id"]]),
        ("email:in with id:in", f"id:in={ours}&email:in={c['email']}", [c["id"]]),
        ("customer_group_id:in", f"id:in={ours}&customer_group_id:in=0", sorted([a["id"], b["id"], c["id"]])),
        ("date_created:min", f"id:in={ours}&date_created:min=2000-01-01", sorted([a["id"], b["id"], c["id"]])),
        ("date_created:max", f"id:in={ours}&date_created:max=2000-01-01", []),
    ):
        got = listed_ids(api, checks, query)
        checks.must(sorted(got) == expected, f"{what}: `{query}` listed {got}, expected {expected}")
    checks.should(listed_ids(api, checks, f"email:in={a['email'].upper()}") == [a["id"]], "email:in compares emails case-insensitively")
    ascending = listed_ids(api, checks, f"id:in={ours}&sort=last_name:asc")
    checks.must(ascending == [a["id"], c["id"], b["id"]], f"sort=last_name:asc listed {ascending}")
    descending = listed_ids(api, checks, f"id:in={ours}&sort=last_name:desc")
    checks.must(descending == [b["id"], c["id"], a["id"]], f"sort=last_name:desc listed {descending}")
    response = api.get(f"/customers?limit=1&id:in={ours}")
    links = ((response.json().get("meta") or {}).get("pagination") or {}).get("links") if response.status_code == 200 else None
    checks.must(isinstance(links, dict) and isinstance(links.get("current"), str), f"meta.pagination.links.current: {links!r}")
    checks.should(isinstance(links, dict) and isinstance(links.get("next"), str), f"a first page of three has a next link: {links!r}")


@pytest.mark.rule("CUSTOMER-UPDATE")
def test_update_customers_changes_what_it_is_given(api, make, guard, checks):
    [customer] = make.customers(1)
    company = f"{make.name()}-company"
    response = api.put("/customers", [{"id": customer["id"], "company": company, "phone": "555-0100"}])
    checks.must(response.status_code == 200, f"updateCustomers answers 200, got {response.status_code}")
    if response.status_code == 200:
        data = response.json().get("data")
        checks.must(isinstance(data, list) and len(data) == 1, f"one customer per item: {str(data)[:200]}")
        updated = data[0] if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict) else {}
        checks.must((updated.get("company"), updated.get("phone")) == (company, "555-0100"), f"the answer shows the new values: {updated}")
        checks.must((updated.get("email"), updated.get("first_name")) == (customer["email"], customer["first_name"]),
                    "fields not given are kept")
    again = listed_customers(api, [customer["id"]]).get(customer["id"], {})
    checks.must(again.get("company") == company, f"the list shows the new company: {again.get('company')!r}")
    response = api.put("/customers", [{"id": guard.absent_integer("customers"), "company": company}])
    expect_refusal(checks, response, "an id the store does not have", 422)
