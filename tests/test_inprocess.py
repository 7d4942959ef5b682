"""The in-process mode, as moto works: the official `bigcommerce` SDK, `requests` and
`httpx`, unchanged, talk to https://api.bigcommerce.com and the mock in this process
answers, with no server process and no socket opened to it."""

from __future__ import annotations

import socket

import bigcommerce
import httpx
import pytest
import requests

from mock_server.inprocess import mock_bigcommerce

STORE, TOKEN = "abc123", "sdk-token"
V3 = f"https://api.bigcommerce.com/stores/{STORE}/v3"


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection fails the test: the mock must answer without one."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args[:1]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_official_sdk_unchanged_creates_segments_and_profiles_and_meets_the_409(no_network):
    with mock_bigcommerce(store_hash=STORE, token=TOKEN) as mock:
        api = bigcommerce.api.BigcommerceApi(client_id="client", store_hash=STORE, access_token=TOKEN)
        connection = api.connection
        [segment] = connection.post(f"{V3}/segments", [{"name": "VIP"}])["data"]
        [customer] = connection.post(f"{V3}/customers", [{"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}])["data"]
        [profile] = connection.post(f"{V3}/shopper-profiles", [{"customer_id": customer["id"]}])["data"]
        connection.post(f"{V3}/segments/{segment['id']}/shopper-profiles", [profile["id"]])
        members = connection.get(f"{V3}/segments/{segment['id']}/shopper-profiles")["data"]
        assert [m["id"] for m in members] == [profile["id"]]
        with pytest.raises(bigcommerce.exception.ClientRequestException) as conflict:
            connection.post(f"{V3}/segments", [{"name": "VIP"}])
        assert conflict.value.response.status_code == 409
        assert conflict.value.response.json()["errors"][0]["title"] == "Cannot have multiple segments with the same name."
        assert connection.rate_limit["requests_quota"] == 150  # the SDK read the rate-limit headers
        journal = mock.journal()
        assert [(e["method"], e["status"]) for e in journal[:2]] == [("POST", 409), ("GET", 200)]
        assert mock.snapshot()["segments"][0]["name"] == "VIP"


def test_requests_and_httpx_both_reach_it_and_other_base_urls_can_be_named(no_network):
    with mock_bigcommerce(store_hash=STORE, token=TOKEN, base_urls=["https://bc-proxy.example.com/api"]) as mock:
        mock.seed({"segments": [{"name": "Seeded"}]})
        headers = {"X-Auth-Token": TOKEN}
        assert [s["name"] for s in requests.get(f"{V3}/segments", headers=headers).json()["data"]] == ["Seeded"]
        assert httpx.get(f"{V3}/segments", headers=headers).json()["data"][0]["name"] == "Seeded"
        with httpx.Client(base_url=f"https://bc-proxy.example.com/api/stores/{STORE}/v3") as client:
            assert client.post("/segments", json=[{"name": "Through the proxy"}], headers=headers).status_code == 201
        assert requests.get(f"{V3}/segments?limit=1", headers={"X-Auth-Token": "wrong"}).status_code == 401
        mock.reset()
        assert requests.get(f"{V3}/segments", headers=headers).json()["data"] == []
        mock.set_faults(responses=[{"method": "GET", "path": "/segments", "status": 503, "count": 1}])
        assert requests.get(f"{V3}/segments", headers=headers).status_code == 503


def test_the_decorator_and_the_pytest_fixture(bigcommerce_mock, no_network):
    response = requests.post(f"{bigcommerce_mock.base_url}/segments", json=[{"name": "From the fixture"}],
                             headers=bigcommerce_mock.headers())
    assert response.status_code == 201 and bigcommerce_mock.store_hash == "test-store"

    @mock_bigcommerce(store_hash="decorated", token="t", fixture={"segments": [{"name": "Inside"}]})
    def inside():
        return requests.get("https://api.bigcommerce.com/stores/decorated/v3/segments", headers={"X-Auth-Token": "t"}).json()

    assert [s["name"] for s in inside()["data"]] == ["Inside"]


def test_calls_elsewhere_still_go_out_and_routing_ends_with_the_block():
    with mock_bigcommerce(store_hash=STORE, token=TOKEN):
        with pytest.raises(requests.ConnectionError):  # not routed: a real (failing) connection attempt
            requests.get("http://127.0.0.1:9/", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{V3}/segments", timeout=0.01, proxies={"https": "http://127.0.0.1:9"})
