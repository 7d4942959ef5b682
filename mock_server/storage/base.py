"""The storage contract the domain relies on.

A backend gives the domain one *unit of work* per operation: ``transaction(store,
write=...)`` yields a ``StoreTx`` whose changes are all kept when the block ends, or
all dropped when it raises. Write transactions of one store are serialised (across
threads, and across processes for backends that share a file), so a rule that reads
then writes inside one transaction cannot race another request.

Lists are in creation order (oldest first): segments and profiles by when they were
created, customers by ID. Memberships are not ordered of their own: a segment's
profiles list in the profiles' creation order, a profile's segments in the segments'.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ..domain.model import Customer, Segment, ShopperProfile

SCOPES = ("read_only", "modify")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    store_hash: str
    scope: str  # one of SCOPES


class StoreTx(ABC):
    """One store's data inside a transaction (promotions: see ``PromotionStore``)."""

    # segments
    @abstractmethod
    def segment_count(self) -> int: ...
    @abstractmethod
    def segments_page(self, ids: list[str] | None, offset: int, limit: int) -> tuple[int, list[Segment]]: ...
    @abstractmethod
    def segments_by_id(self, ids: Iterable[str]) -> dict[str, Segment]: ...
    @abstractmethod
    def segment_ids_by_name(self, names: Iterable[str]) -> dict[str, str]: ...
    @abstractmethod
    def insert_segments(self, segments: list[Segment]) -> None: ...
    @abstractmethod
    def replace_segments(self, segments: list[Segment]) -> None: ...
    @abstractmethod
    def delete_segments(self, ids: list[str] | None) -> int:
        """Delete these segments (all when None) and their memberships."""

    # shopper profiles
    @abstractmethod
    def profiles_page(self, offset: int, limit: int) -> tuple[int, list[ShopperProfile]]: ...
    @abstractmethod
    def profiles_by_id(self, ids: Iterable[str]) -> dict[str, ShopperProfile]: ...
    @abstractmethod
    def profile_ids_by_customer(self, customer_ids: Iterable[int]) -> dict[int, str]: ...
    @abstractmethod
    def insert_profiles(self, profiles: list[ShopperProfile]) -> None: ...
    @abstractmethod
    def touch_profiles(self, ids: Iterable[str], updated_at: int) -> None: ...
    @abstractmethod
    def delete_profiles(self, ids: list[str] | None) -> int:
        """Delete these profiles (all when None) and their memberships."""

    # memberships
    @abstractmethod
    def segment_members_page(self, segment_id: str, offset: int, limit: int) -> tuple[int, list[ShopperProfile]]: ...
    @abstractmethod
    def profile_segments_page(self, profile_id: str, offset: int, limit: int) -> tuple[int, list[Segment]]: ...
    @abstractmethod
    def members_among(self, segment_id: str, profile_ids: Iterable[str]) -> set[str]: ...
    @abstractmethod
    def add_members(self, segment_id: str, profile_ids: list[str]) -> None: ...
    @abstractmethod
    def remove_members(self, segment_id: str, profile_ids: list[str] | None) -> list[str]:
        """Remove these profiles (all when None) from the segment; the IDs removed."""

    @abstractmethod
    def segment_ids_of_profiles(self, profile_ids: Iterable[str]) -> dict[str, list[str]]:
        """For each profile, its segments' IDs in the segments' creation order."""

    # customers
    @abstractmethod
    def customers_page(self, ids: list[int] | None, offset: int, limit: int) -> tuple[int, list[Customer]]: ...
    @abstractmethod
    def customers_by_id(self, ids: Iterable[int]) -> dict[int, Customer]: ...
    @abstractmethod
    def customer_ids_by_email(self, lowercase_emails: Iterable[str]) -> dict[str, int]: ...
    @abstractmethod
    def allocate_customer_ids(self, count: int) -> list[int]:
        """The next IDs, ascending, never reused within the store."""

    @abstractmethod
    def clear(self) -> None:
        """Remove all of the store's data (not its tokens), inside this transaction."""

    @abstractmethod
    def customers_all(self) -> list[Customer]:
        """Every customer of the store, ascending ID (for filters the storage does not index)."""

    @abstractmethod
    def insert_customers(self, customers: list[Customer]) -> None: ...
    @abstractmethod
    def replace_customers(self, customers: list[Customer]) -> None:
        """Store new values of existing customers (same IDs; emails may change)."""
    @abstractmethod
    def last_customer_id(self) -> int:
        """The highest customer ID ever allocated in the store."""

    @abstractmethod
    def raise_last_customer_id(self, value: int) -> None:
        """Make sure later allocations start above ``value``."""
    @abstractmethod
    def delete_customers(self, ids: list[int]) -> None: ...


class PromotionStore(ABC):
    """Promotions of one store, each kept as the document the API answers (plus its codes)."""

    @abstractmethod
    def promotions_page(self, ids: list[int] | None, redemption_type: str | None, offset: int, limit: int) -> tuple[int, list[dict]]: ...
    @abstractmethod
    def promotions_by_id(self, ids: Iterable[int]) -> dict[int, dict]: ...
    @abstractmethod
    def save_promotion(self, promotion: dict) -> None:
        """Insert or replace, by ``promotion["id"]``."""

    @abstractmethod
    def delete_promotions(self, ids: list[int]) -> int: ...
    @abstractmethod
    def coupon_codes(self) -> dict[str, int]:
        """Every coupon code of the store, lowercased -> its promotion's ID."""

    @abstractmethod
    def order_counts(self) -> dict[int, int]:
        """Customers' order counts that were set (every other customer has 0)."""

    @abstractmethod
    def set_order_count(self, customer_id: int, count: int) -> None: ...

    @abstractmethod
    def next_counter(self, name: str, count: int = 1) -> list[int]:
        """The next ``count`` values of a per-store counter (promotion and code IDs)."""


class Storage(ABC):
    """A backend: stores, their tokens, their data, and rate-limit counters."""

    @abstractmethod
    def transaction(self, store_hash: str, write: bool) -> AbstractContextManager[StoreTx]: ...

    def revision(self) -> int | None:
        """A number that changes whenever any store's data may have changed (a write
        transaction, a reset, a new store), so that an answer read at one revision is
        still right while the revision stays; None when the backend cannot tell (SQLite:
        another process may write the same file), and then nothing is remembered."""
        return None

    @abstractmethod
    def add_store(self, store_hash: str) -> None:
        """Create an empty store (no-op if it exists)."""

    @abstractmethod
    def has_store(self, store_hash: str) -> bool: ...

    @abstractmethod
    def store_hashes(self) -> list[str]: ...

    @abstractmethod
    def set_token(self, token: str, store_hash: str, scope: str) -> None: ...

    @abstractmethod
    def token_info(self, token: str) -> TokenInfo | None: ...

    @abstractmethod
    def tokens_of(self, store_hash: str) -> list[tuple[str, str]]:
        """``(token, scope)`` pairs of a store."""

    @abstractmethod
    def reset(self, store_hash: str | None = None) -> None:
        """Empty one store's data (or every store's); stores and tokens stay."""

    @abstractmethod
    def rate_hit(self, store_hash: str, now_ms: int, window_ms: int) -> tuple[int, int]:
        """Count one request in the store's fixed window: ``(window_start_ms, count)``.

        A window starts at the first request after the previous one ended.
        """

    def close(self) -> None:  # pragma: no cover - backends with resources override
        pass


def iter_chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
