"""Lists and filters: BEHAVIOR.md section 3, over the list operations of every resource."""

from __future__ import annotations

import pytest

LISTS = ["/segments", "/shopper-profiles", "/customers"]


def pagination(response):
    """The pagination numbers; only the customers list carries `links` (as Customers V3 does)."""
    assert response.status_code == 200, response.text
    meta = dict(response.json()["meta"]["pagination"])
    links = meta.pop("links", None)
    assert (links is not None) == ("/customers" in response.url), response.url
    return meta


def test_customer_links_name_the_current_previous_and_next_pages(api, make):
    make.customers(7)
    links = api.get("/customers?limit=3&page=2&sort=last_name:asc").json()["meta"]["pagination"]["links"]
    assert links == {"current": "?sort=last_name:asc&page=2&limit=3", "previous": "?sort=last_name:asc&page=1&limit=3",
                     "next": "?sort=last_name:asc&page=3&limit=3"}
    assert api.get("/customers?limit=3").json()["meta"]["pagination"]["links"] == {"current": "?page=1&limit=3",
                                                                                     "next": "?page=2&limit=3"}
    last = api.get("/customers?limit=3&page=3").json()["meta"]["pagination"]["links"]
    assert set(last) == {"current", "previous"}
    past = api.get("/customers?limit=3&page=9").json()["meta"]["pagination"]["links"]
    assert past == {"current": "?page=9&limit=3", "previous": "?page=3&limit=3"}


@pytest.fixture
def seven(make):
    make.segments(7)
    make.profiles(7)


@pytest.mark.parametrize("path", LISTS)
def test_defaults_are_page_1_and_limit_50(api, seven, path):
    assert pagination(api.get(path)) == {"total": 7, "count": 7, "per_page": 50, "current_page": 1, "total_pages": 1}


@pytest.mark.parametrize("path", LISTS)
def test_total_pages_is_ceil_and_pages_do_not_repeat_or_skip(api, seven, path):
    everything = [item["id"] for item in api.get(path).json()["data"]]
    seen = []
    for page in (1, 2, 3):
        response = api.get(f"{path}?limit=3&page={page}")
        meta = pagination(response)
        assert (meta["total"], meta["per_page"], meta["current_page"], meta["total_pages"]) == (7, 3, page, 3)
        assert meta["count"] == len(response.json()["data"]) == (3 if page < 3 else 1)
        seen += [item["id"] for item in response.json()["data"]]
    assert seen == everything


@pytest.mark.parametrize("path", LISTS)
def test_page_past_the_end_is_200_empty_with_totals(api, seven, path):
    for page in ("4", "99999999999999999999999999"):
        response = api.get(f"{path}?limit=3&page={page}")
        meta = pagination(response)
        assert response.json()["data"] == []
        assert meta == {"total": 7, "count": 0, "per_page": 3, "current_page": int(page), "total_pages": 3}


def test_empty_list_has_zero_pages(api):
    for path in LISTS:
        assert pagination(api.get(path)) == {"total": 0, "count": 0, "per_page": 50, "current_page": 1, "total_pages": 0}


@pytest.mark.parametrize("path", LISTS)
def test_limit_bounds(api, path):
    assert pagination(api.get(f"{path}?limit=250"))["per_page"] == 250
    assert pagination(api.get(f"{path}?limit=05&page=01"))["per_page"] == 5
    for huge in ("251", "99999999999999999999"):
        response = api.get(f"{path}?limit={huge}")
        assert response.status_code == 413
        assert response.json()["errors"] == {"limit": "The maximum is 250."}


@pytest.mark.parametrize("value", ["0", "", "+5", "-1", "1.5", "%205", "5%20", "1e2", "abc", "0x10", "٣"])
@pytest.mark.parametrize("name", ["page", "limit"])
def test_page_and_limit_are_decimal_digits_only(api, name, value):
    response = api.get(f"/segments?{name}={value}")
    assert response.status_code == 400, (name, value)
    assert name in response.json()["errors"]


def test_first_occurrence_counts_and_later_ones_are_not_read(api, seven):
    meta = pagination(api.get("/segments?limit=2&limit=abc&page=2&page=-1"))
    assert (meta["per_page"], meta["current_page"]) == (2, 2)
    assert api.get("/segments?limit=abc&limit=2").status_code == 400


def test_limit_too_large_outranks_bad_page(api):
    assert api.get("/segments?limit=300&page=abc").status_code == 413


def test_undefined_query_parameters_are_ignored(api, seven):
    assert pagination(api.get("/segments?sort=name&filter[x]=1&ids=a&name:like=q"))["total"] == 7


def test_memberships_lists_paginate_too(api, make):
    segment = make.segment()
    profiles = make.profiles(5)
    make.add(segment, *profiles)
    meta = pagination(api.get(f"/segments/{segment['id']}/shopper-profiles?limit=2&page=3"))
    assert (meta["total"], meta["count"], meta["total_pages"]) == (5, 1, 3)
    assert api.get(f"/segments/{segment['id']}/shopper-profiles?limit=251").status_code == 413
    assert api.get(f"/shopper-profiles/{profiles[0]['id']}/segments?page=0").status_code == 400
