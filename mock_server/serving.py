"""The serving stack: granian in front of the Flask app, through granian's native RSGI
interface and a thin adapter.

granian (a Rust HTTP server) parses requests, keeps connections alive, speaks TLS and
HTTP/2, runs the worker processes and stops them on SIGTERM or SIGINT; it times out
half-sent headers. Its WSGI mode would hand a request to a Python thread before the body
has arrived, so a client that stops half-way through a body would hold that thread for
good. The adapter below therefore reads each request, one step after another:

1. the body, on the worker's event loop (no thread held), within ``read_timeout``
   seconds and at most one byte past the limit (past it the app answers 413): the
   API's ``max_body_bytes``, or the control plane's ``control_body_bytes`` (a seed);
2. the complete request goes to a bounded pool of threads that run the WSGI app;
3. the answer is written in one piece (the app's answers are small JSON documents).

A body that cannot be read (too slow, malformed chunking, the client gone) reaches the
app as an empty stream and the reason under ``environ[UNREADABLE_BODY]``: the app answers
400 in its envelope, with the rate-limit headers, naming the reason.
"""

from __future__ import annotations

import asyncio
import gc
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

READ_TIMEOUT = 10.0  # seconds for a request's headers (granian) and, separately, its body (here)
UNREADABLE_BODY = "segmentation_mock.unreadable_body"  # environ key: why the body could not be read
BODY = "segmentation_mock.body"  # environ key: the body's bytes, read already (also in wsgi.input)


def settle_heap() -> None:
    """Move every object alive now out of the garbage collector's reach (``gc.freeze``),
    after collecting what is already garbage. For a serving process, after start-up and
    after each seed: the compiled document and seeded records live until a reset, and a
    full collection would otherwise walk all of them, pausing every request for tens of
    milliseconds at 50,000 objects and for seconds at a million profiles. A frozen object
    is still freed when nothing refers to it, unless it sits in a reference cycle: the
    store's records form none; of the requests in flight at that moment, what they hold in
    cycles (measured: werkzeug's routing closure, under a kilobyte each) is kept. Not for
    a test process: it would keep whatever garbage cycles the tests make."""
    gc.collect()
    gc.freeze()


def keep_heap_settled() -> None:
    """For a serving process: after every full collection, move its survivors out of the
    collector's reach too (``gc.freeze``), so that the next full collection walks only
    what was made since, not every record that requests created (at 50,000 segments made
    through the API, each full collection paused all requests for ~10 ms, which was the
    mock's p99 on writes). What a request makes in a reference cycle is freed by the
    collection that comes after the request; only a cycle alive at the very moment of a
    freeze is kept: measured, a request makes one (werkzeug's routing closure, 8 small
    objects, alive for the few microseconds of routing), so a freeze keeps at most one per
    request in flight, and usually none. Calling it again adds nothing."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def _freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


class RsgiAdapter:
    """An RSGI application that serves a WSGI app: whole body first, then a pool thread."""

    def __init__(self, wsgi_app: Callable, threads: int, max_body_bytes: int, read_timeout: float = READ_TIMEOUT,
                 control_body_bytes: int | None = None):
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.max_body_bytes = max_body_bytes
        self.control_body_bytes = control_body_bytes or max_body_bytes
        self.read_timeout = read_timeout
        self.pool: ThreadPoolExecutor | None = None

    # RSGI hooks: a worker process starts and stops its own pool.
    def __rsgi_init__(self, loop: Any) -> None:
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="mock")

    def __rsgi_del__(self, loop: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=False)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":  # websockets are off; nothing else reaches here
            return
        headers = scope.headers
        environ = self.environ(scope, headers)
        limit = self.control_body_bytes if environ["PATH_INFO"].startswith("/_mock/") else self.max_body_bytes
        declared = environ.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and int(declared) > limit:
            environ["wsgi.input"] = io.BytesIO()  # the app refuses it (413) from the header alone
        elif declared == "0" or (declared is None and "transfer-encoding" not in headers):
            environ["wsgi.input"] = io.BytesIO()
        else:
            body, problem = await self.read_body(protocol, limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ[BODY] = body
            if problem:
                environ[UNREADABLE_BODY] = problem
        if self.pool is None:  # a server that does not call the RSGI init hook: make the pool on first use
            self.__rsgi_init__(None)
        status, response_headers, body = await asyncio.get_running_loop().run_in_executor(self.pool, self.call, environ)
        protocol.response_bytes(status, response_headers, body)

    async def read_body(self, protocol: Any, limit: int) -> tuple[bytes, str]:
        """The body (at most one byte past the limit) and, when it could not be read, why."""
        chunks: list[bytes] = []
        size = 0

        async def collect() -> None:
            nonlocal size
            async for chunk in protocol:
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    return  # enough to know it is too large; the rest is never read

        try:
            await asyncio.wait_for(collect(), self.read_timeout)
        except asyncio.TimeoutError:
            return b"", f"the body did not arrive within {self.read_timeout:g} s"
        except Exception as exc:  # malformed chunking, a client gone mid-body
            return b"", f"{type(exc).__name__}: {exc}"[:200]
        return b"".join(chunks), ""

    @staticmethod
    def environ(scope: Any, headers: Any) -> dict[str, Any]:
        """PEP 3333's environ for a request. granian gives the path percent-decoded, as
        text; WSGI wants its bytes read as Latin-1 (the app decodes them as UTF-8)."""
        server_host, _, server_port = scope.server.rpartition(":")
        client_host = scope.client.rpartition(":")[0] if ":" in scope.client else scope.client
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host.strip("[]"),
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host.strip("[]"),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            if "_" in name:  # `X_Auth_Token` would land on X-Auth-Token's key: dropped, as gunicorn and nginx do
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if "HTTP_HOST" not in environ and scope.authority:  # HTTP/2 names the host in :authority
            environ["HTTP_HOST"] = scope.authority
        return environ

    def call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        answer: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            answer[:] = [int(status[:3]), response_headers]
            return lambda data: None  # the legacy write() callable; the app never uses it

        result = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer[0], answer[1], body
