"""SQLite backend: state in one file that survives restarts and is shared by workers.

Every write transaction starts with ``BEGIN IMMEDIATE``, which takes the database's
write lock: writers of every thread and every worker process are serialised, so the
domain's read-then-write rules (the 1000-segment cap, unique names, one profile per
customer) hold under racing requests. Readers use WAL snapshots and do not block.
Each thread of each process has its own connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..domain.model import EXTRA_CUSTOMER_FIELDS, Customer, Segment, ShopperProfile


def _customer(*row) -> Customer:
    """A customer row: the seven first columns, then the other fields as JSON."""
    extra = json.loads(row[7]) if len(row) > 7 and row[7] else {}
    if extra.get("channel_ids") is not None:
        extra["channel_ids"] = tuple(extra["channel_ids"])
    return Customer(*row[:7], **extra)


_EXTRA_DEFAULTS = tuple((name, Customer.__dataclass_fields__[name].default) for name in EXTRA_CUSTOMER_FIELDS)


def _extra(customer: Customer) -> str:
    """The fields after ``date_modified`` that differ from their defaults, as JSON (most
    customers have none: a seed of a million writes ``{}`` a million times, quickly)."""
    extra = {name: value for name, default in _EXTRA_DEFAULTS if (value := getattr(customer, name)) != default}
    if not extra:
        return "{}"
    if extra.get("channel_ids") is not None:
        extra["channel_ids"] = list(extra["channel_ids"])
    return json.dumps(extra, separators=(",", ":"))
from .base import PromotionStore, Storage, StoreTx, TokenInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    hash TEXT PRIMARY KEY,
    last_customer_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    scope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    seq INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (store, id),
    UNIQUE (store, name)
);
CREATE TABLE IF NOT EXISTS profiles (
    seq INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    id TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (store, id),
    UNIQUE (store, customer_id)
);
CREATE TABLE IF NOT EXISTS memberships (
    store TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    profile_seq INTEGER NOT NULL DEFAULT 0,  -- the profile's place in the list: a segment's profiles page by it
    PRIMARY KEY (store, segment_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_profile ON memberships (store, profile_id);
-- Lists page along these indexes: a page reads its rows and no others (see _paged).
CREATE INDEX IF NOT EXISTS profiles_in_order ON profiles (store, seq);
CREATE INDEX IF NOT EXISTS segments_in_order ON segments (store, seq);
CREATE TABLE IF NOT EXISTS customers (
    store TEXT NOT NULL,
    id INTEGER NOT NULL,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    customer_group_id INTEGER NOT NULL,
    date_created INTEGER NOT NULL,
    date_modified INTEGER NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (store, id),
    UNIQUE (store, email_lower)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS promotions (
    store TEXT NOT NULL,
    id INTEGER NOT NULL,
    redemption_type TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (store, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    store TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (store, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sizes (  -- the length of each long list, kept with every write
    store TEXT NOT NULL,
    name TEXT NOT NULL,  -- 'profiles', 'customers', 'members:<segment id>'
    value INTEGER NOT NULL,
    PRIMARY KEY (store, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rate_windows (
    store TEXT PRIMARY KEY,
    start_ms INTEGER NOT NULL,
    count INTEGER NOT NULL
);
"""

SEGMENT_COLUMNS = "id, name, description, created_at, updated_at"
PROFILE_COLUMNS = "id, customer_id, created_at, updated_at"
CUSTOMER_COLUMNS = "id, email, first_name, last_name, customer_group_id, date_created, date_modified, extra"
IN_LIST = "(SELECT value FROM json_each(?))"  # one parameter, any number of values


def _json(values) -> str:
    return json.dumps(list(values))


