"""Records of the domain. Timestamps are whole seconds since the epoch, UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    name: str
    description: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ShopperProfile:
    id: str
    customer_id: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    email: str
    first_name: str
    last_name: str
    customer_group_id: int
    date_created: int
    date_modified: int
    # The rest of the platform's scalar customer fields (Customers V3), with its defaults.
    company: str = ""
    phone: str = ""
    notes: str = ""
    tax_exempt_category: str = ""
    registration_ip_address: str = ""
    accepts_product_review_abandoned_cart_emails: bool = False
    origin_channel_id: int = 1
    channel_ids: tuple[int, ...] | None = None
    force_password_reset: bool = False

    def extra(self) -> dict:
        """The fields after ``date_modified``, by name (how the SQLite backend stores them)."""
        return {name: getattr(self, name) for name in EXTRA_CUSTOMER_FIELDS}


EXTRA_CUSTOMER_FIELDS = ("company", "phone", "notes", "tax_exempt_category", "registration_ip_address",
                         "accepts_product_review_abandoned_cart_emails", "origin_channel_id", "channel_ids",
                         "force_password_reset")


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer with the extra fields ``include`` asked for (None: not asked)."""

    customer: Customer
    shopper_profile_id: str | None = None
    segment_ids: list[str] | None = None
    include_profile: bool = False
    # Sub-resources the mock keeps none of, shown empty when asked for (addresses, ...).
    empty_includes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an ordered list, with the arithmetic of BEHAVIOR.md section 3."""

    items: list[T]
    total: int
    page: int
    limit: int
    extra: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)  # ceil, and 0 when total is 0

    @property
    def offset(self) -> int:
        return offset_of(self.page, self.limit)


def offset_of(page: int, limit: int) -> int:
    return (page - 1) * limit
