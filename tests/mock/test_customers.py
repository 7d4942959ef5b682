"""The Customers slice as the platform's Customers V3 reference serves it (BEHAVIOR.md
section 7, last point): its scalar fields, the filters and sort of getCustomers, and
updateCustomers. Both backends; every answer is checked against the document."""

from __future__ import annotations

import sqlite3

import pytest

from mock_server.storage import SqliteStorage


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


@pytest.fixture
def three(api, mock):
    """Ann Lee (Acme, group 2, day 1), Bob Moriarty (phone, day 2), Cy Lee (acme, day 3)."""
    made = []
    for item in ({"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "company": "Acme", "customer_group_id": 2},
                 {"email": "bob@example.com", "first_name": "Bob", "last_name": "Moriarty", "phone": "555-0100",
                  "registration_ip_address": "192.0.2.7"},
                 {"email": "cy@example.com", "first_name": "Cy", "last_name": "Lee", "company": "acme"}):
        response = api.post("/customers", json=[item])
        assert response.status_code == 200, response.text
        made += response.json()["data"]
        mock.clock.advance(86400)
    return made


def test_the_platforms_scalar_fields_are_stored_and_shown(api):
    item = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "company": "Acme", "phone": "555-0100",
            "notes": "VIP", "tax_exempt_category": "A", "registration_ip_address": "192.0.2.1", "customer_group_id": 3,
            "accepts_product_review_abandoned_cart_emails": True, "origin_channel_id": 2, "channel_ids": [1, 2],
            "authentication": {"force_password_reset": True, "new_password": "secret123"}, "addresses": [],
            "trigger_account_created_notification": True}
    [created] = api.post("/customers", json=[item]).json()["data"]
    [listed] = api.get(f"/customers?id:in={created['id']}").json()["data"]
    assert listed == created
    for name in ("company", "phone", "notes", "tax_exempt_category", "registration_ip_address", "customer_group_id",
                 "accepts_product_review_abandoned_cart_emails", "origin_channel_id", "channel_ids"):
        assert created[name] == item[name], name
    assert created["authentication"] == {"force_password_reset": True} and "secret123" not in str(created)
    assert (created["address_count"], created["attribute_count"]) == (0, 0)
    [bare] = api.post("/customers", json=[{"email": "b@example.com", "first_name": "B", "last_name": "C"}]).json()["data"]
    assert (bare["company"], bare["phone"], bare["origin_channel_id"]) == ("", "", 1)
    # Global access: no channel_ids at all (the reference types it as an array, never null);
    # an update to null takes a customer back to global access.
    assert "channel_ids" not in bare
    [updated] = api.put("/customers", json=[{"id": created["id"], "channel_ids": None}]).json()["data"]
    assert "channel_ids" not in updated


def test_sub_resources_the_mock_does_not_keep_are_refused_not_dropped(api):
    for name in ("addresses", "attributes", "form_fields", "store_credit_amounts"):
        body = [{"email": f"{name}@example.com", "first_name": "A", "last_name": "B", name: [{"x": 1}]}]
        response = api.post("/customers", json=body)
        assert response.status_code == 400 and f"0.{name}" in response.json()["errors"], response.text
    assert api.get("/customers").json()["data"] == []


def test_at_most_ten_customers_per_request(api):
    body = [{"email": f"c{i}@example.com", "first_name": "A", "last_name": "B"} for i in range(11)]
    response = api.post("/customers", json=body)
    assert response.status_code == 413 and "At most 10" in response.json()["errors"]["body"]
    assert api.post("/customers", json=body[:10]).status_code == 200
    update = [{"id": c["id"], "notes": "n"} for c in api.get("/customers").json()["data"]] + [{"id": 99, "notes": "n"}]
    assert api.put("/customers", json=update).status_code == 413


@pytest.mark.parametrize("query, expected", [
    ("email:in=ANN@example.com,cy@example.com", [1, 3]),
    ("name:in=ann lee,Bob Moriarty", [1, 2]),
    ("name:like=lee", [1, 3]),
    ("name:like=oria,nothing", [2]),
    ("company:in=ACME", [1, 3]),
    ("customer_group_id:in=2", [1]),
    ("customer_group_id:in=0,2", [1, 2, 3]),
    ("phone:in=555-0100", [2]),
    ("registration_ip_address:in=192.0.2.7", [2]),
    ("date_created=2024-01-02", [2]),
    ("date_created=2024-01-01T00:00:00Z", [1]),
    ("date_created:min=2024-01-02", [2, 3]),
    ("date_created:max=2024-01-02T00:00:00", [1, 2]),
    ("date_created:min=2024-01-02T01:00:00%2B01:00", [2, 3]),
    ("date_modified:max=2024-01-01", [1]),
    ("id:in=1,2&company:in=acme", [1]),
    ("sort=last_name:asc", [1, 3, 2]),
    ("sort=last_name:desc", [2, 1, 3]),
    ("sort=date_created:desc", [3, 2, 1]),
    ("sort=date_modified:asc&name:like=lee", [1, 3]),
])
def test_get_customers_filters_and_sort(api, three, query, expected):
    assert ids(api.get(f"/customers?{query}")) == expected