class SqliteStoreTx(StoreTx, PromotionStore):
    def __init__(self, conn: sqlite3.Connection, store: str):
        self.c = conn
        self.s = store

    def _all(self, sql: str, *args) -> list[tuple]:
        return self.c.execute(sql, (self.s, *args)).fetchall()

    def _one(self, sql: str, *args):
        return self.c.execute(sql, (self.s, *args)).fetchone()[0]

    def _size(self, name: str) -> int:
        row = self.c.execute("SELECT value FROM sizes WHERE store = ? AND name = ?", (self.s, name)).fetchone()
        return row[0] if row else 0

    def _grow(self, name: str, by: int) -> None:
        if by:
            self.c.execute(
                "INSERT INTO sizes (store, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (store, name) DO UPDATE SET value = value + excluded.value",
                (self.s, name, by),
            )

    def _paged(self, count_sql: str | int, rows_sql: str, args: tuple, offset: int, limit: int, make):
        """A page of ``rows_sql`` (which ends in ``ORDER BY <key>``). SQLite reaches an
        OFFSET by stepping over every row before it, so a page past the middle is read
        from the other end (``ORDER BY <key> DESC``) and turned around: the first and the
        last pages cost the same at any size, a page in the middle the most."""
        total = count_sql if isinstance(count_sql, int) else self._one(count_sql, *args)
        if offset >= total:
            return total, []
        if offset <= total // 2:
            return total, [make(*row) for row in self._all(rows_sql + " LIMIT ? OFFSET ?", *args, limit, offset)]
        end = min(total, offset + limit)
        rows = self._all(rows_sql + " DESC LIMIT ? OFFSET ?", *args, end - offset, total - end)
        return total, [make(*row) for row in reversed(rows)]

    def _filtered_page(self, table, columns, ids, order, offset, limit, make, size=None):
        """A page of a table, optionally only the rows whose ``id`` is in ``ids``; ``size``
        names the table's kept length, read instead of counting every row."""
        where, args = ("", ()) if ids is None else (f" AND id IN {IN_LIST}", (_json(ids),))
        return self._paged(
            self._size(size) if size and ids is None else f"SELECT count(*) FROM {table} WHERE store = ?{where}",
            f"SELECT {columns} FROM {table} WHERE store = ?{where} ORDER BY {order}",
            args,
            offset,
            limit,
            make,
        )

    # segments
    def segment_count(self):
        return self._one("SELECT count(*) FROM segments WHERE store = ?")

    def segments_page(self, ids, offset, limit):
        return self._filtered_page("segments", SEGMENT_COLUMNS, ids, "seq", offset, limit, Segment)

    def segments_by_id(self, ids):
        rows = self._all(f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE store = ? AND id IN {IN_LIST}", _json(ids))
        return {row[0]: Segment(*row) for row in rows}

    def segment_ids_by_name(self, names):
        return dict(self._all(f"SELECT name, id FROM segments WHERE store = ? AND name IN {IN_LIST}", _json(names)))

    def insert_segments(self, segments):
        self.c.executemany(
            f"INSERT INTO segments (store, {SEGMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [(self.s, s.id, s.name, s.description, s.created_at, s.updated_at) for s in segments],
        )

    def replace_segments(self, segments):
        # Names are unique: move every renamed segment aside first, so a batch may swap names.
        self.c.executemany(
            "UPDATE segments SET name = ? WHERE store = ? AND id = ?",
            [("\0" + s.id, self.s, s.id) for s in segments],
        )
        self.c.executemany(
            "UPDATE segments SET name = ?, description = ?, updated_at = ? WHERE store = ? AND id = ?",
            [(s.name, s.description, s.updated_at, self.s, s.id) for s in segments],
        )

    def delete_segments(self, ids):
        if ids is None:
            self.c.execute("DELETE FROM memberships WHERE store = ?", (self.s,))
            self.c.execute("DELETE FROM sizes WHERE store = ? AND name LIKE 'members:%'", (self.s,))
            return self.c.execute("DELETE FROM segments WHERE store = ?", (self.s,)).rowcount
        self.c.execute(f"DELETE FROM memberships WHERE store = ? AND segment_id IN {IN_LIST}", (self.s, _json(ids)))
        self.c.execute("DELETE FROM sizes WHERE store = ? AND name IN (SELECT 'members:' || value FROM json_each(?))",
                       (self.s, _json(ids)))
        return self.c.execute(f"DELETE FROM segments WHERE store = ? AND id IN {IN_LIST}", (self.s, _json(ids))).rowcount

    # shopper profiles
    def profiles_page(self, offset, limit):
        return self._filtered_page("profiles", PROFILE_COLUMNS, None, "seq", offset, limit, ShopperProfile, "profiles")

    def profiles_by_id(self, ids):
        rows = self._all(f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE store = ? AND id IN {IN_LIST}", _json(ids))
        return {row[0]: ShopperProfile(*row) for row in rows}

    def profile_ids_by_customer(self, customer_ids):
        return dict(
            self._all(f"SELECT customer_id, id FROM profiles WHERE store = ? AND customer_id IN {IN_LIST}", _json(customer_ids))
        )

    def insert_profiles(self, profiles):
        self.c.executemany(
            f"INSERT INTO profiles (store, {PROFILE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            [(self.s, p.id, p.customer_id, p.created_at, p.updated_at) for p in profiles],
        )
        self._grow("profiles", len(profiles))

    def touch_profiles(self, ids, updated_at):
        self.c.execute(
            f"UPDATE profiles SET updated_at = ? WHERE store = ? AND id IN {IN_LIST}", (updated_at, self.s, _json(ids))
        )

    def delete_profiles(self, ids):
        if ids is None:
            self.c.execute("DELETE FROM memberships WHERE store = ?", (self.s,))
            self.c.execute("DELETE FROM sizes WHERE store = ? AND name LIKE 'members:%'", (self.s,))
            deleted = self.c.execute("DELETE FROM profiles WHERE store = ?", (self.s,)).rowcount
            self._grow("profiles", -deleted)
            return deleted
        for segment_id, count in self._all(
            f"SELECT segment_id, count(*) FROM memberships WHERE store = ? AND profile_id IN {IN_LIST} GROUP BY segment_id",
            _json(ids),
        ):
            self._grow(f"members:{segment_id}", -count)
        self.c.execute(f"DELETE FROM memberships WHERE store = ? AND profile_id IN {IN_LIST}", (self.s, _json(ids)))
        deleted = self.c.execute(f"DELETE FROM profiles WHERE store = ? AND id IN {IN_LIST}", (self.s, _json(ids))).rowcount
        self._grow("profiles", -deleted)
        return deleted

    # memberships
    def segment_members_page(self, segment_id, offset, limit):
        return self._paged(
            self._size(f"members:{segment_id}"),
            "SELECT p.id, p.customer_id, p.created_at, p.updated_at FROM memberships m "
            "JOIN profiles p ON p.seq = m.profile_seq "
            "WHERE m.store = ? AND m.segment_id = ? ORDER BY m.profile_seq",
            (segment_id,),
            offset,
            limit,
            ShopperProfile,
        )

    def profile_segments_page(self, profile_id, offset, limit):
        return self._paged(
            "SELECT count(*) FROM memberships WHERE store = ? AND profile_id = ?",
            "SELECT s.id, s.name, s.description, s.created_at, s.updated_at FROM memberships m "
            "JOIN segments s ON s.store = m.store AND s.id = m.segment_id "
            "WHERE m.store = ? AND m.profile_id = ? ORDER BY s.seq",
            (profile_id,),
            offset,
            limit,
            Segment,
        )

    def members_among(self, segment_id, profile_ids):
        rows = self._all(
            f"SELECT profile_id FROM memberships WHERE store = ? AND segment_id = ? AND profile_id IN {IN_LIST}",
            segment_id,
            _json(profile_ids),
        )
        return {row[0] for row in rows}

    def add_members(self, segment_id, profile_ids):
        added = self.c.execute(
            "INSERT INTO memberships (store, segment_id, profile_id, profile_seq) "
            f"SELECT store, ?, id, seq FROM profiles WHERE store = ? AND id IN {IN_LIST}",
            (segment_id, self.s, _json(profile_ids)),
        ).rowcount
        self._grow(f"members:{segment_id}", added)

    def remove_members(self, segment_id, profile_ids):
        if profile_ids is None:
            removed = self._all(
                "SELECT m.profile_id FROM memberships m JOIN profiles p ON p.store = m.store AND p.id = m.profile_id "
                "WHERE m.store = ? AND m.segment_id = ? ORDER BY p.seq",
                segment_id,
            )
        else:
            removed = self._all(
                "SELECT m.profile_id FROM memberships m JOIN profiles p ON p.store = m.store AND p.id = m.profile_id "
                f"WHERE m.store = ? AND m.segment_id = ? AND m.profile_id IN {IN_LIST} ORDER BY p.seq",
                segment_id,
                _json(profile_ids),
            )
        removed_ids = [row[0] for row in removed]
        self.c.execute(
            f"DELETE FROM memberships WHERE store = ? AND segment_id = ? AND profile_id IN {IN_LIST}",
            (self.s, segment_id, _json(removed_ids)),
        )
        self._grow(f"members:{segment_id}", -len(removed_ids))
        return removed_ids

    def segment_ids_of_profiles(self, profile_ids):
        result: dict[str, list[str]] = {pid: [] for pid in profile_ids}
        rows = self._all(
            "SELECT m.profile_id, m.segment_id FROM memberships m JOIN segments s ON s.store = m.store AND s.id = m.segment_id "
            f"WHERE m.store = ? AND m.profile_id IN {IN_LIST} ORDER BY s.seq",
            _json(result),
        )
        for pid, sid in rows:
            result[pid].append(sid)
        return result

    # customers
    def customers_page(self, ids, offset, limit):
        return self._filtered_page("customers", CUSTOMER_COLUMNS, ids, "id", offset, limit, _customer, "customers")

    def customers_by_id(self, ids):
        rows = self._all(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE store = ? AND id IN {IN_LIST}", _json(ids))
        return {row[0]: _customer(*row) for row in rows}

    def clear(self):
        for table in ("memberships", "segments", "profiles", "customers", "promotions", "counters", "sizes"):
            self.c.execute(f"DELETE FROM {table} WHERE store = ?", (self.s,))
        self.c.execute("UPDATE stores SET last_customer_id = 0 WHERE hash = ?", (self.s,))

    def customers_all(self):
        return [_customer(*row) for row in self._all(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE store = ? ORDER BY id")]

    def replace_customers(self, customers):
        # Emails are unique: move every changed email aside first, so a batch may swap them.
        self.c.executemany("UPDATE customers SET email_lower = ? WHERE store = ? AND id = ?",
                           [("\0" + str(c.id), self.s, c.id) for c in customers])
        self.c.executemany(
            "UPDATE customers SET email = ?, email_lower = ?, first_name = ?, last_name = ?, customer_group_id = ?, "
            "date_modified = ?, extra = ? WHERE store = ? AND id = ?",
            [(c.email, c.email.lower(), c.first_name, c.last_name, c.customer_group_id, c.date_modified, _extra(c), self.s, c.id)
             for c in customers],
        )

    def customer_ids_by_email(self, lowercase_emails):
        return dict(
            self._all(f"SELECT email_lower, id FROM customers WHERE store = ? AND email_lower IN {IN_LIST}", _json(lowercase_emails))
        )

    def allocate_customer_ids(self, count):
        last = self.last_customer_id()
        self.c.execute("UPDATE stores SET last_customer_id = ? WHERE hash = ?", (last + count, self.s))
        return list(range(last + 1, last + count + 1))

    def last_customer_id(self):
        return self._one("SELECT last_customer_id FROM stores WHERE hash = ?")

    def raise_last_customer_id(self, value):
        self.c.execute("UPDATE stores SET last_customer_id = max(last_customer_id, ?) WHERE hash = ?", (value, self.s))

    def insert_customers(self, customers):
        self.c.executemany(
            f"INSERT INTO customers (store, {CUSTOMER_COLUMNS}, email_lower) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (self.s, c.id, c.email, c.first_name, c.last_name, c.customer_group_id, c.date_created, c.date_modified,
                 _extra(c), c.email.lower())
                for c in customers
            ],
        )
        self._grow("customers", len(customers))

    def delete_customers(self, ids):
        deleted = self.c.execute(f"DELETE FROM customers WHERE store = ? AND id IN {IN_LIST}", (self.s, _json(ids))).rowcount
        self._grow("customers", -deleted)


    # promotions
    def promotions_page(self, ids, redemption_type, offset, limit):
        where, args = "", []
        if ids is not None:
            where += f" AND id IN {IN_LIST}"
            args.append(_json(ids))
        if redemption_type is not None:
            where += " AND redemption_type = ?"
            args.append(redemption_type)
        return self._paged(
            f"SELECT count(*) FROM promotions WHERE store = ?{where}",
            f"SELECT doc FROM promotions WHERE store = ?{where} ORDER BY id",
            tuple(args),
            offset,
            limit,
            json.loads,
        )

    def promotions_by_id(self, ids):
        rows = self._all(f"SELECT id, doc FROM promotions WHERE store = ? AND id IN {IN_LIST}", _json(ids))
        return {pid: json.loads(doc) for pid, doc in rows}

    def save_promotion(self, promotion):
        self.c.execute(
            "INSERT OR REPLACE INTO promotions (store, id, redemption_type, doc) VALUES (?, ?, ?, ?)",
            (self.s, promotion["id"], promotion["redemption_type"], json.dumps(promotion)),
        )

    def delete_promotions(self, ids):
        return self.c.execute(f"DELETE FROM promotions WHERE store = ? AND id IN {IN_LIST}", (self.s, _json(ids))).rowcount

    def coupon_codes(self):
        return {
            code["code"].lower(): pid
            for pid, doc in self._all("SELECT id, doc FROM promotions WHERE store = ?")
            for code in json.loads(doc).get("codes", [])
        }

    def order_counts(self):
        return {int(name[len("orders:"):]): value for name, value in self._all("SELECT name, value FROM counters WHERE store = ? AND name LIKE 'orders:%'")}

    def set_order_count(self, customer_id, count):
        self.c.execute("INSERT OR REPLACE INTO counters (store, name, value) VALUES (?, ?, ?)", (self.s, f"orders:{customer_id}", count))

    def next_counter(self, name, count=1):
        row = self.c.execute("SELECT value FROM counters WHERE store = ? AND name = ?", (self.s, name)).fetchone()
        last = row[0] if row else 0
        self.c.execute("INSERT OR REPLACE INTO counters (store, name, value) VALUES (?, ?, ?)", (self.s, name, last + count))
        return list(range(last + 1, last + count + 1))


class SqliteStorage(Storage):
    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(Path(path))
        self._local = threading.local()
        with self._connection() as conn:
            conn.executescript(SCHEMA)
        with self._begin(write=True) as conn:  # one process migrates an older file; the others find it done
            # A file written before customers kept the platform's other fields: add their column.
            if "extra" not in {row[1] for row in conn.execute("PRAGMA table_info(customers)")}:
                conn.execute("ALTER TABLE customers ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'")
            # A file written before memberships kept their profile's place: add it and fill it in.
            if "profile_seq" not in {row[1] for row in conn.execute("PRAGMA table_info(memberships)")}:
                conn.execute("ALTER TABLE memberships ADD COLUMN profile_seq INTEGER NOT NULL DEFAULT 0")
                conn.execute("UPDATE memberships SET profile_seq = (SELECT seq FROM profiles p "
                             "WHERE p.store = memberships.store AND p.id = memberships.profile_id)")
            conn.execute("CREATE INDEX IF NOT EXISTS memberships_in_order ON memberships (store, segment_id, profile_seq)")
            # A file written before the lists' lengths were kept (no marker): count them once.
            if conn.execute("SELECT 1 FROM sizes WHERE store = '' AND name = 'kept'").fetchone() is None:
                conn.execute("DELETE FROM sizes")
                conn.execute("INSERT INTO sizes SELECT store, 'profiles', count(*) FROM profiles GROUP BY store")
                conn.execute("INSERT INTO sizes SELECT store, 'customers', count(*) FROM customers GROUP BY store")
                conn.execute("INSERT INTO sizes SELECT store, 'members:' || segment_id, count(*) FROM memberships "
                             "GROUP BY store, segment_id")
                conn.execute("INSERT INTO sizes VALUES ('', 'kept', 1)")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 60000")
            # Up to 128 MiB of pages per connection, taken only as used: a large seed inserts into
            # indexes keyed by random UUIDs, which otherwise goes back to the file for every page.
            conn.execute("PRAGMA cache_size = -131072")
            self._local.conn, self._local.pid = conn, os.getpid()
        yield conn

    @contextmanager
    def _begin(self, write: bool) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def transaction(self, store_hash: str, write: bool) -> Iterator[StoreTx]:
        with self._begin(write) as conn:
            if conn.execute("SELECT 1 FROM stores WHERE hash = ?", (store_hash,)).fetchone() is None:
                raise LookupError(f"no store {store_hash!r}")
            yield SqliteStoreTx(conn, store_hash)

    def add_store(self, store_hash):
        with self._begin(write=True) as conn:
            conn.execute("INSERT OR IGNORE INTO stores (hash) VALUES (?)", (store_hash,))

    def has_store(self, store_hash):
        with self._connection() as conn:
            return conn.execute("SELECT 1 FROM stores WHERE hash = ?", (store_hash,)).fetchone() is not None

    def store_hashes(self):
        with self._connection() as conn:
            return [row[0] for row in conn.execute("SELECT hash FROM stores ORDER BY rowid")]

    def set_token(self, token, store_hash, scope):
        with self._begin(write=True) as conn:
            conn.execute("INSERT OR REPLACE INTO tokens (token, store, scope) VALUES (?, ?, ?)", (token, store_hash, scope))

    def token_info(self, token):
        with self._connection() as conn:
            row = conn.execute("SELECT store, scope FROM tokens WHERE token = ?", (token,)).fetchone()
        return TokenInfo(*row) if row else None

    def tokens_of(self, store_hash):
        with self._connection() as conn:
            return [tuple(r) for r in conn.execute("SELECT token, scope FROM tokens WHERE store = ? ORDER BY rowid", (store_hash,))]

    def reset(self, store_hash=None):
        where, args = ("", ()) if store_hash is None else (" WHERE store = ?", (store_hash,))
        with self._begin(write=True) as conn:
            for table in ("memberships", "segments", "profiles", "customers", "rate_windows", "promotions", "counters"):
                conn.execute(f"DELETE FROM {table}{where}", args)
            conn.execute("DELETE FROM sizes WHERE store != ''" + ("" if store_hash is None else " AND store = ?"), args)
            conn.execute(
                "UPDATE stores SET last_customer_id = 0" + ("" if store_hash is None else " WHERE hash = ?"), args
            )

    def rate_hit(self, store_hash, now_ms, window_ms):
        with self._begin(write=True) as conn:
            row = conn.execute("SELECT start_ms, count FROM rate_windows WHERE store = ?", (store_hash,)).fetchone()
            start, count = row if row else (0, 0)
            if count == 0 or now_ms >= start + window_ms:
                start, count = now_ms, 0
            count += 1
            conn.execute(
                "INSERT OR REPLACE INTO rate_windows (store, start_ms, count) VALUES (?, ?, ?)", (store_hash, start, count)
            )
        return start, count

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
