"""The suite's HTTP exchanges end on time however slowly a target answers, and go only
where the guard looked: redirects are answers, never followed. Against real servers on
loopback sockets: ones that trickle their answer a byte at a time (in the head, in a
body with or without a length), and one that redirects to another."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import pytest
import requests

from conformance.client import ConformanceClient
from conformance.guard import SafetyGuard
from conformance.transport import MAX_ANSWER_BYTES, AnswerTooLarge, exchange, new_session
from mock_server.tls import self_signed_pair
from tests.conformance.test_suite_against_mock import CLI, read_report

TRICKLE_S = 0.3  # one byte this often: each wait is short, the whole answer never ends
NEVER_S = 60.0  # how long a trickling server keeps going; the bounds below are far shorter


@contextmanager
def raw_server(handle: Callable[[socket.socket], None], tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that runs ``handle`` on each connection (over TLS with ``tls``), in
    a thread; yields its URL and the requests it read (their first bytes)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    open_connections: list[socket.socket] = []
    stopping = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            try:
                if tls is not None:
                    connection = tls.wrap_socket(connection, server_side=True)
                received.append(connection.recv(65536))
                handle(connection)
            except OSError:
                pass  # the client went away: what these servers are for

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            open_connections.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stopping.set()
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (a close alone does not)
        except OSError:
            pass
        listener.close()
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        thread.join(5)


def trickle(head: bytes, then: bytes = b"x") -> Callable[[socket.socket], None]:
    """Sends ``head``, then ``then`` one byte every TRICKLE_S for NEVER_S."""
    def handle(connection: socket.socket) -> None:
        connection.sendall(head)
        ends = time.monotonic() + NEVER_S
        while time.monotonic() < ends:
            time.sleep(TRICKLE_S)
            connection.sendall(then)
    return handle


TRICKLES = {
    "in the head": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ", b"a"),
    "in a body with a length": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", b" "),
    "in a body read to the close": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n", b" "),
    "in chunks": trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", b"1\r\n \r\n"),
}


@pytest.mark.parametrize("where", list(TRICKLES))
def test_an_answer_that_trickles_is_cut_off_at_the_bound(where):
    with raw_server(TRICKLES[where]) as (url, _):
        started = time.monotonic()
        with pytest.raises(requests.Timeout, match="no complete answer within 1 s"):
            exchange(new_session(), 1.0, "GET", f"{url}/segments")
        # Far below NEVER_S (each wait for a byte is shorter than the bound: only the
        # exchange's own clock ends it); generous for a loaded machine.
        assert time.monotonic() - started < 20


def test_an_answer_that_trickles_over_tls_is_cut_off_at_the_bound(tmp_path):
    cert, key = self_signed_pair(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with raw_server(TRICKLES["in the head"], tls=context) as (url, received):
        with pytest.raises(requests.Timeout, match="no complete answer within 1 s"):
            exchange(new_session(), 1.0, "GET", f"{url}/segments", verify=str(cert))
    assert received and received[0].startswith(b"GET /segments")  # the request went through TLS


def _endless(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n[")
    block = b"0," * 32768
    ends = time.monotonic() + NEVER_S
    while time.monotonic() < ends:
        connection.sendall(block)


def test_an_endless_answer_is_cut_off_at_the_size_bound():
    """10 GB announced and sent as fast as loopback goes: the exchange stops reading past
    MAX_ANSWER_BYTES, long before its time bound, instead of filling the memory."""
    with raw_server(_endless) as (url, _):
        with pytest.raises(AnswerTooLarge, match=f"larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB"):
            exchange(new_session(), NEVER_S, "GET", f"{url}/segments")


def _answer(status: str, headers: str = "", body: bytes = b"{}") -> Callable[[socket.socket], None]:
    def handle(connection: socket.socket) -> None:
        while True:  # keep-alive: one answer per request read
            connection.sendall(f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            if not connection.recv(65536):
                return
    return handle


def test_a_bound_ends_with_its_exchange():
    """A quick answer is not cut later: the next exchange on the same kept-alive connection
    outlives the first one's bound."""
    with raw_server(_answer("200 OK", "Content-Type: application/json\r\n")) as (url, received):
        session = new_session()
        assert exchange(session, 0.5, "GET", f"{url}/segments").status_code == 200
        time.sleep(1.0)
        assert exchange(session, 30, "GET", f"{url}/segments").json() == {}
        assert len(received) == 1  # the same connection both times