@pytest.mark.parametrize("query", ["date_created=yesterday", "date_created:min=2024-02-30", "date_modified:max=2024-01-01T25:00",
                                   "customer_group_id:in=abc", "sort=email:asc"])
def test_a_filter_that_cannot_be_read_is_refused(api, three, query):
    response = api.get(f"/customers?{query}")
    assert response.status_code == 400, response.text
    assert query.split("=")[0] in response.json()["errors"]


def test_filters_combine_with_paging_and_totals(api, three):
    response = api.get("/customers?name:like=lee&limit=1&page=2")
    assert ids(response) == [3]
    pagination = response.json()["meta"]["pagination"]
    assert (pagination["total"], pagination["total_pages"]) == (2, 2)
    assert pagination["links"] == {"current": "?name:like=lee&page=2&limit=1", "previous": "?name:like=lee&page=1&limit=1"}


def test_include_shows_the_platforms_sub_resources_empty_and_only_when_asked(api, three):
    [plain] = api.get("/customers?id:in=1").json()["data"]
    assert not {"addresses", "store_credit_amounts", "attributes", "form_fields"} & set(plain)
    [full] = api.get("/customers?id:in=1&include=addresses,storecredit,attributes,formfields").json()["data"]
    assert [full[k] for k in ("addresses", "store_credit_amounts", "attributes", "form_fields")] == [[], [], [], []]


def test_update_customers_changes_only_what_it_is_given(api, mock, three):
    mock.clock.advance(60)
    response = api.put("/customers", json=[{"id": 1, "company": "Beta", "phone": "1"}, {"id": 2}])
    assert response.status_code == 200
    first, second = response.json()["data"]
    assert (first["company"], first["phone"], first["email"], first["last_name"]) == ("Beta", "1", "ann@example.com", "Lee")
    assert first["date_modified"] > three[0]["date_modified"] and first["date_created"] == three[0]["date_created"]
    assert second == three[1]  # nothing given, nothing changed: date_modified stays
    assert ids(api.get("/customers?company:in=beta")) == [1]


def test_update_customers_refuses_unknown_ids_taken_emails_and_a_new_origin_channel(api, three):
    cases = [
        ([{"id": 1, "notes": "x"}, {"id": 99, "notes": "x"}], 422, "1.id"),
        ([{"id": 1, "email": "BOB@example.com"}], 422, "0"),
        ([{"id": 1, "email": "new@example.com"}, {"id": 2, "email": "NEW@example.com"}], 422, "1"),
        ([{"id": 1, "origin_channel_id": 5}], 422, "0.origin_channel_id"),
        ([{"id": 1, "notes": "a"}, {"id": 1, "notes": "b"}], 400, "1.id"),
        ([{"id": 1, "addresses": [{"city": "X"}]}], 400, "0.addresses"),
    ]
    for body, status, key in cases:
        response = api.put("/customers", json=body)
        assert response.status_code == status and key in response.json()["errors"], (body, response.text)
    assert api.get("/customers").json()["data"] == three  # all or nothing: no case wrote anything


def test_a_customer_may_keep_or_recase_its_own_email(api, three):
    response = api.put("/customers", json=[{"id": 1, "email": "ANN@example.com"}])
    assert response.status_code == 200 and response.json()["data"][0]["email"] == "ANN@example.com"
    assert ids(api.get("/customers?email:in=ann@example.com")) == [1]
    # Two customers may swap emails in one request.
    response = api.put("/customers", json=[{"id": 2, "email": "cy@example.com"}, {"id": 3, "email": "bob@example.com"}])
    assert response.status_code == 200, response.text
    assert ids(api.get("/customers?email:in=cy@example.com")) == [2] and ids(api.get("/customers?email:in=bob@example.com")) == [3]


def test_an_older_sqlite_file_gains_the_new_customer_fields(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the customers table as an earlier version wrote it
        conn.execute("CREATE TABLE customers (store TEXT NOT NULL, id INTEGER NOT NULL, email TEXT NOT NULL, "
                     "email_lower TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL, customer_group_id "
                     "INTEGER NOT NULL, date_created INTEGER NOT NULL, date_modified INTEGER NOT NULL, PRIMARY KEY (store, id), "
                     "UNIQUE (store, email_lower)) WITHOUT ROWID")
        conn.execute("INSERT INTO customers VALUES ('s', 1, 'a@example.com', 'a@example.com', 'A', 'B', 0, 1, 1)")
        conn.execute("CREATE TABLE stores (hash TEXT PRIMARY KEY, last_customer_id INTEGER NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO stores VALUES ('s', 1)")
    storage = SqliteStorage(path)
    with storage.transaction("s", write=False) as tx:
        [customer] = tx.customers_all()
    assert (customer.email, customer.company, customer.origin_channel_id) == ("a@example.com", "", 1)
    storage.close()
