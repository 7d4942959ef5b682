"""In-memory backend: the default. One process; state is gone when it stops.

One lock serialises every transaction, readers included: the work inside is a few
dictionary operations, so the lock is cheap, and it makes every domain operation
atomic and isolated. Writes only happen after the domain has checked every rule, so a
transaction that raises has written nothing.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import threading
from collections.abc import Callable, Iterable

from ..domain.model import Customer, Segment, ShopperProfile
from .base import PromotionStore, Storage, StoreTx, TokenInfo


class Ranked:
    """Keys in ascending rank, for pages that cost the same at any offset: a page is a
    slice. A key ranked after the last (every create) is an append; another change is a
    binary search and a move of the list's tail; a large removal is one filtering pass."""

    BULK = 64  # removals past this rebuild the list in one pass

    def __init__(self, rank: Callable) -> None:
        self.rank = rank
        self.keys: list = []

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key) -> None:
        if not self.keys or self.rank(self.keys[-1]) < self.rank(key):
            self.keys.append(key)
        else:
            bisect.insort(self.keys, key, key=self.rank)

    def discard_many(self, keys: Iterable) -> None:
        keys = set(keys)
        if len(keys) > self.BULK:
            self.keys = [k for k in self.keys if k not in keys]
            return
        for key in keys:
            i = bisect.bisect_left(self.keys, self.rank(key), key=self.rank)
            if i < len(self.keys) and self.keys[i] == key:
                del self.keys[i]

    def page(self, offset: int, limit: int) -> list:
        return self.keys[offset : offset + limit]


class _Transaction:
    """The store's lock held around one transaction (a class: cheaper per request than a
    generator-based context manager). A write moves the storage's revision on entering
    and on leaving, so no answer read before, during or after it shares a revision."""

    __slots__ = ("storage", "store_hash", "write")

    def __init__(self, storage: MemoryStorage, store_hash: str, write: bool) -> None:
        self.storage, self.store_hash, self.write = storage, store_hash, write

    def __enter__(self) -> StoreTx:
        storage = self.storage
        storage._lock.acquire()
        data = storage._stores.get(self.store_hash)
        if data is None:
            storage._lock.release()
            raise LookupError(f"no store {self.store_hash!r}")
        if self.write:
            storage._revision += 1
        return MemoryStoreTx(data)

    def __exit__(self, *exc_info) -> None:
        storage = self.storage
        if self.write:
            storage._revision += 1
        storage._lock.release()


def _identity(value):
    return value


class _StoreData:
    def __init__(self) -> None:
        self.order = itertools.count()
        self.segments: dict[str, Segment] = {}  # insertion order = creation order
        self.segment_order: dict[str, int] = {}
        self.segment_by_name: dict[str, str] = {}
        self.profiles: dict[str, ShopperProfile] = {}
        self.profile_order: dict[str, int] = {}
        self.profile_by_customer: dict[int, str] = {}
        self.profile_keys = Ranked(self.profile_order.__getitem__)  # every profile, for pages
        # Membership structures exist only for segments and profiles that have members: most
        # records have none, and each structure is an object the garbage collector walks.
        self.members: dict[str, set[str]] = {}  # segment id -> profile ids
        self.member_keys: dict[str, Ranked] = {}  # segment id -> its profile ids in profile order, for pages
        self.segments_of: dict[str, set[str]] = {}  # profile id -> segment ids
        self.customers: dict[int, Customer] = {}  # ascending IDs, so insertion order
        self.customer_by_email: dict[str, int] = {}
        self.customer_keys = Ranked(_identity)  # every customer ID, for pages
        self.last_customer_id = 0
        self.promotions: dict[int, dict] = {}  # ascending IDs
        self.counters: dict[str, int] = {}
        self.order_counts: dict[int, int] = {}


def _page(items: Iterable, total: int, offset: int, limit: int) -> list:
    return list(itertools.islice(items, offset, offset + limit)) if offset < total else []


class MemoryStoreTx(StoreTx, PromotionStore):
    def __init__(self, data: _StoreData):
        self.d = data

    # segments
    def segment_count(self) -> int:
        return len(self.d.segments)

    def segments_page(self, ids, offset, limit):
        if ids is None:
            return len(self.d.segments), _page(self.d.segments.values(), len(self.d.segments), offset, limit)
        wanted = {i for i in ids if i in self.d.segments}
        ordered = sorted(wanted, key=self.d.segment_order.__getitem__)
        return len(ordered), [self.d.segments[i] for i in ordered[offset : offset + limit]]

    def segments_by_id(self, ids):
        return {i: self.d.segments[i] for i in ids if i in self.d.segments}

    def segment_ids_by_name(self, names):
        return {n: self.d.segment_by_name[n] for n in names if n in self.d.segment_by_name}

    def insert_segments(self, segments):
        for segment in segments:
            self.d.segments[segment.id] = segment
            self.d.segment_order[segment.id] = next(self.d.order)
            self.d.segment_by_name[segment.name] = segment.id

    def replace_segments(self, segments):
        for segment in segments:  # drop every old name first: a batch may swap names
            old = self.d.segments[segment.id]
            if self.d.segment_by_name.get(old.name) == old.id:
                del self.d.segment_by_name[old.name]
        for segment in segments:
            self.d.segments[segment.id] = segment
            self.d.segment_by_name[segment.name] = segment.id

    def delete_segments(self, ids):
        doomed = list(self.d.segments) if ids is None else [i for i in dict.fromkeys(ids) if i in self.d.segments]
        for sid in doomed:
            segment = self.d.segments.pop(sid)
            del self.d.segment_order[sid]
            del self.d.segment_by_name[segment.name]
            self.d.member_keys.pop(sid, None)
            for pid in self.d.members.pop(sid, ()):
                self.d.segments_of[pid].discard(sid)
        return len(doomed)

    # shopper profiles
    def profiles_page(self, offset, limit):
        return len(self.d.profiles), [self.d.profiles[p] for p in self.d.profile_keys.page(offset, limit)]

    def profiles_by_id(self, ids):
        return {i: self.d.profiles[i] for i in ids if i in self.d.profiles}

    def profile_ids_by_customer(self, customer_ids):
        return {c: self.d.profile_by_customer[c] for c in customer_ids if c in self.d.profile_by_customer}

    def insert_profiles(self, profiles):
        for profile in profiles:
            self.d.profiles[profile.id] = profile
            self.d.profile_order[profile.id] = next(self.d.order)
            self.d.profile_by_customer[profile.customer_id] = profile.id
            self.d.profile_keys.add(profile.id)

    def touch_profiles(self, ids, updated_at):
        for pid in ids:
            p = self.d.profiles[pid]
            self.d.profiles[pid] = ShopperProfile(p.id, p.customer_id, p.created_at, updated_at)

    def delete_profiles(self, ids):
        doomed = list(self.d.profiles) if ids is None else [i for i in dict.fromkeys(ids) if i in self.d.profiles]
        left: dict[str, list[str]] = {}  # segment -> its members that go
        for pid in doomed:
            for sid in self.d.segments_of.get(pid, ()):
                left.setdefault(sid, []).append(pid)
        for sid, pids in left.items():  # while the ranks are still there
            self.d.member_keys[sid].discard_many(pids)
        self.d.profile_keys.discard_many(doomed)
        for pid in doomed:
            profile = self.d.profiles.pop(pid)
            del self.d.profile_order[pid]
            del self.d.profile_by_customer[profile.customer_id]
            for sid in self.d.segments_of.pop(pid, ()):
                self.d.members[sid].discard(pid)
        return len(doomed)

    # memberships
    def segment_members_page(self, segment_id, offset, limit):
        keys = self.d.member_keys.get(segment_id)
        if keys is None:
            return 0, []
        return len(keys), [self.d.profiles[p] for p in keys.page(offset, limit)]

    def profile_segments_page(self, profile_id, offset, limit):
        ordered = sorted(self.d.segments_of.get(profile_id, ()), key=self.d.segment_order.__getitem__)
        return len(ordered), [self.d.segments[s] for s in ordered[offset : offset + limit]]

    def members_among(self, segment_id, profile_ids):
        members = self.d.members.get(segment_id, ())
        return {p for p in profile_ids if p in members}

    def add_members(self, segment_id, profile_ids):
        members = self.d.members.setdefault(segment_id, set())
        keys = self.d.member_keys.get(segment_id)
        if keys is None:
            keys = self.d.member_keys[segment_id] = Ranked(self.d.profile_order.__getitem__)
        for pid in sorted({p for p in profile_ids if p not in members}, key=self.d.profile_order.__getitem__):
            members.add(pid)
            keys.add(pid)
            self.d.segments_of.setdefault(pid, set()).add(segment_id)

    def remove_members(self, segment_id, profile_ids):
        members = self.d.members.get(segment_id)
        if not members:
            return []
        removed = list(members) if profile_ids is None else [p for p in dict.fromkeys(profile_ids) if p in members]
        self.d.member_keys[segment_id].discard_many(removed)
        for pid in removed:
            members.discard(pid)
            self.d.segments_of[pid].discard(segment_id)
        return sorted(removed, key=self.d.profile_order.__getitem__)

    def segment_ids_of_profiles(self, profile_ids):
        return {
            pid: sorted(self.d.segments_of.get(pid, ()), key=self.d.segment_order.__getitem__)
            for pid in profile_ids
            if pid in self.d.profiles
        }

    # customers
    def customers_page(self, ids, offset, limit):
        if ids is None:
            return len(self.d.customers), [self.d.customers[c] for c in self.d.customer_keys.page(offset, limit)]
        ordered = sorted({i for i in ids if i in self.d.customers})
        return len(ordered), [self.d.customers[i] for i in ordered[offset : offset + limit]]

    def customers_by_id(self, ids):
        return {i: self.d.customers[i] for i in ids if i in self.d.customers}

    def customer_ids_by_email(self, lowercase_emails):
        return {e: self.d.customer_by_email[e] for e in lowercase_emails if e in self.d.customer_by_email}

    def allocate_customer_ids(self, count):
        first = self.d.last_customer_id + 1
        self.d.last_customer_id += count
        return list(range(first, first + count))

    def last_customer_id(self):
        return self.d.last_customer_id

    def raise_last_customer_id(self, value):
        self.d.last_customer_id = max(self.d.last_customer_id, value)

    def clear(self):
        self.d.__init__()  # in place: the transaction holds the store's one lock

    def customers_all(self):
        return list(self.d.customers.values())

    def replace_customers(self, customers):
        for customer in customers:
            old = self.d.customers[customer.id]
            del self.d.customer_by_email[old.email.lower()]
        for customer in customers:
            self.d.customers[customer.id] = customer
            self.d.customer_by_email[customer.email.lower()] = customer.id

    def insert_customers(self, customers):
        for customer in customers:
            self.d.customers[customer.id] = customer
            self.d.customer_by_email[customer.email.lower()] = customer.id
            self.d.customer_keys.add(customer.id)

    def delete_customers(self, ids):
        gone = []
        for cid in dict.fromkeys(ids):
            customer = self.d.customers.pop(cid, None)
            if customer is not None:
                del self.d.customer_by_email[customer.email.lower()]
                gone.append(cid)
        self.d.customer_keys.discard_many(gone)


    # promotions (documents are copied in and out: callers may change theirs)
    def promotions_page(self, ids, redemption_type, offset, limit):
        chosen = [
            p for pid, p in self.d.promotions.items()
            if (ids is None or pid in ids) and (redemption_type is None or p["redemption_type"] == redemption_type)
        ]
        return len(chosen), [copy.deepcopy(p) for p in chosen[offset : offset + limit]]

    def promotions_by_id(self, ids):
        return {i: copy.deepcopy(self.d.promotions[i]) for i in ids if i in self.d.promotions}

    def save_promotion(self, promotion):
        self.d.promotions[promotion["id"]] = copy.deepcopy(promotion)

    def delete_promotions(self, ids):
        doomed = [i for i in dict.fromkeys(ids) if i in self.d.promotions]
        for pid in doomed:
            del self.d.promotions[pid]
        return len(doomed)

    def coupon_codes(self):
        return {c["code"].lower(): pid for pid, p in self.d.promotions.items() for c in p.get("codes", [])}

    def order_counts(self):
        return dict(self.d.order_counts)

    def set_order_count(self, customer_id, count):
        self.d.order_counts[customer_id] = count

    def next_counter(self, name, count=1):
        first = self.d.counters.get(name, 0) + 1
        self.d.counters[name] = first + count - 1
        return list(range(first, first + count))


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rate_lock = threading.Lock()  # its own: counting a request never waits for a transaction
        self._stores: dict[str, _StoreData] = {}
        self._tokens: dict[str, TokenInfo] = {}
        self._windows: dict[str, tuple[int, int]] = {}
        self._revision = 0  # moved, under the lock, by every write, reset and new store

    def transaction(self, store_hash: str, write: bool) -> _Transaction:
        return _Transaction(self, store_hash, write)

    def revision(self) -> int:
        return self._revision

    def add_store(self, store_hash):
        with self._lock:
            self._revision += 1
            self._stores.setdefault(store_hash, _StoreData())

    def has_store(self, store_hash):
        return store_hash in self._stores

    def store_hashes(self):
        with self._lock:
            return list(self._stores)

    def set_token(self, token, store_hash, scope):
        with self._lock:
            self._tokens[token] = TokenInfo(store_hash, scope)

    def token_info(self, token):
        return self._tokens.get(token)

    def tokens_of(self, store_hash):
        with self._lock:
            return [(t, info.scope) for t, info in self._tokens.items() if info.store_hash == store_hash]

    def reset(self, store_hash=None):
        with self._lock:
            self._revision += 1
            for key in [store_hash] if store_hash is not None else list(self._stores):
                if key in self._stores:
                    self._stores[key] = _StoreData()
                with self._rate_lock:
                    self._windows.pop(key, None)

    def rate_hit(self, store_hash, now_ms, window_ms):
        with self._rate_lock:
            start, count = self._windows.get(store_hash, (0, 0))
            if count == 0 or now_ms >= start + window_ms:
                start, count = now_ms, 0
            count += 1
            self._windows[store_hash] = (start, count)
            return start, count
