"""Every behavioural rule of the segmentation API, in one place.

Inputs arrive already shaped by the OpenAPI document (types, lengths, UUID syntax,
array sizes): this module holds the rules a schema cannot say — uniqueness, existence,
caps, cascades, timestamps, order and the all-or-nothing of batches. Each public
method is one API operation and runs in one storage transaction, so it either
applies whole or not at all.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the domain only uses what storage hands it; no import at run time
    from ..storage.base import Storage, StoreTx
from .errors import (
    AlreadyUsed,
    BatchConflict,
    Conflict,
    InvalidInput,
    LimitReached,
    ResourceNotFound,
    UnknownReferences,
)
from .customers import EMPTY_INCLUDES, CustomerQuery, check_request_size, new_customer, refuse_unkept, updated_customer
from .model import Customer, CustomerView, Page, Segment, ShopperProfile, offset_of
from .promotion_service import Promotions

MAX_SEGMENTS_PER_STORE = 1000
MAX_PROFILES_PER_ADD = 50

SEGMENT_NAME_CONFLICT = "Cannot have multiple segments with the same name."
MEMBERSHIP_CONFLICT = "Unable to add shopper profiles to segment due to conflicts."

INCLUDE_PROFILE = "shopper_profile_id"
INCLUDE_SEGMENTS = "segment_ids"


def utc_now() -> int:
    return int(time.time())


def new_uuid() -> str:
    """A random (version 4) UUID from the process's pseudo-random generator (reseeded in
    every forked worker). The IDs must be unique, not secret; the system's random source
    (``uuid4``) is a system call, during which other threads take the interpreter and the
    caller then waits to get it back."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


