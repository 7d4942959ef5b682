"""How the suite talks HTTP: one requests Session whose every exchange is bounded and
goes only where the guard looked.

- **A redirect is an answer.** It is never followed: following one would send a request
  the guard never checked (a 307 to a DELETE keeps the method and may drop the
  ``id:in``), and would carry ``X-Auth-Token`` to whatever origin ``Location`` names.
- **An answer is bounded in size**: an endless or enormous body is cut off at
  MAX_ANSWER_BYTES instead of filling the memory.
- **An exchange ends on time.** requests' ``timeout`` bounds each wait for the next
  bytes, so a target that sends one byte every few seconds would hold the run forever.
  :func:`exchange` bounds the whole exchange (connection, request, headers, body) by
  wall-clock time: when the time is up, the socket the request was written on is shut
  down, and the exchange raises :class:`requests.Timeout`. The connection is known
  because the connection classes below note, per thread, which connection a request was
  last written on (urllib3's ``ConnectionCls``, through the pool classes of the
  session's pool manager).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool as urllib3_pools
from urllib3.poolmanager import ProxyManager

__all__ = ["AnswerTooLarge", "MAX_ANSWER_BYTES", "exchange", "new_session"]

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a page of 250 of the platform's largest items is well under 1 MiB


class AnswerTooLarge(requests.RequestException):
    """The answer's body (decoded) grew past MAX_ANSWER_BYTES: it is not read further."""


class _Exchange:
    """One bounded exchange of one thread: the connection it writes on, and whether its
    time is up."""

    __slots__ = ("lock", "connection", "sock", "over", "finished")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connection: Any = None
        self.sock: Any = None  # kept: a connection hands its socket to the answer when it will close
        self.over = False  # the time is up
        self.finished = False  # the exchange returned or raised: too late to cut

    def cut(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.over = True
            for sock in (self.sock, getattr(self.connection, "sock", None)):
                if sock is None:
                    continue
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once, in the exchange's thread
                except OSError:
                    pass

    def writes_on(self, connection: Any) -> None:
        with self.lock:
            self.connection = connection
            self.sock = getattr(connection, "sock", None) or self.sock
            if self.over:  # the time was up before the connection was made
                raise TimeoutError("the exchange's time is up")


_EXCHANGES: dict[int, _Exchange] = {}  # thread ident -> its exchange under way


class _Noted:
    """A connection that tells the thread's exchange under way that it is the one in use:
    when it connects (a socket exists only from then on) and when a request is written."""

    def connect(self) -> None:
        _note(self)
        super().connect()  # type: ignore[misc]
        _note(self)  # the time may have run out while connecting, with no socket yet to shut

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _note(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]


def _note(connection: Any) -> None:
    under_way = _EXCHANGES.get(threading.get_ident())
    if under_way is not None:
        under_way.writes_on(connection)


# urllib3's own names: they appear in error messages ("HTTPConnectionPool(host=...): ...").
class HTTPConnection(_Noted, urllib3_connection.HTTPConnection):
    pass


class HTTPSConnection(_Noted, urllib3_connection.HTTPSConnection):
    pass


class HTTPConnectionPool(urllib3_pools.HTTPConnectionPool):
    ConnectionCls = HTTPConnection


class HTTPSConnectionPool(urllib3_pools.HTTPSConnectionPool):
    ConnectionCls = HTTPSConnection


_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is ProxyManager:  # HTTP(S) proxies; a SOCKS manager keeps its own pools (and no hard bound)
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session() -> requests.Session:
    session = requests.Session()
    adapter = _Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def exchange(session: requests.Session, seconds: float, method: str, url: str, **kwargs: Any) -> requests.Response:
    """``method url`` and its whole answer within ``seconds`` (``requests.Timeout`` past
    them), redirects not followed, the body read whole unless it is larger than
    MAX_ANSWER_BYTES (:class:`AnswerTooLarge`). ``session`` should come from
    :func:`new_session`; another session still gets a bound on each wait, not on the
    whole."""
    me = threading.get_ident()
    under_way = _EXCHANGES[me] = _Exchange()
    timer = threading.Timer(seconds, under_way.cut)
    timer.daemon = True
    timer.start()
    try:
        response = session.request(method, url, timeout=seconds, allow_redirects=False, stream=True, **kwargs)
        _read_bounded(response, method, url)
    except requests.RequestException as error:
        if under_way.over:
            raise requests.Timeout(_late(seconds, method, url)) from error
        raise
    finally:
        with under_way.lock:
            under_way.finished = True
        timer.cancel()
        _EXCHANGES.pop(me, None)
    if under_way.over:  # cut while the body was read to its end: what arrived may be short
        response.close()
        raise requests.Timeout(_late(seconds, method, url))
    return response


def _read_bounded(response: requests.Response, method: str, url: str) -> None:
    """The body, read into the response (``.content``, ``.json()`` work as usual) unless
    it grows past MAX_ANSWER_BYTES: an endless or enormous answer cannot fill the memory."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(f"{method} {url}: the answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB")
            chunks.append(chunk)
    except BaseException:
        response.close()  # the connection is dropped, not reused with the rest unread
        raise
    response._content = b"".join(chunks)  # what requests itself keeps after reading a body


def _late(seconds: float, method: str, url: str) -> str:
    return f"{method} {url}: no complete answer within {seconds:g} s"
