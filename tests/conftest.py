from __future__ import annotations

import itertools

import pytest

from tests.support import READONLY, ApiClient, ServedMock, make_storage, serve_mock


@pytest.fixture(params=["memory", "sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def mock(backend, tmp_path) -> ServedMock:
    storage = make_storage(backend, tmp_path)
    with serve_mock(storage) as served:
        yield served
    storage.close()


@pytest.fixture
def api(mock) -> ApiClient:
    return mock.client()


@pytest.fixture
def readonly(mock) -> ApiClient:
    return mock.client(READONLY)


class Factory:
    """Creates resources through the API and returns their JSON."""

    def __init__(self, api: ApiClient):
        self.api = api
        self._names = itertools.count(1)
        self._emails = itertools.count(1)

    def segments(self, count: int = 1, **fields) -> list[dict]:
        body = [{"name": f"segment-{next(self._names)}", **fields} for _ in range(count)]
        response = self.api.post("/segments", json=body)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def segment(self, **fields) -> dict:
        return self.segments(1, **fields)[0]

    def customers(self, count: int = 1) -> list[dict]:
        """In requests of at most 10, the platform's limit per call."""
        created: list[dict] = []
        while len(created) < count:
            body = [
                {"email": f"shopper{next(self._emails)}@example.com", "first_name": "Ann", "last_name": "Lee"}
                for _ in range(min(10, count - len(created)))
            ]
            response = self.api.post("/customers", json=body)
            assert response.status_code == 200, response.text
            created += response.json()["data"]
        return created

    def profiles(self, count: int = 1) -> list[dict]:
        customers = self.customers(count)
        response = self.api.post("/shopper-profiles", json=[{"customer_id": c["id"]} for c in customers])
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def profile(self) -> dict:
        return self.profiles(1)[0]

    def add(self, segment: dict, *profiles: dict) -> None:
        response = self.api.post(f"/segments/{segment['id']}/shopper-profiles", json=[p["id"] for p in profiles])
        assert response.status_code == 201, response.text


@pytest.fixture
def make(api) -> Factory:
    return Factory(api)