class Segmentation:
    """The segmentation API of every store held by one storage backend."""

    def __init__(
        self,
        storage: "Storage",
        clock: Callable[[], int] = utc_now,
        new_id: Callable[[], str] = new_uuid,
    ):
        self.storage = storage
        self.clock = clock
        self.new_id = new_id
        self.promotions = Promotions(storage, clock)  # the Promotions slice, on the same stores

    def _read(self, store: str):
        return self.storage.transaction(store, write=False)

    def _write(self, store: str):
        return self.storage.transaction(store, write=True)

    def _new_ids(self, count: int) -> list[str]:
        """IDs for new records, made before a write transaction begins, so that the store's
        lock is held for the write alone: a generator that makes a system call (``uuid4``
        reads the system's random source) lets other threads take the interpreter, and
        every request for the store would queue behind the lock meanwhile."""
        return [self.new_id() for _ in range(count)]

    # ------------------------------------------------------------------ segments

    def list_segments(self, store: str, ids: list[str] | None, page: int, limit: int) -> Page[Segment]:
        with self._read(store) as tx:
            total, items = tx.segments_page(ids, offset_of(page, limit), limit)
        return Page(items, total, page, limit)

    def create_segments(self, store: str, items: list[dict[str, Any]]) -> list[Segment]:
        names = [item["name"] for item in items]
        ids = self._new_ids(len(items))
        with self._write(store) as tx:
            existing = tx.segment_count()
            if existing + len(items) > MAX_SEGMENTS_PER_STORE:
                raise LimitReached(
                    {
                        "segments": f"The store has {existing} segments; {len(items)} more would pass "
                        f"the limit of {MAX_SEGMENTS_PER_STORE}."
                    },
                    title=f"A store can have at most {MAX_SEGMENTS_PER_STORE} segments.",
                )
            taken = tx.segment_ids_by_name(names)
            seen: set[str] = set()
            failing: dict[str, str] = {}
            for index, name in enumerate(names):
                if name in taken or name in seen:
                    failing[str(index)] = f"Segment name `{name}` is already used."
                seen.add(name)
            if failing:
                raise BatchConflict(failing, SEGMENT_NAME_CONFLICT, total=len(items))
            now = self.clock()
            created = [
                Segment(sid, item["name"], item.get("description", ""), now, now) for sid, item in zip(ids, items)
            ]
            tx.insert_segments(created)
        return created

    def update_segments(self, store: str, items: list[dict[str, Any]]) -> list[Segment]:
        ids = [item["id"] for item in items]
        _reject_repeats(ids, "id")
        with self._write(store) as tx:
            current = tx.segments_by_id(ids)
            unknown = {str(i): f"Segment `{sid}` does not exist." for i, sid in enumerate(ids) if sid not in current}
            if unknown:
                raise UnknownReferences(unknown, title="Some segments do not exist.")
            now = self.clock()
            updated: list[Segment] = []
            for item in items:
                before = current[item["id"]]
                name = item.get("name", before.name)
                description = item.get("description", before.description)
                changed = (name, description) != (before.name, before.description)
                updated.append(
                    Segment(before.id, name, description, before.created_at, now if changed else before.updated_at)
                )
            self._check_final_names(tx, updated)
            tx.replace_segments([s for s in updated if s != current[s.id]])
        return updated

    @staticmethod
    def _check_final_names(tx: "StoreTx", updated: list[Segment]) -> None:
        """After the batch, no two segments of the store may share a name."""
        final_names = {s.id: s.name for s in updated}
        holders = tx.segment_ids_by_name(final_names.values())
        failing: dict[str, str] = {}
        for index, segment in enumerate(updated):
            others_in_batch = any(sid != segment.id and name == segment.name for sid, name in final_names.items())
            holder = holders.get(segment.name)
            # A holder outside the batch keeps its name; one inside it may be renamed away.
            holder_keeps_it = holder is not None and holder != segment.id and holder not in final_names
            if others_in_batch or holder_keeps_it:
                failing[str(index)] = f"Segment name `{segment.name}` is already used."
        if failing:
            raise Conflict(failing, title=SEGMENT_NAME_CONFLICT)

    def delete_segments(self, store: str, ids: list[str] | None) -> int:
        """Delete segments (every segment when ``ids`` is None). Profiles stay."""
        with self._write(store) as tx:
            return tx.delete_segments(ids)

    # ------------------------------------------------------------ memberships

    def _require_segment(self, tx: "StoreTx", segment_id: str) -> Segment:
        found = tx.segments_by_id([segment_id]).get(segment_id)
        if found is None:
            raise ResourceNotFound({"segmentId": f"Segment `{segment_id}` does not exist."})
        return found

    def _require_profile(self, tx: "StoreTx", profile_id: str) -> ShopperProfile:
        found = tx.profiles_by_id([profile_id]).get(profile_id)
        if found is None:
            raise ResourceNotFound({"shopperProfileId": f"Shopper profile `{profile_id}` does not exist."})
        return found

    def list_segment_profiles(self, store: str, segment_id: str, page: int, limit: int) -> Page[ShopperProfile]:
        with self._read(store) as tx:
            self._require_segment(tx, segment_id)
            total, items = tx.segment_members_page(segment_id, offset_of(page, limit), limit)
        return Page(items, total, page, limit)

    def add_segment_profiles(self, store: str, segment_id: str, profile_ids: list[str]) -> list[ShopperProfile]:
        if len(profile_ids) > MAX_PROFILES_PER_ADD:
            raise InvalidInput({"body": f"At most {MAX_PROFILES_PER_ADD} shopper profiles per request."})
        _reject_repeats(profile_ids, None)
        with self._write(store) as tx:
            self._require_segment(tx, segment_id)
            profiles = tx.profiles_by_id(profile_ids)
            unknown = {
                str(i): f"Shopper profile `{pid}` does not exist." for i, pid in enumerate(profile_ids) if pid not in profiles
            }
            if unknown:
                raise UnknownReferences(unknown, title="Some shopper profiles do not exist.")
            members = tx.members_among(segment_id, profile_ids)
            conflicts = {
                str(i): f"Shopper profile `{pid}` already exists for segment `{segment_id}`."
                for i, pid in enumerate(profile_ids)
                if pid in members
            }
            if conflicts:
                raise BatchConflict(conflicts, MEMBERSHIP_CONFLICT, total=len(profile_ids))
            now = self.clock()
            tx.add_members(segment_id, profile_ids)
            tx.touch_profiles(profile_ids, now)
        return [ShopperProfile(p.id, p.customer_id, p.created_at, now) for p in (profiles[i] for i in profile_ids)]

    def remove_segment_profiles(self, store: str, segment_id: str, profile_ids: list[str] | None) -> list[str]:
        """Remove profiles from the segment (all of them when None); the profiles stay."""
        with self._write(store) as tx:
            self._require_segment(tx, segment_id)
            removed = tx.remove_members(segment_id, profile_ids)
            tx.touch_profiles(removed, self.clock())
        return removed

    def list_profile_segments(self, store: str, profile_id: str, page: int, limit: int) -> Page[Segment]:
        with self._read(store) as tx:
            self._require_profile(tx, profile_id)
            total, items = tx.profile_segments_page(profile_id, offset_of(page, limit), limit)
        return Page(items, total, page, limit)

    # ---------------------------------------------------------- shopper profiles

    def list_profiles(self, store: str, page: int, limit: int) -> Page[ShopperProfile]:
        with self._read(store) as tx:
            total, items = tx.profiles_page(offset_of(page, limit), limit)
        return Page(items, total, page, limit)

    def create_profiles(self, store: str, customer_ids: list[int]) -> list[ShopperProfile]:
        ids = self._new_ids(len(customer_ids))
        with self._write(store) as tx:
            customers = tx.customers_by_id(customer_ids)
            unknown = {
                str(i): f"Customer `{cid}` does not exist." for i, cid in enumerate(customer_ids) if cid not in customers
            }
            if unknown:
                raise UnknownReferences(unknown, title="Some customers do not exist.")
            has_profile = tx.profile_ids_by_customer(customer_ids)
            seen: set[int] = set()
            failing: dict[str, str] = {}
            for index, cid in enumerate(customer_ids):
                if cid in has_profile:
                    failing[str(index)] = f"Customer `{cid}` already has a shopper profile."
                elif cid in seen:
                    failing[str(index)] = f"Customer `{cid}` appears more than once in the request."
                seen.add(cid)
            if failing:
                raise Conflict(failing, title="A customer can have only one shopper profile.")
            now = self.clock()
            created = [ShopperProfile(pid, cid, now, now) for pid, cid in zip(ids, customer_ids)]
            tx.insert_profiles(created)
        return created

    def delete_profiles(self, store: str, ids: list[str] | None) -> int:
        """Delete profiles (every profile when None) and remove them from every segment."""
        with self._write(store) as tx:
            return tx.delete_profiles(ids)

    # ----------------------------------------------------------------- customers

    def list_customers(
        self, store: str, query: CustomerQuery | list[int] | None, include: Iterable[str], page: int, limit: int
    ) -> Page[CustomerView]:
        """``getCustomers``: ``query`` carries its filters and sort (a plain ID list, or
        None, is the same as a query of IDs only)."""
        if not isinstance(query, CustomerQuery):
            query = CustomerQuery(ids=query)
        include = set(include)
        with self._read(store) as tx:
            if query.filters_beyond_ids():
                candidates = list(tx.customers_by_id(query.ids).values()) if query.ids is not None else tx.customers_all()
                matching = query.ordered([c for c in candidates if query.matches(c)])
                total, customers = len(matching), matching[offset_of(page, limit):][:limit]
            else:  # the common case, paged by the storage itself
                total, customers = tx.customers_page(query.ids, offset_of(page, limit), limit)
            wanted = include & {INCLUDE_PROFILE, INCLUDE_SEGMENTS}
            profile_of = tx.profile_ids_by_customer(c.id for c in customers) if wanted else {}
            segments_of = (
                tx.segment_ids_of_profiles(profile_of.values()) if INCLUDE_SEGMENTS in include else {}
            )
        empty = tuple(field for value, field in EMPTY_INCLUDES.items() if value in include)
        views = [
            CustomerView(
                customer,
                shopper_profile_id=profile_of.get(customer.id),
                include_profile=INCLUDE_PROFILE in include,
                segment_ids=(
                    segments_of.get(profile_of.get(customer.id), []) if INCLUDE_SEGMENTS in include else None
                ),
                empty_includes=empty,
            )
            for customer in customers
        ]
        return Page(views, total, page, limit)

    def create_customers(self, store: str, items: list[dict[str, Any]]) -> list[Customer]:
        check_request_size(items)
        refuse_unkept(items)
        emails = [item["email"].lower() for item in items]
        with self._write(store) as tx:
            self._check_emails_free(items, emails, tx.customer_ids_by_email(emails))
            now = self.clock()
            ids = tx.allocate_customer_ids(len(items))
            created = [new_customer(cid, item, now) for cid, item in zip(ids, items)]
            tx.insert_customers(created)
        return created

    def update_customers(self, store: str, items: list[dict[str, Any]]) -> list[Customer]:
        """``updateCustomers``: each item names a customer by ``id`` and sets the fields it
        carries; all or nothing. Unknown IDs and emails used by another customer are 422."""
        check_request_size(items)
        refuse_unkept(items)
        _reject_repeats([item["id"] for item in items], "id")
        with self._write(store) as tx:
            found = tx.customers_by_id([item["id"] for item in items])
            missing = {f"{i}.id": f"Customer `{item['id']}` does not exist." for i, item in enumerate(items) if item["id"] not in found}
            if missing:
                raise UnknownReferences(missing, title="Some customers do not exist.")
            self._check_final_emails(tx, items)
            now = self.clock()
            updated = [updated_customer(found[item["id"]], item, i, now) for i, item in enumerate(items)]
            tx.replace_customers([c for c, item in zip(updated, items) if c != found[item["id"]]])
        return updated

    @staticmethod
    def _check_emails_free(items: list[dict[str, Any]], emails: list[str], taken: Iterable[str]) -> None:
        """An email used in the store, or twice in the batch, fails the whole batch (422)."""
        taken = set(taken)
        seen: set[str] = set()
        failing: dict[str, str] = {}
        for index, (item, email) in enumerate(zip(items, emails)):
            if email in taken or email in seen:
                failing[str(index)] = f"Email `{item['email']}` is already used."
            seen.add(email)
        if failing:
            raise AlreadyUsed(failing, title="Some emails are already used.")

    @staticmethod
    def _check_final_emails(tx: "StoreTx", items: list[dict[str, Any]]) -> None:
        """After the whole update, no two customers share an email (case-insensitively): a
        customer may keep or re-case its own, and two customers may swap theirs."""
        new = {item["id"]: item["email"].lower() for item in items if "email" in item}
        owners = tx.customer_ids_by_email(new.values())
        seen: set[str] = set()
        failing: dict[str, str] = {}
        for index, item in enumerate(items):
            email = new.get(item["id"]) if "email" in item else None
            if email is None:
                continue
            owner = owners.get(email)
            keeps_it = owner is not None and owner != item["id"] and owner not in new
            if keeps_it or email in seen:
                failing[str(index)] = f"Email `{item['email']}` is already used."
            seen.add(email)
        if failing:
            raise AlreadyUsed(failing, title="Some emails are already used.")

    def delete_customers(self, store: str, ids: list[int]) -> None:
        """Delete customers with their shopper profiles and those profiles' memberships."""
        with self._write(store) as tx:
            profiles = tx.profile_ids_by_customer(ids)
            if profiles:
                tx.delete_profiles(list(profiles.values()))
            tx.delete_customers(ids)


def _reject_repeats(values: list, field: str | None) -> None:
    """The same ID twice in one body is a 400, naming each repeat by index."""
    seen: set = set()
    repeats: dict[str, str] = {}
    for index, value in enumerate(values):
        if value in seen:
            key = f"{index}.{field}" if field else str(index)
            repeats[key] = f"`{value}` appears more than once in the request."
        seen.add(value)
    if repeats:
        raise InvalidInput(repeats)
