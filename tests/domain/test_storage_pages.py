"""The in-memory backend keeps its lists as ranked keys (``memory.Ranked``) so that a page
costs the same at any offset. Whatever sequence of writes, its pages must be the pages
SQLite's plain ``ORDER BY … LIMIT … OFFSET`` gives: both backends, same operations,
every page compared after every step."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.domain.model import Customer, Segment, ShopperProfile
from mock_server.storage import MemoryStorage, SqliteStorage
from mock_server.storage.memory import Ranked

STORE = "pages"

operation = st.one_of(
    st.tuples(st.just("create"), st.integers(1, 90)),  # profiles (with customers) at once; past Ranked.BULK too
    st.tuples(st.just("delete_profiles"), st.lists(st.integers(0, 100), max_size=80)),
    st.tuples(st.just("add"), st.integers(0, 2), st.lists(st.integers(0, 100), max_size=80)),
    st.tuples(st.just("remove"), st.integers(0, 2), st.lists(st.integers(0, 100), max_size=80)),
    st.tuples(st.just("delete_customers"), st.lists(st.integers(0, 100), max_size=80)),
    st.tuples(st.just("delete_all_profiles")),
)


def _pages(tx, segments: list[str]) -> dict:
    def ids(page):
        return [item.id for item in page[1]], page[0]

    pages = {}
    for offset, limit in ((0, 5), (3, 7), (20, 50), (0, 250)):
        pages[("profiles", offset, limit)] = ids(tx.profiles_page(offset, limit))
        pages[("customers", offset, limit)] = ids(tx.customers_page(None, offset, limit))
        for sid in segments:
            pages[(sid, offset, limit)] = ids(tx.segment_members_page(sid, offset, limit))
    return pages


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(operation, min_size=1, max_size=12))
@example([("create", 3), ("add", 0, [2]), ("add", 0, [0])])  # an earlier profile joins after a later one
@example([("create", 90), ("add", 1, list(range(90))), ("delete_profiles", list(range(0, 90, 2))), ("create", 5)])
def test_memory_pages_match_sqlite_pages_after_any_writes(tmp_path_factory, operations):
    backends = [MemoryStorage(), SqliteStorage(tmp_path_factory.mktemp("pages") / "s.db")]
    segments = [str(uuid.UUID(int=i + 1)) for i in range(3)]
    created: list[tuple[str, int]] = []  # (profile id, customer id), in creation order
    for storage in backends:
        storage.add_store(STORE)
        with storage.transaction(STORE, write=True) as tx:
            tx.insert_segments([Segment(sid, f"s{i}", "", 0, 0) for i, sid in enumerate(segments)])
    for step in operations:
        if step[0] == "create":
            start = len(created)
            created += [(str(uuid.UUID(int=10_000 + start + i)), start + i + 1) for i in range(step[1])]
        for storage in backends:
            with storage.transaction(STORE, write=True) as tx:
                alive = {p.id for p in tx.profiles_page(0, 10_000)[1]}
                chosen = lambda picks: list(dict.fromkeys(created[i][0] for i in picks if i < len(created)))  # noqa: E731
                if step[0] == "create":
                    fresh = created[len(created) - step[1]:]
                    tx.insert_customers([Customer(cid, f"c{cid}@x.test", "a", "b", 0, 0, 0) for _, cid in fresh])
                    tx.insert_profiles([ShopperProfile(pid, cid, 0, 0) for pid, cid in fresh])
                elif step[0] == "delete_profiles":
                    tx.delete_profiles([p for p in chosen(step[1]) if p in alive])
                elif step[0] == "add":
                    wanted = [p for p in chosen(step[2]) if p in alive]
                    present = tx.members_among(segments[step[1]], wanted)  # the domain adds non-members only
                    tx.add_members(segments[step[1]], [p for p in wanted if p not in present])
                elif step[0] == "remove":
                    tx.remove_members(segments[step[1]], chosen(step[2]))
                elif step[0] == "delete_customers":
                    tx.delete_customers([created[i][1] for i in step[1] if i < len(created)])
                else:
                    tx.delete_profiles(None)
        pages = []
        for storage in backends:
            with storage.transaction(STORE, write=False) as tx:
                pages.append(_pages(tx, segments))
        assert pages[0] == pages[1], step


def test_ranked_keys_insert_out_of_order_and_remove_in_bulk():
    rank = {f"k{i}": i for i in range(300)}
    ranked = Ranked(rank.__getitem__)
    for key in ["k5", "k9", "k1", "k7", "k3"]:
        ranked.add(key)
    assert ranked.page(0, 10) == ["k1", "k3", "k5", "k7", "k9"]
    ranked.discard_many(["k5", "k2"])  # one absent key: nothing happens to it
    assert ranked.page(1, 2) == ["k3", "k7"]
    for i in range(10, 300):
        ranked.add(f"k{i}")
    ranked.discard_many([f"k{i}" for i in range(10, 290)])  # past BULK: one filtering pass
    assert ranked.page(0, 100) == ["k1", "k3", "k7", "k9"] + [f"k{i}" for i in range(290, 300)]
    assert len(ranked) == 14


def test_a_data_file_from_before_kept_sizes_and_places_is_migrated_on_open(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    storage = SqliteStorage(path)
    storage.add_store(STORE)
    with storage.transaction(STORE, write=True) as tx:
        tx.insert_segments([Segment("seg", "s", "", 0, 0)])
        tx.insert_customers([Customer(i, f"c{i}@x.test", "a", "b", 0, 0, 0) for i in (1, 2, 3)])
        tx.insert_profiles([ShopperProfile(f"p{i}", i, 0, 0) for i in (1, 2, 3)])
        tx.add_members("seg", ["p3", "p1"])
    storage.close()
    # Take the file back to the earlier layout: no profile_seq column, no kept sizes.
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "DROP INDEX memberships_in_order; ALTER TABLE memberships DROP COLUMN profile_seq; DROP TABLE sizes;"
        )
    reopened = SqliteStorage(path)
    with reopened.transaction(STORE, write=False) as tx:
        assert [p.id for p in tx.segment_members_page("seg", 0, 10)[1]] == ["p1", "p3"]
        assert tx.segment_members_page("seg", 0, 10)[0] == 2
        assert tx.profiles_page(0, 10)[0] == 3 and tx.customers_page(None, 2, 10)[0] == 3
    with reopened.transaction(STORE, write=True) as tx:
        tx.delete_profiles(["p1"])
    with reopened.transaction(STORE, write=False) as tx:
        assert tx.segment_members_page("seg", 0, 10)[0] == 1 and tx.profiles_page(0, 10)[0] == 2
