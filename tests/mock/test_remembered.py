"""A list's answer is served again while no store's data changes (http/remembered.py):
never stale after a write, a reset or a seed; not kept while a write ran during the read,
nor for SQLite, nor past its byte bound."""

from __future__ import annotations

from mock_server.domain import Segmentation
from mock_server.http.app import create_app
from mock_server.http.remembered import ListAnswers
from mock_server.storage import MemoryStorage
from tests.support import STORE, TOKEN, default_config, make_storage

HEADERS = {"X-Auth-Token": TOKEN}
BASE = f"/stores/{STORE}/v3"


def counting_reads(monkeypatch) -> list:
    reads = []
    original = Segmentation.list_segments
    monkeypatch.setattr(Segmentation, "list_segments", lambda self, *args: reads.append(args) or original(self, *args))
    return reads


def names(client, query: str = "") -> list[str]:
    response = client.get(f"{BASE}/segments{query}", headers=HEADERS)
    assert response.status_code == 200, response.text
    return [s["name"] for s in response.get_json()["data"]]


def test_a_list_is_read_once_until_a_write_and_never_stale(monkeypatch):
    reads = counting_reads(monkeypatch)
    app = create_app(default_config(), MemoryStorage())
    client = app.test_client()
    assert client.post(f"{BASE}/segments", json=[{"name": "a"}], headers=HEADERS).status_code == 201
    assert names(client) == names(client) == ["a"] and len(reads) == 1  # the second from memory
    assert names(client, "?limit=1") == ["a"] and len(reads) == 2  # another query string: read
    [segment] = client.get(f"{BASE}/segments", headers=HEADERS).get_json()["data"]
    assert client.put(f"{BASE}/segments", json=[{"id": segment["id"], "name": "b"}], headers=HEADERS).status_code == 201  # the mock answers a PUT 201
    assert names(client) == ["b"]  # the update is seen
    assert client.post(f"{BASE}/segments", json=[{"name": "c"}], headers=HEADERS).status_code == 201
    assert sorted(names(client)) == ["b", "c"]
    assert client.delete(f"{BASE}/segments?id:in={segment['id']}", headers=HEADERS).status_code == 204
    assert names(client) == ["c"]
    assert client.post("/_mock/reset").status_code == 200
    assert names(client) == []
    seed = {"stores": [{"store_hash": STORE, "token": TOKEN, "segments": [{"name": "seeded"}]}]}
    assert client.post("/_mock/seed", json=seed).status_code == 200
    assert names(client) == ["seeded"]
    refused = client.get(f"{BASE}/segments?limit=251", headers=HEADERS)
    assert refused.status_code == 413 and client.get(f"{BASE}/segments?limit=251", headers=HEADERS).status_code == 413


def test_an_answer_read_while_a_write_ran_is_not_kept():
    storage = MemoryStorage()
    answers = ListAnswers(storage)
    made = []

    def make():
        made.append(1)
        storage.add_store(f"new-{len(made)}")  # the revision moves during the read
        from mock_server.http.representations import Encoded
        return 200, Encoded(b"[]")

    for _ in range(3):
        answers.answer(("op", "store"), "", make)
    assert len(made) == 3 and len(answers) == 0


def test_sqlite_answers_are_never_remembered(monkeypatch, tmp_path):
    reads = counting_reads(monkeypatch)
    app = create_app(default_config(), make_storage("sqlite", tmp_path))
    client = app.test_client()
    assert names(client) == names(client) == [] and len(reads) == 2
    assert len(app.extensions["segmentation_mock"]["list_answers"]) == 0


def test_remembered_answers_stay_within_their_bytes():
    from mock_server.http.representations import Encoded

    storage = MemoryStorage()
    answers = ListAnswers(storage, kept_bytes=1000)
    for i in range(50):
        status, body = answers.answer(("op", "store"), f"page={i}", lambda i=i: (200, Encoded(b"x" * 300)))
        assert status == 200 and len(body.data) == 300
        assert answers._bytes <= 1000 and len(answers) <= 3
    long_query = "x=" + "y" * 300
    answers.answer(("op", "store"), long_query, lambda: (200, Encoded(b"{}")))
    assert all(key[-1] != long_query for key in answers._answers)
