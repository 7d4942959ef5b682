"""Rate-limit headers and emulation: BEHAVIOR.md section 8 (defaults, fixed windows, 429)."""

from __future__ import annotations

from mock_server.http.ratelimit import RateLimitPolicy
from tests.support import OTHER_STORE, OTHER_TOKEN, default_config, make_storage, serve_mock


def left(response):
    return int(response.headers["X-Rate-Limit-Requests-Left"])


def test_headers_count_down_every_request_errors_included(api):
    first = api.get("/segments")
    assert first.headers["X-Rate-Limit-Requests-Quota"] == "150"
    assert first.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert first.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"
    assert left(first) == 149
    assert left(api.get("/segments", token=None)) == 148
    assert left(api.get("/unknown")) == 147
    assert left(api.request("PATCH", "/segments")) == 146


def test_window_is_fixed_and_restarts_after_it_ends(api, mock):
    api.get("/segments")
    mock.clock.advance(10)
    response = api.get("/segments")
    assert response.headers["X-Rate-Limit-Time-Reset-Ms"] == "20000" and left(response) == 148
    mock.clock.advance(20)
    response = api.get("/segments")
    assert response.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000" and left(response) == 149


def test_without_enforcement_nothing_is_refused(api):
    for _ in range(160):
        response = api.get("/segments")
    assert response.status_code == 200 and left(response) == 0


def test_stores_count_separately_and_unknown_stores_get_the_default(mock, api):
    api.get("/segments")
    other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
    assert left(other.get("/segments")) == 149
    assert left(mock.client(store="ghost").get("/segments")) == 149


def test_enforced_quota_answers_429_with_the_headers(backend, tmp_path):
    storage = make_storage(backend, tmp_path)
    config = default_config(rate_limit=RateLimitPolicy(quota=3, window_ms=1000, enforce=True))
    with serve_mock(storage, config) as mock:
        api = mock.client()
        assert [api.get("/segments").status_code for _ in range(3)] == [200, 200, 200]
        refused = api.post("/segments", json=[{"name": "late"}])
        assert refused.status_code == 429
        assert refused.json()["status"] == 429
        assert refused.headers["X-Rate-Limit-Requests-Left"] == "0"
        assert int(refused.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 1000
        assert api.get("/segments").json() ["status"] == 429
        other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
        assert other.get("/segments").status_code == 200  # never leaks into another store
        mock.clock.advance(1)
        assert api.get("/segments").json()["data"] == []  # the refused create wrote nothing
        assert api.request("PATCH", "/segments").status_code == 405  # route errors outrank 429


def test_429_outranks_401(backend, tmp_path):
    """Precedence: 429 outranks 401, so an exhausted quota refuses even bad tokens."""
    storage = make_storage(backend, tmp_path)
    config = default_config(rate_limit=RateLimitPolicy(quota=1, window_ms=60000, enforce=True))
    with serve_mock(storage, config) as mock:
        api = mock.client()
        api.get("/segments")
        assert api.get("/segments", token="bad").status_code == 429
