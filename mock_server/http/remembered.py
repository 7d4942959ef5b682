"""Answers of list operations, remembered while no store's data changes.

A page of a list is read from the store and rendered to JSON on every request, and in a
served mock that is most of what a GET of 50 segments costs. A list's answer depends
only on the stores' data and on the request (store, path, query), so it is kept with the
storage's *revision* (``Storage.revision``: a number every write, reset and new store
moves) and served again while the revision stays. Anything else — a refusal, another
status, a backend that cannot tell its revision (SQLite, whose file other processes may
write) — is made every time.

Bounded: only query strings of at most ``LONGEST_QUERY`` characters, and at most
``KEPT_BYTES`` of answers (all are dropped when more would be kept).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..storage.base import Storage
from .representations import Encoded

LONGEST_QUERY = 256
KEPT_BYTES = 8 * 1024 * 1024


class ListAnswers:
    def __init__(self, storage: Storage, kept_bytes: int = KEPT_BYTES):
        self.storage = storage
        self.kept_bytes = kept_bytes
        self._answers: dict[tuple, tuple[int, int, Encoded]] = {}  # key -> (revision, status, body)
        self._bytes = 0
        self._lock = threading.Lock()

    def answer(self, key: tuple, query_string: str, make: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        """``make()``'s answer, or the one it gave for ``key`` at the current revision."""
        revision = self.storage.revision()
        if revision is None or len(query_string) > LONGEST_QUERY:
            return make()
        key = (*key, query_string)
        found = self._answers.get(key)
        if found is not None and found[0] == revision:
            return found[1], found[2]
        status, body = make()
        # Kept only if nothing was written while it was read: then it is the answer at `revision`.
        if status == 200 and isinstance(body, Encoded) and self.storage.revision() == revision:
            size = len(body.data)
            with self._lock:
                if self._bytes + size > self.kept_bytes:
                    self._answers.clear()
                    self._bytes = 0
                previous = self._answers.get(key)
                if previous is not None:
                    self._bytes -= len(previous[2].data)
                self._answers[key] = (revision, status, body)
                self._bytes += size
        return status, body

    def __len__(self) -> int:
        return len(self._answers)
