"""The control plane (/_mock): stores and tokens, reset, seed and snapshot, the request
journal, rate-limit settings. Real HTTP, both backends."""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from tests.support import OTHER_STORE, OTHER_TOKEN, STORE, TOKEN

P1 = "11111111-1111-4111-8111-111111111111"
S1, S2 = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
FIXTURE = {
    "stores": [
        {
            "store_hash": STORE,
            "customers": [
                {"id": 7, "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "date_created": "2023-05-01T10:00:00Z"},
                {"email": "bob@example.com", "first_name": "Bob", "last_name": "Ray", "customer_group_id": 2},
            ],
            "shopper_profiles": [{"id": P1, "customer_id": 7, "created_at": "2023-05-02T10:00:00Z"}],
            "segments": [
                {"id": S1, "name": "VIP", "description": "big", "shopper_profile_ids": [P1]},
                {"id": S2, "name": "Empty"},
            ],
        }
    ]
}


def control(mock, method, path, **kw):
    return requests.request(method, f"{mock.url}/_mock{path}", timeout=30, **kw)


def test_health_lists_stores(mock):
    body = control(mock, "GET", "/health").json()
    assert body["status"] == "ok" and STORE in body["stores"]


def test_create_store_and_issue_tokens(mock):
    created = control(mock, "POST", "/stores", json={"store_hash": "fresh", "token": "fresh-modify"})
    assert created.status_code == 201
    scopes = {t["scope"]: t["token"] for t in created.json()["tokens"]}
    assert scopes["modify"] == "fresh-modify" and scopes["read_only"]
    api = mock.client("fresh-modify", store="fresh")
    assert api.post("/segments", json=[{"name": "n"}]).status_code == 201
    assert mock.client(scopes["read_only"], store="fresh").post("/segments", json=[{"name": "m"}]).status_code == 403
    assert control(mock, "POST", "/stores", json={"store_hash": "fresh"}).status_code == 409
    issued = control(mock, "POST", "/stores/fresh/tokens", json={"scope": "read_only"}).json()
    assert mock.client(issued["token"], store="fresh").get("/segments").status_code == 200
    assert control(mock, "POST", "/stores/fresh/tokens", json={"scope": "admin"}).status_code == 400
    assert control(mock, "POST", "/stores/fresh/tokens", json={"token": TOKEN}).status_code == 409
    assert control(mock, "POST", "/stores/nope/tokens", json={}).status_code == 404
    listed = {s["store_hash"]: s for s in control(mock, "GET", "/stores").json()["stores"]}
    assert len(listed["fresh"]["tokens"]) == 3


def test_reset_one_store_or_all(mock, api, make):
    make.segment()
    other = mock.client(OTHER_TOKEN, store=OTHER_STORE)
    other.post("/segments", json=[{"name": "kept"}])
    assert control(mock, "POST", f"/reset?store_hash={STORE}").status_code == 200
    assert api.get("/segments").json()["data"] == []
    assert len(other.get("/segments").json()["data"]) == 1
    assert api.get("/segments").status_code == 200  # tokens stay
    control(mock, "POST", "/reset")
    assert other.get("/segments").json()["data"] == []
    assert control(mock, "POST", "/reset?store_hash=nope").status_code == 404


@pytest.mark.parametrize("encoding", ["json", "yaml"])
def test_seed_then_read_through_the_api(mock, api, encoding):
    if encoding == "json":
        response = control(mock, "POST", "/seed", json=FIXTURE)
    else:
        response = control(mock, "POST", "/seed", data=yaml.safe_dump(FIXTURE), headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200, response.text
    customers = api.get("/customers?include=shopper_profile_id,segment_ids").json()["data"]
    assert [c["id"] for c in customers] == [7, 8]
    assert customers[0]["date_created"] == "2023-05-01T10:00:00Z"
    assert customers[0]["shopper_profile_id"] == P1 and customers[0]["segment_ids"] == [S1]
    assert customers[1]["customer_group_id"] == 2 and customers[1]["shopper_profile_id"] is None
    assert [s["name"] for s in api.get("/segments").json()["data"]] == ["VIP", "Empty"]
    assert [p["id"] for p in api.get(f"/segments/{S1}/shopper-profiles").json()["data"]] == [P1]
    [later] = api.post("/customers", json=[{"email": "c@example.com", "first_name": "C", "last_name": "D"}]).json()["data"]
    assert later["id"] == 9
    assert api.post("/segments", json=[{"name": "VIP"}]).status_code == 409


def test_seed_replaces_the_store_and_snapshot_round_trips(mock, api, make):
    make.segment()
    control(mock, "POST", "/seed", json=FIXTURE)
    first = control(mock, "GET", f"/snapshot?store_hash={STORE}").json()
    [store] = first["stores"]
    assert [s["name"] for s in store["segments"]] == ["VIP", "Empty"]
    assert store["segments"][0]["shopper_profile_ids"] == [P1]
    assert store["last_customer_id"] == 8
    api.post("/segments", json=[{"name": "drift"}])
    assert control(mock, "POST", "/seed", json=first).status_code == 200
    assert control(mock, "GET", f"/snapshot?store_hash={STORE}").json() == first


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s["segments"].append({"name": "VIP"}), "stores[0].segments[2].name"),
        (lambda s: s["shopper_profiles"].append({"customer_id": 7}), "stores[0].shopper_profiles[1].customer_id"),
        (lambda s: s["shopper_profiles"].append({"customer_id": 99}), "stores[0].shopper_profiles[1].customer_id"),
        (lambda s: s["segments"][1].update(shopper_profile_ids=["cccccccc-cccc-4ccc-8ccc-cccccccccccc"]), "stores[0].segments[1].shopper_profile_ids"),
        (lambda s: s["customers"][1].update(email="ANN@example.com"), "stores[0].customers[1].email"),
        (lambda s: s["segments"][0].update(created_at="yesterday"), "stores[0].segments[0].created_at"),
        (lambda s: s["segments"][0].update(id=S1.upper()), "stores[0].segments[0].id"),
        (lambda s: s.update(segments=[{"name": f"n{i}"} for i in range(1001)]), "stores[0].segments"),
    ],
)
def test_seed_refuses_what_breaks_an_invariant_and_changes_nothing(mock, api, make, change, where):
    segment = make.segment()
    fixture = json.loads(json.dumps(FIXTURE))
    change(fixture["stores"][0])
    response = control(mock, "POST", "/seed", json=fixture)
    assert response.status_code == 400
    assert where in response.json()["errors"]
    assert [s["id"] for s in api.get("/segments").json()["data"]] == [segment["id"]]


