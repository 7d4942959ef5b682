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
    encode = representations._encoder(lambda s: {"name": s.name}).one  # a render of its own: a fresh cache
    for i in range(2000):  # each record dies after use; CPython hands its memory (and id) to the next
        record = Segment(f"id-{i}", f"name-{i}", "", 0, 0)
        assert json.loads(encode(record)) == {"name": f"name-{i}"}
        assert json.loads(encode(record)) == {"name": f"name-{i}"}  # the second time from the cache


def test_equal_records_share_text_and_threads_agree():
    encode = representations._encoder(segment_json).one
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


def test_a_page_is_joined_from_its_own_records_only(monkeypatch):
    """The page path (identity look-ups in one pass, misses encoded one by one) gives each
    record's own text, in order, while records die, their ids are reused and the cache
    is emptied under it."""
    monkeypatch.setattr(representations, "_CACHED_RECORDS", 7)
    encoder = representations._encoder(lambda s: {"name": s.name})
    kept = [Segment(f"kept-{i}", f"kept-{i}", "", 0, 0) for i in range(5)]
    for i in range(500):
        fresh = [Segment(f"id-{i}-{k}", f"name-{i}-{k}", "", 0, 0) for k in range(i % 6)]
        page = [*fresh, *kept[: i % 5]] if i % 2 else [*kept[: i % 5], *fresh]
        text = encoder.joined(page)
        assert json.loads(f"[{text}]") == [{"name": record.name} for record in page]
        assert encoder.joined(page, "[", "]") == f"[{text}]"
    assert encoder.joined([]) == "" and encoder.joined([], "[", "]") == "[]"
