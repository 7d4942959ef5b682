"""The request journal: the last N API requests with their answers and, when rejected,
why (the error envelope's title and field messages). Every unscoped DELETE (one whose
filter is absent, so it removes everything) is marked.

The journal lives in the serving process: with several worker processes, each keeps its own.
Bodies are kept only as far as their preview needs (a few KB each), so its memory is bounded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from typing import Any

BODY_PREVIEW = 2000
_KEPT = BODY_PREVIEW * 4  # what the journal keeps of a body: enough for its preview, never the whole
# of a large one (a 1 MiB body costs the journal at most a few KB)


class Journal:
    def __init__(self, size: int = 1000):
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def record(self, entry: dict[str, Any]) -> None:
        """Keeps ``entry`` (the journal owns it from now on, so it is completed in place)."""
        # Bodies are kept as previews: the journal's memory is bounded by entries x preview size.
        for key in ("request_body", "response_body"):
            body = entry.get(key)
            if body is not None and len(body) > _KEPT:
                entry[key] = body[:_KEPT]
        entry["time"] = time.time()
        with self._lock:
            entry["seq"] = next(self._seq)
            self._entries.append(entry)

    def clear(self, store_hash: str | None = None) -> None:
        with self._lock:
            kept = [e for e in self._entries if store_hash is not None and e["store_hash"] != store_hash]
            self._entries.clear()
            self._entries.extend(kept)

    def query(
        self,
        store_hash: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: str | None = None,
        unscoped_delete: bool | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first. ``path`` matches a prefix of the path under the store's base;
        ``status`` an exact code or a class (``4xx``)."""
        with self._lock:
            entries = list(self._entries)
        found = []
        for entry in reversed(entries):
            if store_hash and entry["store_hash"] != store_hash:
                continue
            if method and entry["method"] != method.upper():
                continue
            if path and not entry["path"].startswith(path):
                continue
            if status and not _status_matches(entry["status"], status):
                continue
            if unscoped_delete is not None and entry["unscoped_delete"] != unscoped_delete:
                continue
            found.append({**entry, "duration_ms": round(entry["duration_ms"], 3), "request_body": preview(entry["request_body"]),
                          "response_body": preview(entry["response_body"])})
            if len(found) >= limit:
                break
        return found


def _status_matches(actual: int, wanted: str) -> bool:
    wanted = wanted.lower()
    if len(wanted) == 3 and wanted.endswith("xx"):
        return str(actual)[0] == wanted[0]
    return str(actual) == wanted


def preview(raw: bytes | str | None) -> str | None:
    """Bodies are kept as the bytes that were sent, and decoded only when read."""
    if raw is None:
        return None
    text = raw[:_KEPT].decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= BODY_PREVIEW else text[:BODY_PREVIEW] + "…"
