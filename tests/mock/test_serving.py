"""The serving stack (``segmentation-mock serve``: granian and the adapter in
mock_server/serving.py) under clients that misbehave at the HTTP level: half-sent
requests hold no thread, a body that never arrives is answered in the envelope, and
what HTTP itself cannot parse is refused without HTML."""

from __future__ import annotations

import json
import shutil
import subprocess
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.mock.test_cli import served

TOKEN = "demo-modify-token"


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _answer(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _half_sent_body(base: str, path: str) -> socket.socket:
    connection = _connect(base)
    connection.sendall(
        f"POST {urlsplit(base).path}{path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{".encode()
    )
    return connection


def test_half_sent_requests_hold_no_thread():
    # Four threads; sixteen clients stop half-way (eight in their headers, eight in their
    # bodies) and the read timeout is far longer than the health request's patience.
    # Were a half-sent request to hold a thread, health would wait for the timeout.
    with served("--threads", "4", "--read-timeout", "60") as (_, urls, _):
        base = urls[0]
        root = base.split("/stores/")[0]
        stalled = [_half_sent_body(base, "/segments") for _ in range(8)]
        for _ in range(8):
            connection = _connect(base)
            connection.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
            stalled.append(connection)
        try:
            assert requests.get(f"{root}/_mock/health", timeout=10).json()["status"] == "ok"
            listed = requests.get(f"{base}/segments", headers={"X-Auth-Token": TOKEN}, timeout=10)
            assert listed.status_code == 200 and listed.json()["data"] == []
        finally:
            for connection in stalled:
                connection.close()


def test_a_body_that_stops_arriving_is_answered_400_in_the_envelope_and_nothing_is_stored():
    with served("--read-timeout", "1") as (_, urls, _):
        base = urls[0]
        with _half_sent_body(base, "/segments") as connection:
            status, headers, body = _answer(connection)
        assert status == 400
        assert headers["content-type"] == "application/json"
        assert "x-rate-limit-requests-left" in headers
        envelope = json.loads(body)
        assert envelope["status"] == 400 and "did not arrive within 1 s" in json.dumps(envelope["errors"])
        assert requests.get(f"{base}/segments", headers={"X-Auth-Token": TOKEN}, timeout=10).json()["data"] == []


@pytest.mark.parametrize(
    "framing, body, expected",
    [
        ("Content-Length: 50000000", "[", 413),  # declared over the limit: refused before it is sent
        ("Transfer-Encoding: chunked", "ZZ\r\nabc\r\n0\r\n\r\n", 400),  # malformed chunking
    ],
    ids=["declared too large", "malformed chunked"],
)
def test_a_body_refused_by_its_framing_is_answered_in_the_envelope(framing, body, expected):
    with served() as (_, urls, _):
        base = urls[0]
        with _connect(base) as connection:
            connection.sendall(
                f"POST {urlsplit(base).path}/segments HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\n"
                f"Content-Type: application/json\r\n{framing}\r\n\r\n{body}".encode()
            )
            status, headers, answer = _answer(connection)
        assert status == expected and json.loads(answer)["status"] == expected and "x-rate-limit-requests-left" in headers


def test_the_path_is_decoded_once():
    with served() as (_, urls, _):
        base = urls[0]
        auth = {"X-Auth-Token": TOKEN}
        assert requests.get(f"{base}/segm%65nts", headers=auth, timeout=10).status_code == 200
        twice = requests.get(f"{base}/segm%2565nts", headers=auth, timeout=10)
        assert twice.status_code == 404 and "/segm%65nts" in twice.json()["errors"]["path"]
        accented = requests.get(f"{base}/s%C3%A9gments", headers=auth, timeout=10)
        assert accented.status_code == 404 and "/ségments" in accented.json()["errors"]["path"]


def test_what_http_cannot_parse_is_refused_without_html():
    # The HTTP layer's own limits (documented in the README): more than 100 header fields,
    # or a request head over 400 KB, is 431; an unparseable request line is 400. No HTML.
    with served() as (_, urls, _):
        base = urls[0]
        many = "".join(f"X-H{i}: v\r\n" for i in range(150))
        for request, expected in (
            (f"GET {urlsplit(base).path}/segments HTTP/1.1\r\nHost: x\r\n{many}\r\n", 431),
            (f"GET {urlsplit(base).path}/segments?{'a' * 500_000} HTTP/1.1\r\nHost: x\r\n\r\n", 431),
            ("NOT HTTP AT ALL\r\n\r\n", 400),
        ):
            status, body = _refused(base, request.encode())
            assert status == expected and b"<html" not in body.lower()


def _refused(base: str, request: bytes, attempts: int = 3) -> tuple[int, bytes]:
    """The status and body of a request the server refuses before reading it all. A server
    that closes a connection with unread bytes in it resets it, and a reset may discard
    the answer on its way to the client (TCP, not the server): such an attempt is retried."""
    for attempt in range(attempts):
        try:
            with _connect(base) as connection:
                try:
                    connection.sendall(request)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused mid-send: the answer may still be there to read
                status, _, body = _answer(connection)
                return status, body
        except (ConnectionResetError, IndexError, ValueError):  # reset, or nothing came back
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def test_a_header_spelled_with_underscores_does_not_stand_in_for_one_with_dashes():
    with served() as (_, urls, _):
        answer = requests.get(f"{urls[0]}/segments", headers={"X_Auth_Token": TOKEN}, timeout=10)
        assert answer.status_code == 401


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed (.ci/run installs it)")
def test_http2_without_tls_is_served_like_http1():
    with served() as (_, urls, _):
        result = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-H", f"X-Auth-Token: {TOKEN}",
                                 "-w", "\\n%{http_version}", f"{urls[0]}/segments"], capture_output=True, text=True, timeout=30)
        body, version = result.stdout.rsplit("\n", 1)
        assert version == "2" and json.loads(body)["data"] == []
