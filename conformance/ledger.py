"""The ownership ledger: what was in the store before the run, what the run provably
created, and whether anything else changed.

- **Inventory.** Before the first write, every collection the suite touches is listed,
  all pages (segments, shopper profiles, customers with their profile and segments,
  promotions), and so is every pre-existing segment's membership list.
- **Ownership, proven.** An ID is the run's only when it comes back in the ``data`` of
  a 2xx answer to one of the run's own creates (operations with ``x-creates`` in the
  document), was not in the inventory, and was not returned earlier to another create.
  A create answered with an existing ID is recorded as an unsafe behaviour and the ID is
  never named in a write. Codes belong to the run when created under its own promotion.
  Besides owned IDs, the run may name IDs it *minted*: random UUIDs, and integers that
  were not in the inventory, which name nothing.
- **Proven deletes.** A ``DELETE ...?id:in=`` on a top-level collection that holds
  foreign items is allowed only after the probe showed that the target honours
  ``id:in`` on DELETE: it removes one of two profiles from a segment the run owns and
  checks that the other stays.
- **Quick checks.** After every write, a sample of foreign items of every collection is
  read back (through ``id:in`` where the document gives the list one). A missing or
  changed item stops all further writes, and the write that preceded it is named.
- **Sweep and audit.** At the end (and on SIGTERM/SIGINT/timeout), items that carry
  the run's marker and were not in the inventory, and profiles of the run's customers,
  are claimed; everything the run owns is deleted; the store is listed again and
  compared with the inventory: every foreign item missing or changed is reported as
  ``FOREIGN DATA CHANGED``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .guard import INTEGER, UUID, canonical_id

Reader = Callable[[str], tuple[int, Any]]

PAGE = 250
SENTINELS = 25
CODE_SENTINEL_PROMOTIONS = 3  # foreign promotions whose codes are read back after each write
MAX_INT = 2147483647


@dataclass(frozen=True)
class Collection:
    name: str
    path: str
    kind: str
    marker_field: str | None  # the free-text field that carries the run's marker
    list_query: str = ""
    id_filter: bool = True  # the list operation takes `id:in`
    cascades_to: tuple[str, ...] = ()  # deleting an item also removes items of these


COLLECTIONS = (
    Collection("segments", "/segments", UUID, "name"),
    Collection("shopper-profiles", "/shopper-profiles", UUID, None, id_filter=False),
    Collection("customers", "/customers", INTEGER, "email", "include=shopper_profile_id,segment_ids",
               cascades_to=("shopper-profiles",)),
    Collection("promotions", "/promotions", INTEGER, "name"),
)
BY_NAME = {c.name: c for c in COLLECTIONS}
# Order in which the run's own data is removed: what refers to others first.
CLEANUP_ORDER = ("promotions", "segments", "shopper-profiles", "customers")


@dataclass
class Finding:
    """An unsafe behaviour the run observed."""

    behaviour: str
    detail: str
    request: str = ""
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"behaviour": self.behaviour, "detail": self.detail, "request": self.request, "rule": self.rule}


@dataclass
class Damage:
    """A foreign item that is missing or changed."""

    collection: str
    item_id: str
    what: str  # "missing" | "changed" | "memberships changed"
    before: Any
    after: Any
    request: str  # the write after which a quick check saw it, or where it was seen

    def line(self) -> str:
        return f"FOREIGN DATA CHANGED: {self.collection} {self.item_id} {self.what} — {self.request}"

    def as_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "id": self.item_id, "what": self.what, "before": self.before,
                "after": self.after, "request": self.request}


@dataclass
class Listing:
    items: dict[str, dict[str, Any]] | None  # None: the collection could not be listed
    problem: str = ""


def list_all(reader: Reader, path: str, query: str, kind: str, max_items: int) -> Listing:
    """Every item of a list operation, page by page, keyed by canonical ID."""
    items: dict[str, dict[str, Any]] = {}
    for page in range(1, max_items // PAGE + 2):
        separator = "&" if query else ""
        status, body = reader(f"{path}?limit={PAGE}&page={page}{separator}{query}")
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return Listing(None, f"GET {path} answered {status}" + ("" if status != 200 else " without a `data` list"))
        data = body["data"]
        total = (body.get("meta") or {}).get("pagination", {}).get("total") if isinstance(body.get("meta"), dict) else None
        if page == 1 and isinstance(total, int) and total > max_items:  # say so now, not after reading max_items
            return Listing(None, f"{path} holds more than {max_items} items (it lists a total of {total}; "
                                 "raise --max-inventory, or use a smaller store)")
        new = 0
        for item in data:
            key = canonical_id(item.get("id"), kind) if isinstance(item, dict) else None
            if key is None:
                return Listing(None, f"GET {path} listed an item without a well-formed `id`")
            if key not in items:
                new += 1
            items[key] = item
        if len(data) < PAGE or new == 0:
            return Listing(items)
        if len(items) > max_items:
            return Listing(None, f"{path} holds more than {max_items} items (raise --max-inventory, or use a smaller store)")
    return Listing(None, f"{path} holds more than {max_items} items")


@dataclass
class Ledger:
    max_items: int = 20000
    marker: str = ""  # the run's marker, in the names and emails it creates
    before: dict[str, Listing] = field(default_factory=dict)
    memberships_before: dict[str, list[str] | None] = field(default_factory=dict)
    codes_before: dict[str, dict[str, dict[str, Any]] | None] = field(default_factory=dict)  # promotion -> its codes
    owned: dict[str, dict[str, str]] = field(default_factory=dict)  # collection -> id -> the create that returned it
    gone: set[tuple[str, str]] = field(default_factory=set)
    minted_uuids: set[str] = field(default_factory=set)
    minted_integers: dict[str, set[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    ready: bool = False
    halted: str = ""
    delete_proof: bool | None = None
    delete_proof_reason: str = "the probe has not run"
    creates_seen: int = 0
    sentinels: dict[str, list[str]] = field(default_factory=dict)
    audited: bool = False
    # IDs the user lent the run (--customer-id): named in creates (a profile's customer_id),
    # never written to or deleted themselves.
    lent: dict[str, list[str]] = field(default_factory=dict)

    integer_collections = frozenset({"customers", "promotions", "codes"})

    # what the run may name

    def is_owned(self, collection: str, key: str) -> bool:
        return key in self.owned.get(collection, {})

    def may_name(self, collection: str, key: str) -> bool:
        if collection in self.integer_collections:
            return self.is_owned(collection, key) or key in self.minted_integers.get(collection, set())
        return self.may_name_uuid(key)

    def may_reference(self, collection: str, key: str) -> bool:
        """May a create's body name this item (an owned, minted or lent ID)?"""
        return self.may_name(collection, key) or key in self.lent.get(collection, [])

    def lend(self, collection: str, keys: list[str]) -> None:
        self.lent.setdefault(collection, []).extend(k for k in keys if k not in self.lent.get(collection, []))

    def may_name_uuid(self, key: str) -> bool:
        return key in self.minted_uuids or any(key in ids for c, ids in self.owned.items() if c not in self.integer_collections)

    def mint_uuid(self) -> str:
        value = str(uuid.uuid4())
        self.minted_uuids.add(value)
        return value

    def mint_integer(self, collection: str) -> int:
        """An integer ID not in the inventory (from the top of the range down)."""
        listing = self.before.get(collection)
        taken = set(listing.items) if listing and listing.items is not None else None
        for candidate in range(MAX_INT, MAX_INT - 10000, -1):
            key = str(candidate)
            if taken is not None and key not in taken and not self.is_owned(collection, key):
                self.minted_integers.setdefault(collection, set()).add(key)
                return candidate
        return MAX_INT  # not provably absent: the guard will refuse to name it

    def foreign(self, collection: str) -> dict[str, dict[str, Any]]:
        listing = self.before.get(collection)
        return listing.items if listing and listing.items is not None else {}

    def top_level_delete_refusal(self, collection: str) -> str:
        """Why a DELETE by `id:in` on this collection is not safe yet ('' when it is)."""
        if self.delete_proof:
            return ""
        at_risk = [c for c in (collection, *BY_NAME[collection].cascades_to) if c in BY_NAME] if collection in BY_NAME else [collection]
        unknown = [c for c in at_risk if c not in self.before or self.before[c].items is None]
        if not unknown and not any(self.foreign(c) for c in at_risk):
            return ""  # nothing foreign there to lose
        return (f"the store holds {collection} this run did not create, and it is not proven that the target "
                f"honours `id:in` on DELETE ({self.delete_proof_reason})")

    # what the run observes

    def record_create(self, collection: str, body: Any, request: str, parent_owned: bool = True) -> None:
        """The answer to one of the run's creates: claim its new IDs."""
        data = body.get("data") if isinstance(body, dict) else None
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        kind = INTEGER if collection in self.integer_collections else UUID
        self.creates_seen += 1
        for item in items:
            key = canonical_id(item.get("id"), kind) if isinstance(item, dict) else None
            if key is None:
                continue
            if collection == "codes" and not parent_owned:
                continue  # a code of a promotion the run does not own is never the run's
            listing = self.before.get(collection)
            if listing is None or listing.items is None:
                self.note("unprovable ownership", f"{collection} could not be listed before the run, so `{key}` "
                          "returned by a create cannot be proven new; it is never named in a write", request)
            elif key in listing.items:
                self.note("create answered with an existing item",
                          f"a create in {collection} answered with `{key}`, which was in the store before the run; "
                          "the suite never touches it", request, rule="CREATE-FRESH-ID")
            elif self.is_owned(collection, key):
                self.note("create answered with an item of an earlier create",
                          f"a create in {collection} answered with `{key}`, already returned by {self.owned[collection][key]}",
                          request, rule="CREATE-FRESH-ID")
            else:
                self.owned.setdefault(collection, {})[key] = request

    def record_deleted(self, collection: str, keys: list[str]) -> None:
        self.gone |= {(collection, key) for key in keys}

    def note(self, behaviour: str, detail: str, request: str = "", rule: str | None = None) -> None:
        if not any(f.behaviour == behaviour and f.detail == detail for f in self.findings):
            self.findings.append(Finding(behaviour, detail, request, rule))

    def alive_owned(self, collection: str) -> list[str]:
        return [key for key in self.owned.get(collection, {}) if (collection, key) not in self.gone]

    # inventory

    def take_inventory(self, reader: Reader) -> None:
        for collection in COLLECTIONS:
            self.before[collection.name] = list_all(reader, collection.path, collection.list_query, collection.kind, self.max_items)
        for segment_id in self.foreign("segments"):
            self.memberships_before[segment_id] = self._members(reader, segment_id)
        self.before["codes"] = self._inventory_codes(reader)
        self._keep_lent_customers_without_profiles()
        first = reader(f"/segments?limit={PAGE}")
        second = reader(f"/segments?limit={PAGE}")
        if first != second:
            self.note("listings change by themselves",
                      "two reads of /segments with no write in between differed: the target keeps no state, "
                      "or another client is writing to the store")
        rng = random.Random(0)
        for collection in COLLECTIONS:
            keys = sorted(self.foreign(collection.name))
            self.sentinels[collection.name] = sorted(rng.sample(keys, min(SENTINELS, len(keys))))
        self.ready = True

    def _keep_lent_customers_without_profiles(self) -> None:
        """A lent customer that already has a shopper profile (or whose profiles could not
        be listed) is not used: the run could not tell its profile from one it made."""
        lent = self.lent.get("customers", [])
        if not lent:
            return
        listing = self.before.get("shopper-profiles")
        if listing is None or listing.items is None:
            self.note("lent customers not used", "shopper profiles could not be listed, so --customer-id customers are not used")
            self.lent["customers"] = []
            return
        with_profile = {canonical_id(p.get("customer_id"), INTEGER) for p in listing.items.values()}
        taken = [key for key in lent if key in with_profile]
        if taken:
            self.note("lent customers not used", f"--customer-id {', '.join(taken)} already "
                      f"{'has' if len(taken) == 1 else 'have'} a shopper profile; the run gives profiles only to customers without one")
        self.lent["customers"] = [key for key in lent if key not in with_profile]

    def _inventory_codes(self, reader: Reader) -> Listing:
        """Every coupon code of every promotion that was there (`getPromotionCodes`), as one
        listing keyed by code ID, so that a create answered with an existing code is seen
        and the audit can compare each promotion's codes."""
        promotions = self.before.get("promotions")
        if promotions is None or promotions.items is None:
            return Listing(None, "the promotions could not be listed")
        everything: dict[str, dict[str, Any]] = {}
        for promotion_id in promotions.items:
            listing = self._codes(reader, promotion_id)
            if listing.items is None:
                return Listing(None, listing.problem)
            self.codes_before[promotion_id] = listing.items
            everything.update(listing.items)
        return Listing(everything)

    def _codes(self, reader: Reader, promotion_id: str) -> Listing:
        return list_all(reader, f"/promotions/{promotion_id}/codes", "", INTEGER, self.max_items)

    def _check_codes(self, reader: Reader, promotion_ids: list[str], where: str) -> None:
        for promotion_id in promotion_ids:
            before = self.codes_before.get(promotion_id)
            if before is None or any(d.collection == "promotions" and d.item_id == promotion_id for d in self.damage):
                continue
            now = self._codes(reader, promotion_id)
            if now.items is None:
                continue  # the promotion itself is compared on its own
            for key, code in before.items():
                self._compare("codes", f"{promotion_id}/{key}", code, now.items.get(key), where)

    def _members(self, reader: Reader, segment_id: str) -> list[str] | None:
        listing = list_all(reader, f"/segments/{segment_id}/shopper-profiles", "", UUID, self.max_items)
        return None if listing.items is None else sorted(listing.items)

    def problems(self) -> list[str]:
        return [f"{name}: {listing.problem}" for name, listing in self.before.items() if listing.items is None]

    # checks after writes, and the audit

    def quick_check(self, reader: Reader, request: str) -> None:
        """Read back a sample of foreign items; stop all writes when one moved."""
        if not self.ready or self.halted:
            return
        for collection in COLLECTIONS:
            keys = self.sentinels.get(collection.name) or []
            if not keys:
                continue
            seen = self._read_back(reader, collection, keys)
            if seen is None:
                continue
            expected = self.foreign(collection.name)
            for key in keys:
                self._compare(collection.name, key, expected[key], seen.get(key), f"after {request}")
        with_codes = sorted(p for p, codes in self.codes_before.items() if codes)[:CODE_SENTINEL_PROMOTIONS]
        self._check_codes(reader, with_codes, f"after {request}")
        if self.damage:
            self.halted = "foreign data changed " + self.damage[0].request

    def _read_back(self, reader: Reader, collection: Collection, keys: list[str]) -> dict[str, Any] | None:
        if collection.id_filter:
            query = f"id:in={','.join(keys)}" + (f"&{collection.list_query}" if collection.list_query else "")
            listing = list_all(reader, collection.path, query, collection.kind, self.max_items)
            if listing.items is not None and all(key in listing.items for key in keys):
                return listing.items
        listing = list_all(reader, collection.path, collection.list_query, collection.kind, self.max_items)
        return listing.items

    def _compare(self, collection: str, key: str, before: Any, after: Any, where: str) -> None:
        if any(d.collection == collection and d.item_id == key for d in self.damage):
            return
        if after is None:
            self.damage.append(Damage(collection, key, "missing", before, None, where))
        elif after != before:
            self.damage.append(Damage(collection, key, "changed", before, after, where))

    def audit(self, reader: Reader) -> None:
        """List the whole store again and compare every foreign item with the inventory."""
        for collection in COLLECTIONS:
            listing = self.before.get(collection.name)
            if listing is None or listing.items is None:
                continue
            now = list_all(reader, collection.path, collection.list_query, collection.kind, self.max_items + 2000)
            if now.items is None:
                self.note("audit incomplete", f"{collection.name} could not be listed at the end: {now.problem}")
                continue
            for key, item in listing.items.items():
                self._compare(collection.name, key, item, now.items.get(key), "seen by the end-of-run audit")
        self._check_codes(reader, sorted(self.codes_before), "seen by the end-of-run audit")
        for segment_id, members in self.memberships_before.items():
            if members is None or any(d.collection == "segments" and d.item_id == segment_id for d in self.damage):
                continue
            after = self._members(reader, segment_id)
            if after != members:
                self.damage.append(Damage("segments", segment_id, "memberships changed", members, after,
                                          "seen by the end-of-run audit"))
        self.audited = True

    def sweep(self, reader: Reader, marker: str) -> None:
        """Claim what the run created but never saw answered (a request cut off by a signal)."""
        for name in ("customers", "shopper-profiles", "segments", "promotions"):  # customers before their profiles
            collection = BY_NAME[name]
            listing = self.before.get(name)
            if listing is None or listing.items is None:
                continue
            now = list_all(reader, collection.path, collection.list_query, collection.kind, self.max_items + 2000)
            for key, item in (now.items or {}).items():
                if key in listing.items or self.is_owned(collection.name, key):
                    continue
                text = item.get(collection.marker_field) if collection.marker_field else None
                ours = isinstance(text, str) and marker in text
                if collection.name == "shopper-profiles":
                    customer = canonical_id(item.get("customer_id"), INTEGER) or ""
                    ours = self.is_owned("customers", customer) or customer in self.lent.get("customers", [])
                if ours:
                    self.owned.setdefault(collection.name, {})[key] = "found by the end-of-run sweep (carries the run's marker)"
