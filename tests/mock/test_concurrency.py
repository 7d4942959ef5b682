"""Invariants under racing requests (issue: at least 16 parallel clients), both backends.

Each client has its own connection; the served mock handles them on parallel threads.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support import ApiClient

CLIENTS = 24


def race(mock, calls):
    """Run every call (a function of a fresh client) at once; the status codes."""
    clients = [ApiClient(mock.client().base_url, mock.client().token) for _ in calls]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(lambda pair: pair[1](pair[0]).status_code, zip(clients, calls)))


def total(api, path="/segments"):
    return api.get(path).json()["meta"]["pagination"]["total"]


def test_creates_racing_for_the_last_slots_never_pass_1000(mock, api, make):
    for _ in range(9):
        make.segments(110)
    statuses = race(mock, [lambda c, i=i: c.post("/segments", json=[{"name": f"racer-{i}"}]) for i in range(CLIENTS)])
    assert statuses == {201: 10, 422: CLIENTS - 10}
    assert total(api) == 1000


def test_racing_batches_are_all_or_nothing_at_the_cap(mock, api, make):
    for _ in range(9):
        make.segments(110)
    calls = [lambda c, i=i: c.post("/segments", json=[{"name": f"b{i}-{k}"} for k in range(3)]) for i in range(CLIENTS)]
    statuses = race(mock, calls)
    assert statuses == {201: 3, 422: CLIENTS - 3}
    assert total(api) == 999


def test_racing_duplicate_names_create_one_segment(mock, api):
    statuses = race(mock, [lambda c: c.post("/segments", json=[{"name": "contested"}]) for _ in range(CLIENTS)])
    assert statuses == {201: 1, 409: CLIENTS - 1}
    assert [s["name"] for s in api.get("/segments").json()["data"]] == ["contested"]


def test_racing_renames_to_one_name_leave_names_unique(mock, api, make):
    segments = make.segments(CLIENTS)
    calls = [lambda c, s=s: c.put("/segments", json=[{"id": s["id"], "name": "winner"}]) for s in segments]
    statuses = race(mock, calls)
    assert statuses == {201: 1, 409: CLIENTS - 1}
    listed = [s["name"] for s in api.get("/segments?limit=250").json()["data"]]
    assert listed.count("winner") == 1 and len(set(listed)) == CLIENTS


def test_racing_profiles_for_one_customer_create_one(mock, api, make):
    [customer] = make.customers(1)
    statuses = race(mock, [lambda c: c.post("/shopper-profiles", json=[{"customer_id": customer["id"]}]) for _ in range(CLIENTS)])
    assert statuses == {201: 1, 409: CLIENTS - 1}
    assert total(api, "/shopper-profiles") == 1


def test_racing_membership_changes_lose_nothing(mock, api, make):
    segment = make.segment()
    profiles = make.profiles(CLIENTS)
    url = f"/segments/{segment['id']}/shopper-profiles"
    statuses = race(mock, [lambda c, p=p: c.post(url, json=[p["id"]]) for p in profiles])
    assert statuses == {201: CLIENTS}
    assert total(api, url + "?limit=250") == CLIENTS
    same = race(mock, [lambda c: c.post(url, json=[profiles[0]["id"]]) for _ in range(CLIENTS)])
    assert same == {409: CLIENTS}
    half = profiles[: CLIENTS // 2]
    removes = race(mock, [lambda c, p=p: c.delete(f"{url}?id:in={p['id']}") for p in half])
    assert removes == {204: CLIENTS // 2}
    remaining = {p["id"] for p in api.get(url + "?limit=250").json()["data"]}
    assert remaining == {p["id"] for p in profiles[CLIENTS // 2 :]}
