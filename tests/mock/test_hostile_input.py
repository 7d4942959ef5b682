"""Hostile input gets a clear 4xx in the envelope, never a 500 and never a partial write;
what the mock keeps per request is bounded. Both backends, over real HTTP."""

from __future__ import annotations

import json

import requests

from tests.support import STORE, TOKEN, default_config, make_storage, serve_mock

RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms", "X-Rate-Limit-Requests-Quota",
                "X-Rate-Limit-Requests-Left")
MISSING_SEGMENT = "00000000-0000-4000-8000-000000000000"


def envelope(response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"], body
    return body


def test_a_lone_surrogate_is_refused_before_any_write(mock, api):
    headers = {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}
    url = f"{mock.url}/stores/{STORE}/v3/segments"
    for raw in (b'[{"name": "a\\ud800"}]', b'[{"name": "ok", "description": "\\udfff"}]', b'[{"name\\udc00": "x"}]'):
        body = envelope(requests.post(url, data=raw, headers=headers, timeout=30), 400)
        assert "surrogate" in json.dumps(body["errors"]), body
    assert api.get("/segments").json()["data"] == []  # nothing stored, and the list still answers
    # A surrogate pair written as escapes is a real character: accepted, and answered as UTF-8.
    response = requests.post(url, data=b'[{"name": "smile \\ud83d\\ude00"}]', headers=headers, timeout=30)
    assert response.status_code == 201 and response.json()["data"][0]["name"] == "smile \U0001F600"


def test_a_huge_or_mistyped_add_body_is_refused_by_the_cheap_checks_first(api, make):
    segment = make.segment()
    path = f"/segments/{segment['id']}/shopper-profiles"
    body = envelope(api.post(path, json=[{"x": i} for i in range(10_000)]), 400)
    assert body["errors"] == {"body": "At most 50 items; this body has 10000."}
    body = envelope(api.post(path, json=[{"x": i} for i in range(50)]), 400)
    assert list(body["errors"]) == ["0"] and "is not of type 'string'" in body["errors"]["0"]
    assert api.get(path).json()["data"] == []


def test_unknown_methods_and_unroutable_paths_answer_in_the_envelope_with_rate_headers(mock):
    base = f"{mock.url}/stores/{STORE}/v3"
    headers = {"X-Auth-Token": TOKEN}
    response = requests.request("FOO", f"{base}/segments", headers=headers, timeout=30)
    envelope(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST", "PUT", "DELETE"}
    for path in ("/segments%0A", "//segments"):
        response = requests.get(base + path, headers=headers, timeout=30, allow_redirects=False)
        envelope(response, 404)
    for response in (requests.request("FOO", f"{base}/segments", headers=headers, timeout=30),
                     requests.get(f"{base}/segments%0A", headers=headers, timeout=30)):
        assert all(name in response.headers for name in RATE_HEADERS), response.headers


def test_requests_to_stores_that_do_not_exist_keep_nothing(backend, tmp_path):
    storage = make_storage(backend, tmp_path)
    with serve_mock(storage) as mock:
        for i in range(20):
            response = requests.get(f"{mock.url}/stores/no-such-store-{i}/v3/segments", headers={"X-Auth-Token": TOKEN}, timeout=30)
            envelope(response, 401)
            assert response.headers["X-Rate-Limit-Requests-Left"] == "149"  # the default quota, never counted down
        assert not any(storage.has_store(f"no-such-store-{i}") for i in range(20))
        if backend == "memory":
            assert set(storage._windows) <= {STORE}
        else:
            with storage._connection() as conn:
                assert [row[0] for row in conn.execute("SELECT store FROM rate_windows")] in ([], [STORE])
    storage.close()


def test_the_journal_keeps_previews_of_large_bodies_not_the_bodies(mock, api):
    big = json.dumps([{"name": "x" * 1000} for _ in range(500)])  # about 500 KB; refused (names over 255 characters)
    api.post("/segments", data=big.encode(), headers={"Content-Type": "application/json"})
    journal = mock.app.extensions["segmentation_mock"]["journal"]
    stored = journal._entries[-1]
    assert len(stored["request_body"]) <= 8000 and len(stored["response_body"] or b"") <= 8000
    assert journal.query(limit=1)[0]["request_body"].endswith("…")


def test_the_control_plane_refuses_bad_bodies_with_400(mock):
    seed = f"{mock.url}/_mock/seed"
    deep = b"[" * 5000 + b"]" * 5000
    assert requests.post(seed, data=deep, headers={"Content-Type": "application/json"}, timeout=30).status_code == 400
    surrogate = b'{"stores": [{"store_hash": "x\\ud800"}]}'
    assert requests.post(seed, data=surrogate, headers={"Content-Type": "application/json"}, timeout=30).status_code == 400
    utf16 = '{"stores": [{"store_hash": "x\\ud800"}]}'.encode("utf-16")  # JSON in UTF-16: the escape's bytes differ
    assert requests.post(seed, data=utf16, headers={"Content-Type": "application/json"}, timeout=30).status_code == 400
    for escape in (b"\\ud800", b"\\U0000D800"):  # YAML has both escapes
        yaml_surrogate = b'stores: [{store_hash: "x' + escape + b'"}]'
        refused = requests.post(seed, data=yaml_surrogate, headers={"Content-Type": "application/yaml"}, timeout=30)
        assert refused.status_code == 400 and "surrogate" in refused.text, refused.text
    huge = {"stores": [{"store_hash": STORE, "customers": [{"id": 2**63, "email": "a@b", "first_name": "A", "last_name": "B"}]}]}
    assert requests.post(seed, json=huge, timeout=30).status_code == 400
    assert requests.get(f"{mock.url}/_mock/health", timeout=30).status_code == 200


def test_a_non_ascii_admin_token_is_refused_not_a_crash(backend, tmp_path):
    with serve_mock(make_storage(backend, tmp_path), default_config(admin_token="s3cret")) as mock:
        response = requests.get(f"{mock.url}/_mock/stores", headers={"X-Mock-Admin-Token": "s3crét".encode().decode("latin-1")},
                                timeout=30)
        assert response.status_code == 401
        assert requests.get(f"{mock.url}/_mock/stores", headers={"X-Mock-Admin-Token": "s3cret"}, timeout=30).status_code == 200


def test_a_seed_with_one_invalid_store_changes_no_store(mock, api):
    api.post("/segments", json=[{"name": "kept"}])
    fixture = {"stores": [{"store_hash": STORE, "segments": [{"name": "replaced"}]},
                          {"store_hash": "second", "segments": [{"name": "dup"}, {"name": "dup"}]}]}
    response = requests.post(f"{mock.url}/_mock/seed", json=fixture, timeout=30)
    assert response.status_code == 400, response.text
    assert [s["name"] for s in api.get("/segments").json()["data"]] == ["kept"]
    assert requests.get(f"{mock.url}/_mock/stores", timeout=30).json()  # the control plane still answers
    assert all(s["store_hash"] != "second" for s in requests.get(f"{mock.url}/_mock/stores", timeout=30).json()["stores"])


def test_seeds_racing_api_writes_keep_every_invariant(mock, api):
    """Each seed replaces the store in one transaction: a create lands wholly before or
    after it, so the store never passes 1000 segments or holds a name twice, and no
    request fails with a 500."""
    import threading

    fixture = {"stores": [{"store_hash": STORE, "segments": [{"name": f"seeded-{i}"} for i in range(990)]}]}
    statuses: list[int] = []

    def seed() -> None:
        for _ in range(3):
            statuses.append(requests.post(f"{mock.url}/_mock/seed", json=fixture, timeout=60).status_code)

    def create(worker: int) -> None:
        for round_ in range(8):
            body = [{"name": f"api-{worker}-{round_}-{i}"} for i in range(5)] + [{"name": f"seeded-{round_}"}]
            statuses.append(api.post("/segments", json=body).status_code)

    threads = [threading.Thread(target=seed)] + [threading.Thread(target=create, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 500 not in statuses and set(statuses) <= {200, 201, 409, 422}, statuses
    names = [s["name"] for page in range(1, 6) for s in api.get(f"/segments?limit=250&page={page}").json()["data"]]
    assert len(names) == len(set(names)) and len(names) <= 1000


def test_a_malformed_chunked_body_is_400_in_the_envelope(mock):
    import socket

    host, port = mock.url.split("//")[1].split(":")
    for path in (f"/stores/{STORE}/v3/segments", "/_mock/seed"):
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall((f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\n"
                                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n").encode())
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        status_line, _, rest = answer.decode("utf-8", "replace").partition("\r\n")
        assert status_line.split()[1] == "400", answer[:500]
        assert json.loads(rest.split("\r\n\r\n", 1)[1])["status"] == 400


def test_the_control_plane_has_its_own_body_limit_and_says_413_past_it():
    from mock_server.config import MockConfig
    from mock_server.http.app import create_app

    client = create_app(MockConfig(control_body_bytes=2000)).test_client()
    fixture = {"stores": [{"store_hash": "demo", "segments": [{"name": f"s{i}"} for i in range(5)]}]}
    assert client.post("/_mock/seed", json=fixture).status_code == 200
    big = {"stores": [{"store_hash": "demo", "segments": [{"name": f"segment-{i}"} for i in range(200)]}]}
    refused = client.post("/_mock/seed", json=big)
    assert refused.status_code == 413 and "2000 bytes" in refused.get_json()["title"]
    assert len(client.get("/_mock/snapshot?store_hash=demo").get_json()["stores"][0]["segments"]) == 5


def test_a_body_shorter_than_its_content_length_is_400_under_any_wsgi_server():
    """A WSGI server that hands the body over as a stream (not granian through the adapter):
    the client is gone before the body's first byte. werkzeug's stream says so; the
    answer is 400 in the envelope, with the rate-limit headers, and nothing is stored."""
    import io
    import sys

    from mock_server.http.app import create_app

    app = create_app(default_config())
    environ = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": f"/stores/{STORE}/v3/segments", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "100",
        "CONTENT_TYPE": "application/json", "HTTP_X_AUTH_TOKEN": TOKEN,
    }
    answer = {}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: answer.update(status=status, headers=dict(headers))))
    assert answer["status"].startswith("400"), (answer, body)
    assert json.loads(body)["title"] == "The request body could not be read." and set(RATE_HEADERS) <= set(answer["headers"])
    listed = app.test_client().get(f"/stores/{STORE}/v3/segments", headers={"X-Auth-Token": TOKEN})
    assert listed.json["data"] == []


def test_remembered_header_decisions_stay_bounded():
    """Accept/Content-Type decisions are remembered per value, but only for short values
    and at most 256 of them: ever-new or huge headers cost no memory."""
    from mock_server.http.negotiation import accepts_json

    for i in range(600):
        assert accepts_json(f"application/json;q=0.{i % 10}, text/x-{i}") is (i % 10 != 0)
        assert accepts_json("text/plain, " * 100 + f"application/json, text/x-{i}")  # 1,200+ characters
    info = accepts_json.cache_info()
    assert info.currsize <= 256 and info.maxsize == 256


def test_remembered_query_readings_stay_bounded_and_are_not_shared(api, make, mock):
    """A query string's reading is remembered per operation, but only for short strings
    and at most QUERY_READINGS_KEPT of them; each request gets values of its own, and a
    remembered refusal is answered again, the same."""
    from mock_server.http import validation

    segments = make.segments(3)
    ids = ",".join(s["id"] for s in segments[:2])
    for _ in range(3):  # the same query strings, answered from their readings
        found = api.get(f"/segments?id:in={ids}").json()["data"]
        assert {s["id"] for s in found} == {s["id"] for s in segments[:2]}
        assert api.get("/segments?limit=251").status_code == 413
        assert api.get("/segments?page=x").status_code == 400
    readings = mock.app.extensions["segmentation_mock"]["query_readings"].by_operation["GetPaginatedSegmentsList"]
    reading = readings[f"id:in={ids}"]
    first, second = reading.fresh_values(), reading.fresh_values()
    assert first == second and first["id:in"] is not second["id:in"]  # a request cannot change another's values
    for i in range(validation.QUERY_READINGS_KEPT + 100):
        assert api.get(f"/segments?page={i % 7 + 1}&limit={i % 50 + 1}&x={i}").status_code == 200
    long_query = "id:in=" + ",".join([segments[2]["id"]] * 20)  # over QUERY_READING_TEXT characters
    assert [s["id"] for s in api.get(f"/segments?{long_query}").json()["data"]] == [segments[2]["id"]]
    assert 0 < len(readings) <= validation.QUERY_READINGS_KEPT
    assert long_query not in readings


def test_query_readings_live_with_their_app(monkeypatch):
    """A reading is kept by the app that made it: an app made while the reading of
    parameters was different (a test's monkeypatch) leaves nothing to the next app."""
    from mock_server.http import validation
    from mock_server.http.app import create_app

    headers = {"X-Auth-Token": TOKEN}
    with monkeypatch.context() as patched:
        patched.setattr(validation, "_read_parameter", lambda parameter, raw: int(raw[0]) if parameter.type == "integer" else raw)
        lenient = create_app(default_config(), make_storage("memory", None)).test_client()
        assert lenient.get(f"/stores/{STORE}/v3/segments?limit=251", headers=headers).status_code == 200
    strict = create_app(default_config(), make_storage("memory", None)).test_client()
    assert strict.get(f"/stores/{STORE}/v3/segments?limit=251", headers=headers).status_code == 413
