"""Fault injection and the concurrency-limit emulation, set through the control plane;
they never leak into another store. Real HTTP, both backends."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from mock_server.cli import build_parser, config_from_args
from tests.support import OTHER_STORE, OTHER_TOKEN, STORE, ApiClient


def set_faults(mock, faults, store=STORE):
    """Set a store's faults (tests with forced answers turn the client's contract check off:
    a forced answer is outside the contract on purpose)."""
    response = requests.put(f"{mock.url}/_mock/stores/{store}/faults", json=faults, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_forced_responses_for_the_next_n_requests(mock, api):
    api.validate = False
    set_faults(mock, {"responses": [{"method": "POST", "path": "/segments", "status": 503, "count": 2}]})
    statuses = [api.post("/segments", json=[{"name": f"n{i}"}]).status_code for i in range(3)]
    assert statuses == [503, 503, 201]
    assert api.get("/segments").json()["meta"]["pagination"]["total"] == 1  # forced answers wrote nothing
    forced = api.post("/segments", json=[{"name": "x"}])
    assert forced.status_code == 201


def test_forced_response_body_and_scope(mock, api):
    api.validate = False
    set_faults(mock, {"responses": [{"path": "/shopper-profiles", "status": 500, "body": {"oops": True}}]})
    response = api.get("/shopper-profiles")
    assert response.status_code == 500 and response.json() == {"oops": True}
    assert "X-Rate-Limit-Requests-Left" in response.headers
    assert api.get("/segments").status_code == 200
    assert mock.client(OTHER_TOKEN, store=OTHER_STORE).get("/shopper-profiles").status_code == 200
    assert requests.delete(f"{mock.url}/_mock/stores/{STORE}/faults", timeout=30).status_code == 204
    assert api.get("/shopper-profiles").status_code == 200


def test_probability_with_a_seed_is_reproducible(mock, api):
    api.validate = False
    def run():
        set_faults(mock, {"responses": [{"method": "GET", "path": "/segments", "status": 500, "probability": 0.5, "seed": 7}]})
        return [api.get("/segments").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second and set(first) == {200, 500}


def test_latency_is_added(mock, api):
    set_faults(mock, {"latency_ms": [150, 200]})
    started = time.monotonic()
    api.get("/segments")
    assert time.monotonic() - started >= 0.15
    assert set_faults(mock, {"latency_ms": 0})["latency_ms"] == [0, 0]


def test_concurrency_limit_of_ten_on_the_documented_writes(mock, api):
    set_faults(mock, {"latency_ms": 2000, "concurrency_limit": True})  # wide enough for a slow machine
    clients = [ApiClient(api.base_url, api.token) for _ in range(15)]
    with ThreadPoolExecutor(max_workers=15) as pool:
        statuses = Counter(pool.map(lambda ic: ic[1].post("/segments", json=[{"name": f"c{ic[0]}"}]).status_code, enumerate(clients)))
    assert statuses == {201: 10, 429: 5}
    with ThreadPoolExecutor(max_workers=15) as pool:  # reads carry no such limit
        assert Counter(pool.map(lambda c: c.get("/segments").status_code, clients)) == {200: 15}


def test_bad_fault_settings_are_400(mock):
    for bad in ({"latency_ms": -1}, {"latency_ms": [5, 1]}, {"responses": [{"status": 42}]},
                {"responses": [{"status": 500, "probability": 2}]}, {"responses": [{"status": 500, "count": 0}]}, []):
        assert requests.put(f"{mock.url}/_mock/stores/{STORE}/faults", json=bad, timeout=30).status_code == 400, bad
    assert requests.get(f"{mock.url}/_mock/stores/{STORE}/faults", timeout=30).json()["responses"] == []


def test_startup_flags_set_default_faults():
    args = build_parser().parse_args(["serve", "--latency-ms", "20-40", "--enforce-concurrency-limit"])
    assert config_from_args(args).faults == {"latency_ms": [20, 40], "concurrency_limit": True}