def test_a_redirect_is_an_answer_and_is_not_followed():
    with raw_server(_answer("200 OK")) as (elsewhere, reached):
        to_elsewhere = _answer("307 Temporary Redirect", f"Location: {elsewhere}/stores/abc/v3/segments\r\n")
        with raw_server(to_elsewhere) as (url, _):
            client = ConformanceClient(f"{url}/stores/abc/v3", "secret-token", SafetyGuard(allow_destructive=True), [])
            answer = client.request("DELETE", "/segments?id:in=5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    assert answer.status_code == 307
    assert reached == []  # neither the DELETE nor the token went to the other origin


NESTED = b"[" * 100_000 + b"]" * 100_000  # valid JSON, deeper than Python's parser goes

FIRST_ANSWERS = {
    "trickles": (TRICKLES["in the head"], "did not answer GET {url}/stores/abc/v3/segments within 1 s"),
    "redirects": (_answer("301 Moved Permanently", "Location: http://127.0.0.1:9/stores/abc/v3/segments\r\n"),
                  "answered 301, a redirect to http://127.0.0.1:9/stores/abc/v3/segments"),
    "nests too deep": (_answer("200 OK", "Content-Type: application/json\r\n", NESTED), "answered 200 without a segment list"),
}


@pytest.mark.parametrize("what", list(FIRST_ANSWERS))
def test_the_cli_names_a_target_whose_first_answer_is_unusable(what, tmp_path):
    handle, expected = FIRST_ANSWERS[what]
    with raw_server(handle) as (url, received):
        result = subprocess.run([CLI, "--base-url", url, "--store-hash", "abc", "--token", "t", "--request-timeout", "1",
                                 "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 3 and "Traceback" not in output, output
    assert "TARGET PROBLEM" in result.stdout and expected.format(url=url) in result.stdout, output
    assert read_report(tmp_path)["verdict"] == "target problem"
    assert len(received) == 1  # the one GET; a redirect is not followed


def test_the_cli_reads_the_request_timeout_from_the_environment_too(tmp_path):
    with raw_server(TRICKLES["in the head"]) as (url, _):
        result = subprocess.run([CLI, "--base-url", url, "--store-hash", "abc", "--token", "t"], capture_output=True, text=True,
                                timeout=120, env={**os.environ, "CONFORMANCE_REQUEST_TIMEOUT": "1.5"})
    assert result.returncode == 3 and "within 1.5 s" in result.stdout, result.stdout + result.stderr


def test_a_token_the_target_echoes_is_masked_in_what_the_reports_show():
    def echo(connection: socket.socket) -> None:
        # The token in a header and in the body, as an echoing proxy or a debug endpoint would.
        token = "echoed-secret-token"
        body = f'{{"data": [], "echo": "{token}"}}'.encode()
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Echo: {token}\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    journal: list = []
    with raw_server(echo) as (url, received):
        client = ConformanceClient(f"{url}/stores/abc/v3", "echoed-secret-token", SafetyGuard(), journal)
        assert client.get("/segments").status_code == 200
    assert b"echoed-secret-token" in received[0]  # it was sent
    recorded = json.dumps(journal[0].as_dict())
    assert "echoed-secret-token" not in recorded and recorded.count("***") == 3, recorded


def test_a_short_token_is_not_masked_in_answers():
    """A one-letter token would turn up in any body: the answer is shown as it came."""
    body = b'{"data": [], "meta": {"total": 1}}'
    with raw_server(_answer("200 OK", "Content-Type: application/json\r\n", body)) as (url, _):
        journal: list = []
        ConformanceClient(f"{url}/stores/abc/v3", "t", SafetyGuard(), journal).get("/segments")
    assert journal[0].response_body == body.decode() and journal[0].request_headers["X-Auth-Token"] == "***"