def test_journal_records_requests_reasons_and_unscoped_deletes(mock, api, make):
    make.segment()
    api.post("/segments", json=[{"name": None}])
    api.get("/segments", token="bad")
    api.delete("/segments?ids=typo")
    mock.client(OTHER_TOKEN, store=OTHER_STORE).get("/segments")
    entries = control(mock, "GET", f"/journal?store_hash={STORE}").json()["entries"]
    assert [e["status"] for e in entries][:3] == [204, 401, 400]
    rejected = entries[2]
    assert rejected["operation"] == "SegmentsPostRequest" and rejected["rejected"]["errors"] == {"0.name": rejected["rejected"]["errors"]["0.name"]}
    assert "None" in rejected["rejected"]["errors"]["0.name"] and rejected["request_body"] == '[{"name": null}]'
    assert entries[0]["unscoped_delete"] is True and entries[0]["query"] == "ids=typo"
    marked = control(mock, "GET", "/journal?unscoped_delete=true").json()["entries"]
    assert [e["seq"] for e in marked] == [entries[0]["seq"]]
    only_400 = control(mock, "GET", "/journal?status=4xx&method=POST").json()["entries"]
    assert [e["status"] for e in only_400] == [400]
    assert control(mock, "GET", "/journal?path=/segments&limit=1").json()["entries"][0]["store_hash"] == OTHER_STORE
    assert control(mock, "DELETE", "/journal").status_code == 204
    assert control(mock, "GET", "/journal").json()["entries"] == []


def test_rate_limit_set_through_the_control_plane_stays_in_its_store(mock, api):
    response = control(mock, "PUT", f"/stores/{STORE}/rate-limit", json={"quota": 2, "window_ms": 60000, "enforce": True})
    assert response.status_code == 200 and response.json()["rate_limit"]["quota"] == 2
    assert [api.get("/segments").status_code for _ in range(3)] == [200, 200, 429]
    assert mock.client(OTHER_TOKEN, store=OTHER_STORE).get("/segments").status_code == 200
    assert control(mock, "PUT", f"/stores/{STORE}/rate-limit", json={"quota": 0}).status_code == 400


