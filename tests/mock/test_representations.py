"""The records' JSON cache (representations._encoder): a cached text is only ever served
for the record it was made from, whatever identities Python reuses."""

from __future__ import annotations

import json
import threading

from mock_server.domain.model import Segment
from mock_server.http import representations
from mock_server.http.representations import segment_json


def test_cached_json_never_outlives_its_record(monkeypatch):
    monkeypatch.setattr(representations, "_CACHED_RECORDS", 3)  # emptied often
    encode = representations._encoder(lambda s: {"name": s.name})  # a render of its own: a fresh cache
    for i in range(2000):  # each record dies after use; CPython hands its memory (and id) to the next
        record = Segment(f"id-{i}", f"name-{i}", "", 0, 0)
        assert json.loads(encode(record)) == {"name": f"name-{i}"}
        assert json.loads(encode(record)) == {"name": f"name-{i}"}  # the second time from the cache


def test_equal_records_share_text_and_threads_agree():
    encode = representations._encoder(segment_json)
    mismatches = []

    def work(offset: int) -> None:
        for i in range(3000):
            record = Segment(f"id-{(i + offset) % 50}", f"n-{(i + offset) % 50}", "", 0, 0)  # equal, not identical
            if json.loads(encode(record))["name"] != record.name:
                mismatches.append(record)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []
