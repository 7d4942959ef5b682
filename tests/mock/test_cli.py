"""``segmentation-mock serve`` under gunicorn: flags, banner, shutdown, SQLite restarts
and several worker processes sharing one SQLite file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support import check_against_contract

BANNER_URL = re.compile(r"base URL (https?://127\.0\.0\.1:\d+/stores/\S+/v3)")


@contextmanager
def served(*args: str, env: dict | None = None, module: bool = False):
    command = [sys.executable, "-m", "mock_server"] if module else [os.path.join(os.path.dirname(sys.executable), "segmentation-mock")]
    proc = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("  state:"):
                break
        urls = [m.group(1) for m in map(BANNER_URL.search, lines) if m]
        assert urls, "".join(lines)
        yield proc, urls, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hang is a failure below
                proc.kill()
                proc.wait()
        proc.stdout.close()


def call(method, url, token, body=None):
    response = requests.request(method, url, json=body, headers={"X-Auth-Token": token}, timeout=30)
    check_against_contract(response)
    return response


def test_help_documents_every_fixed_flag():
    out = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ("--host", "--port", "--store-hash", "--token", "--readonly-token", "--data-file", "--workers", "--config"):
        assert flag in out


def test_default_demo_store_serves_and_stops_cleanly_on_sigterm():
    with served(module=True) as (proc, urls, banner):
        assert urls == [urls[0]] and "/stores/demo/v3" in urls[0]
        assert "demo-modify-token" in banner and "demo-readonly-token" in banner
        created = call("POST", urls[0] + "/segments", "demo-modify-token", [{"name": "VIP"}])
        assert created.status_code == 201
        assert call("GET", urls[0] + "/segments", "demo-readonly-token").json()["data"][0]["name"] == "VIP"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_sigint_also_stops_it():
    with served() as (proc, urls, _):
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0


def test_explicit_store_and_tokens_from_flags_and_environment():
    with served("--store-hash", "abc123", "--token", "tok", env={"SEGMENTATION_MOCK_READONLY_TOKEN": "ro"}) as (_, urls, banner):
        [url] = urls
        assert url.endswith("/stores/abc123/v3") and "demo" not in banner
        assert call("POST", url + "/segments", "tok", [{"name": "x"}]).status_code == 201
        assert call("POST", url + "/segments", "ro", [{"name": "y"}]).status_code == 403
        assert call("GET", url + "/segments", "ro").status_code == 200


def test_config_file_adds_stores(tmp_path):
    config = tmp_path / "stores.yaml"
    config.write_text("stores:\n  - {store_hash: s1, token: t1}\n  - {store_hash: s2, token: t2, readonly_token: r2}\n")
    with served("--config", str(config)) as (_, urls, _banner):
        assert [u.rsplit("/stores/", 1)[1] for u in urls] == ["s1/v3", "s2/v3"]
        assert call("GET", urls[0] + "/segments", "t1").status_code == 200
        assert call("GET", urls[0] + "/segments", "t2").status_code == 401


def test_workers_need_the_sqlite_backend():
    result = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--workers", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--data-file" in result.stderr


def test_half_given_store_flags_are_refused():
    result = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--store-hash", "x"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--token" in result.stderr


def test_sqlite_state_survives_a_restart(tmp_path):
    data = str(tmp_path / "state.db")
    with served("--data-file", data) as (_, [url], _banner):
        token = "demo-modify-token"
        [customer] = call("POST", url + "/customers", token, [{"email": "a@b.c", "first_name": "A", "last_name": "B"}]).json()["data"]
        [profile] = call("POST", url + "/shopper-profiles", token, [{"customer_id": customer["id"]}]).json()["data"]
        segments = call("POST", url + "/segments", token, [{"name": "one"}, {"name": "two", "description": "d"}]).json()["data"]
        call("POST", url + f"/segments/{segments[1]['id']}/shopper-profiles", token, [profile["id"]])
        before = {
            path: call("GET", url + path, token).json()
            for path in ("/segments", "/shopper-profiles", "/customers?include=segment_ids,shopper_profile_id",
                         f"/segments/{segments[1]['id']}/shopper-profiles")
        }
    with served("--data-file", data) as (_, [url], _banner):
        after = {path: call("GET", url + path, token).json() for path in before}
        assert after == before
        [again] = call("POST", url + "/customers", token, [{"email": "c@d.e", "first_name": "C", "last_name": "D"}]).json()["data"]
        assert again["id"] == customer["id"] + 1


def test_worker_processes_share_state_and_keep_invariants(tmp_path):
    data = str(tmp_path / "state.db")
    with served("--data-file", data, "--workers", "2", "--threads", "4") as (_, [url], _banner):
        token = "demo-modify-token"
        for batch in range(9):
            body = [{"name": f"pre-{batch}-{i}"} for i in range(110)]
            assert call("POST", url + "/segments", token, body).status_code == 201

        def create(i):
            return requests.post(url + "/segments", json=[{"name": f"race-{i}"}], headers={"X-Auth-Token": token}, timeout=30).status_code

        def duplicate(_):
            return requests.post(url + "/segments", json=[{"name": "same"}], headers={"X-Auth-Token": token}, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = Counter(pool.map(create, range(32)))
        assert statuses == {201: 10, 422: 22}
        call("DELETE", url + "/segments?id:in=" + ",".join(
            s["id"] for s in call("GET", url + "/segments?limit=20", token).json()["data"]), token)
        with ThreadPoolExecutor(max_workers=16) as pool:
            assert Counter(pool.map(duplicate, range(16))) == {201: 1, 409: 15}
        assert call("GET", url + "/segments", token).json()["meta"]["pagination"]["total"] == 981


@pytest.mark.parametrize("workers", ["1", "2"])
def test_seed_at_startup(tmp_path, workers):
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text(
        "stores:\n"
        "  - store_hash: seeded\n"
        "    token: seeded-token\n"
        "    customers: [{email: a@b.c, first_name: A, last_name: B}]\n"
        "    segments: [{name: From fixture}]\n"
    )
    args = ["--seed", str(fixture)] + (["--workers", workers, "--data-file", str(tmp_path / "s.db")] if workers != "1" else [])
    with served(*args) as (_, urls, _banner):
        url = urls[0].replace("/stores/demo/", "/stores/seeded/")
        for _ in range(4):  # whichever worker answers
            assert [s["name"] for s in call("GET", url + "/segments", "seeded-token").json()["data"]] == ["From fixture"]


def test_https_with_a_generated_self_signed_certificate():
    with served("--tls-self-signed") as (_, [url], banner):
        assert url.startswith("https://")
        cert = re.search(r"TLS certificate: (\S+)", banner).group(1)
        response = requests.get(url + "/segments", headers={"X-Auth-Token": "demo-modify-token"}, verify=cert, timeout=30)
        assert response.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/segments", timeout=30)  # untrusted without the certificate
    assert not Path(cert).parent.exists(), "the temporary pair (with its private key) is removed at shutdown"


def test_a_tls_dir_keeps_one_pair_at_a_fixed_path_across_starts(tmp_path):
    folder = tmp_path / "tls"
    with served("--tls-dir", str(folder)) as (_, [url], banner):
        assert f"TLS certificate: {folder / 'cert.pem'}" in banner
        first = (folder / "cert.pem").read_bytes()
        assert requests.get(url + "/segments", headers={"X-Auth-Token": "demo-modify-token"}, verify=str(folder / "cert.pem"),
                            timeout=30).status_code == 200
    assert (folder / "cert.pem").exists() and oct((folder / "key.pem").stat().st_mode & 0o777) == "0o600"
    with served("--tls-dir", str(folder)) as (_, [url], _banner):
        assert (folder / "cert.pem").read_bytes() == first  # reused, so clients keep trusting the same file
        assert requests.get(url.replace("/stores/demo/v3", "/_mock/health"), verify=str(folder / "cert.pem"),
                            timeout=30).status_code == 200
    (folder / "cert.pem").write_text("not a certificate")
    with served("--tls-dir", str(folder)) as (_, [url], _banner):
        assert (folder / "cert.pem").read_bytes() != first and b"BEGIN CERTIFICATE" in (folder / "cert.pem").read_bytes()


def test_https_with_a_given_certificate(tmp_path):
    from mock_server.tls import self_signed_pair

    cert, key = self_signed_pair(tmp_path)
    with served("--tls-cert", str(cert), "--tls-key", str(key)) as (_, [url], _banner):
        assert requests.get(url.replace("/stores/demo/v3", "/_mock/health"), verify=str(cert), timeout=30).status_code == 200


def test_tls_flags_go_together():
    result = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--tls-cert", "x.pem"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--tls-key" in result.stderr


@pytest.mark.parametrize("args, says", [
    (["--port", "70000"], "is not a port"),
    (["--data-file", "/nonexistent-dir/state.db"], "data file /nonexistent-dir/state.db"),
    (["--seed", "/nonexistent-dir/fixture.yaml"], "seed /nonexistent-dir/fixture.yaml"),
    (["--tls-cert", "/nonexistent-dir/c.pem", "--tls-key", "/nonexistent-dir/k.pem"], "TLS certificate or key cannot be used"),
])
def test_a_start_up_problem_is_one_line_before_the_banner_and_exit_2(args, says):
    result = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Segmentation mock on" not in result.stdout, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("segmentation-mock: error: ") and says in line, line


def test_a_taken_port_is_named_before_the_banner():
    with served() as (_, urls, _banner):
        port = urls[0].split(":")[2].split("/")[0]
        result = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", port], capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr


def test_a_dead_memory_worker_stops_the_server_instead_of_serving_an_empty_store():
    with served() as (proc, urls, _banner):
        # The banner comes when the server is ready, the worker just after: wait until it answers.
        assert requests.get(urls[0].replace("/stores/demo/v3", "/_mock/health"), timeout=30).status_code == 200
        deadline = time.monotonic() + 10
        while not (workers := children_of(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers, "no worker process"
        os.kill(workers[0], signal.SIGKILL)
        proc.wait(30)
        output = proc.stdout.read()
    assert proc.returncode == 3, output
    assert "in-memory backend died" in output, output


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc: no procps needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