def test_malformed_control_bodies_are_400(mock):
    assert control(mock, "POST", "/seed", data=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert control(mock, "POST", "/seed", json={"nostores": []}).status_code == 400
    assert control(mock, "POST", "/stores", json={"store_hash": ""}).status_code == 400


def test_admin_token_guards_the_control_plane_not_the_api(backend, tmp_path):
    from tests.support import default_config, make_storage, serve_mock

    with serve_mock(make_storage(backend, tmp_path), default_config(admin_token="s3cret")) as mock:
        assert control(mock, "GET", "/health").status_code == 401
        assert control(mock, "POST", "/reset", headers={"X-Mock-Admin-Token": "wrong"}).status_code == 401
        assert control(mock, "GET", "/health", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
        assert mock.client().get("/segments").status_code == 200


def test_binding_beyond_loopback_needs_an_admin_token():
    from mock_server.cli import build_parser, config_from_args
    from mock_server.config import ConfigError

    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(ConfigError, match="--admin-token"):
            config_from_args(build_parser().parse_args(["serve", "--host", host]))
        config = config_from_args(build_parser().parse_args(["serve", "--host", host, "--admin-token", "t"]))
        assert config.admin_token == "t"
    for host in ("127.0.0.1", "localhost", "::1", "127.1.2.3"):
        assert config_from_args(build_parser().parse_args(["serve", "--host", host])).admin_token is None


def test_reset_restores_a_clean_state_faults_and_limits_included(mock, api, make):
    make.segment()
    api.validate = False  # the forced answer is outside the contract on purpose
    control(mock, "PUT", f"/stores/{STORE}/faults", json={"responses": [{"status": 500}], "latency_ms": 10})
    control(mock, "PUT", f"/stores/{STORE}/rate-limit", json={"quota": 1, "enforce": True})
    assert api.get("/segments").status_code == 500
    control(mock, "POST", f"/reset?store_hash={STORE}")
    api.validate = True
    assert [api.get("/segments").status_code for _ in range(3)] == [200, 200, 200]
    assert api.get("/segments").json()["data"] == []
    assert control(mock, "GET", f"/stores/{STORE}/faults").json() == {"latency_ms": None, "responses": [], "concurrency_limit": False}
    assert control(mock, "GET", "/journal").json()["entries"][0]["status"] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/stores/{STORE}/tokens"),
        ("PUT", f"/stores/{STORE}/rate-limit"),
        ("PUT", f"/stores/{STORE}/faults"),
        ("POST", f"/stores/{STORE}/eligibility"),
        ("PUT", f"/stores/{STORE}/customers/1/order-count"),
        ("POST", "/stores"),
        ("POST", "/seed"),
    ],
)
@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_control_bodies_that_are_not_objects_are_400(mock, method, path, body):
    assert control(mock, method, path, json=body if body is not None else None,
                   data=None if body is not None else b"null", headers={"Content-Type": "application/json"}).status_code == 400


@pytest.mark.parametrize("bad", [{"quota": "5"}, {"window_ms": 1.5}, {"quota": True}, {"enforce": "false"}])
def test_rate_limit_settings_are_typed(mock, bad):
    assert control(mock, "PUT", f"/stores/{STORE}/rate-limit", json=bad).status_code == 400
    assert control(mock, "GET", "/stores").json()["stores"][0]["rate_limit"]["enforce"] is False


def test_the_mock_serves_its_own_openapi_document(mock):
    from segmentation_contract import load_spec

    response = requests.get(f"{mock.url}/_mock/openapi.yaml", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.content) == load_spec()


def test_the_after_seed_hook_runs_once_per_written_seed():
    """The server settles its heap after a seed (serving.settle_heap); a refused seed
    writes nothing and calls nothing."""
    from mock_server.http.app import create_app
    from tests.support import default_config

    calls = []
    client = create_app(default_config(), after_seed=lambda: calls.append(1)).test_client()
    assert client.post("/_mock/seed", json=FIXTURE).status_code == 200 and calls == [1]
    assert client.post("/_mock/seed", json={"stores": [{"store_hash": ""}]}).status_code == 400 and calls == [1]


def test_settle_heap_freezes_what_is_alive_and_collects_what_is_not():
    import subprocess
    import sys

    script = (
        "import gc, weakref\n"
        "from mock_server.serving import settle_heap\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.other, b.other = b, a; cycle = weakref.ref(a); del a, b\n"  # garbage
        "kept = [Node() for _ in range(1000)]\n"
        "gc.disable(); settle_heap()\n"
        "print(gc.get_freeze_count() >= 1000, cycle() is None, any(type(o) is Node for o in gc.get_objects()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "False"]  # the kept nodes frozen (out of collections' reach); the cycle collected


def test_after_each_full_collection_its_survivors_are_frozen_and_later_garbage_is_still_found():
    import subprocess
    import sys

    script = (
        "import gc, weakref\n"
        "from mock_server.serving import keep_heap_settled, _freeze_after_full_collection\n"
        "class Node: pass\n"
        "keep_heap_settled(); keep_heap_settled()\n"
        "hooks = gc.callbacks.count(_freeze_after_full_collection)\n"
        "kept = [Node() for _ in range(1000)]\n"
        "before = gc.get_freeze_count(); gc.collect(); frozen = gc.get_freeze_count() - before\n"
        "a, b = Node(), Node(); a.other, b.other = b, a; cycle = weakref.ref(a); del a, b\n"  # garbage made after the freeze
        "gc.collect(1)\n"  # not a full collection: no freeze
        "unchanged = gc.get_freeze_count() - before == frozen\n"
        "print(hooks, frozen >= 1000, cycle() is None, unchanged, any(type(o) is Node for o in gc.get_objects()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    # hooked once; the survivors frozen; a cycle made later is still collected; only full collections freeze
    assert out == ["1", "True", "True", "True", "False"]
