"""Customers as the platform's Customers V3 reference serves them: the scalar fields it
documents, the filters and sort of ``getCustomers``, and what ``updateCustomers`` may
change. Plain Python; the service runs these inside its storage transactions.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from typing import Any

from .errors import InvalidInput, TooManyItems, Unprocessable
from .model import Customer

MAX_CUSTOMERS_PER_REQUEST = 10  # the reference: "up to 10 customers in one call", else 413

# Body fields the mock stores and shows, beyond email, names and group.
SCALAR_FIELDS = ("company", "phone", "notes", "tax_exempt_category", "registration_ip_address",
                 "accepts_product_review_abandoned_cart_emails", "origin_channel_id")
# Documented sub-resources the mock keeps none of: an empty list is accepted, anything
# else is refused (never dropped without a word).
UNKEPT_LISTS = ("addresses", "attributes", "form_fields", "store_credit_amounts")
# What `include` may add that the mock keeps nothing of: shown as an empty list.
EMPTY_INCLUDES = {"addresses": "addresses", "storecredit": "store_credit_amounts", "attributes": "attributes",
                  "formfields": "form_fields"}
SORTS = {"date_created": "date_created", "date_modified": "date_modified", "last_name": "last_name"}

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?")


@dataclass(frozen=True)
class Instant:
    """A filter value: a day (``2024-05-14``: midnight to midnight, UTC) or a second."""

    start: int
    end: int  # exclusive

    def contains(self, seconds: int) -> bool:
        return self.start <= seconds < self.end


def parse_instant(text: str, name: str) -> Instant:
    text = text.strip()
    found = _DATE.fullmatch(text)
    try:
        if found:
            start = calendar.timegm((int(found[1]), int(found[2]), int(found[3]), 0, 0, 0))
            _check_date(found[1], found[2], found[3])
            return Instant(start, start + 86400)
        found = _DATE_TIME.fullmatch(text)
        if found:
            _check_date(found[1], found[2], found[3])
            hour, minute, second = int(found[4]), int(found[5]), int(found[6] or 0)
            if hour > 23 or minute > 59 or second > 59:
                raise ValueError
            seconds = calendar.timegm((int(found[1]), int(found[2]), int(found[3]), hour, minute, second))
            zone = found[7] or "Z"
            if zone not in ("Z", "z"):
                sign = 1 if zone[0] == "+" else -1
                digits = zone[1:].replace(":", "")
                seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
            return Instant(seconds, seconds + 1)
    except ValueError:
        pass
    raise InvalidInput({name: f"`{text}` is not a date (2024-05-14) or a date-time (2024-05-14T09:34:00Z)."})


def _check_date(year: str, month: str, day: str) -> None:
    month_number, day_number = int(month), int(day)
    if not 1 <= month_number <= 12 or not 1 <= day_number <= calendar.monthrange(int(year), month_number)[1]:
        raise ValueError


@dataclass(frozen=True)
class CustomerQuery:
    """The filters and sort of one ``getCustomers`` request (None: not given)."""

    ids: list[int] | None = None
    emails: list[str] | None = None
    names: list[str] | None = None
    name_like: list[str] | None = None
    companies: list[str] | None = None
    group_ids: list[int] | None = None
    phones: list[str] | None = None
    ip_addresses: list[str] | None = None
    created: Instant | None = None
    created_min: Instant | None = None
    created_max: Instant | None = None
    modified: Instant | None = None
    modified_min: Instant | None = None
    modified_max: Instant | None = None
    sort: tuple[str, bool] | None = None  # (field, descending)

    @classmethod
    def from_parameters(cls, query: dict[str, Any], ids: list[int] | None) -> CustomerQuery:
        def listed(name: str, fold: bool = False) -> list[str] | None:
            values = query.get(name)
            if values is None:
                return None
            return [v.casefold() for v in values] if fold else list(values)

        def instant(name: str) -> Instant | None:
            return parse_instant(query[name], name) if name in query else None

        groups = listed("customer_group_id:in")
        if groups is not None:
            bad = [g for g in groups if not g.isdigit()]
            if bad:
                raise InvalidInput({"customer_group_id:in": f"`{bad[0]}` is not a customer group ID (decimal digits)."})
        sort = None
        if "sort" in query:
            field, _, direction = query["sort"].partition(":")
            sort = (SORTS[field], direction == "desc")
        return cls(
            ids=ids, emails=listed("email:in", fold=True), names=listed("name:in", fold=True),
            name_like=listed("name:like", fold=True), companies=listed("company:in", fold=True),
            group_ids=[int(g) for g in groups] if groups is not None else None, phones=listed("phone:in"),
            ip_addresses=listed("registration_ip_address:in"),
            created=instant("date_created"), created_min=instant("date_created:min"), created_max=instant("date_created:max"),
            modified=instant("date_modified"), modified_min=instant("date_modified:min"),
            modified_max=instant("date_modified:max"), sort=sort,
        )

    def filters_beyond_ids(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__dataclass_fields__ if name != "ids")

    def matches(self, customer: Customer) -> bool:
        full_name = f"{customer.first_name} {customer.last_name}".casefold()
        checks = (
            (self.ids, lambda: customer.id in self.ids),
            (self.emails, lambda: customer.email.casefold() in self.emails),
            (self.names, lambda: full_name in self.names),
            (self.name_like, lambda: any(part in full_name for part in self.name_like)),
            (self.companies, lambda: customer.company.casefold() in self.companies),
            (self.group_ids, lambda: customer.customer_group_id in self.group_ids),
            (self.phones, lambda: customer.phone in self.phones),
            (self.ip_addresses, lambda: customer.registration_ip_address in self.ip_addresses),
            (self.created, lambda: self.created.contains(customer.date_created)),
            (self.created_min, lambda: customer.date_created >= self.created_min.start),
            (self.created_max, lambda: customer.date_created <= self.created_max.start),
            (self.modified, lambda: self.modified.contains(customer.date_modified)),
            (self.modified_min, lambda: customer.date_modified >= self.modified_min.start),
            (self.modified_max, lambda: customer.date_modified <= self.modified_max.start),
        )
        return all(check() for given, check in checks if given is not None)

    def ordered(self, customers: list[Customer]) -> list[Customer]:
        """Ascending ID unless ``sort`` says otherwise; equal values keep ascending ID
        (Python's sort is stable, also in reverse)."""
        customers = sorted(customers, key=lambda c: c.id)
        if self.sort is None:
            return customers
        field, descending = self.sort

        def key(customer: Customer):
            value = getattr(customer, field)
            return value.casefold() if isinstance(value, str) else value

        return sorted(customers, key=key, reverse=descending)


def check_request_size(items: list) -> None:
    if len(items) > MAX_CUSTOMERS_PER_REQUEST:
        raise TooManyItems({"body": f"At most {MAX_CUSTOMERS_PER_REQUEST} customers per request; this one has {len(items)}."})


def refuse_unkept(items: list[dict[str, Any]]) -> None:
    """A documented sub-resource the mock does not keep is refused, not dropped."""
    errors = {f"{index}.{name}": f"The mock keeps no `{name}`; send customers without them (or an empty list)."
              for index, item in enumerate(items) for name in UNKEPT_LISTS if item.get(name)}
    if errors:
        raise InvalidInput(errors, title="The mock does not keep these customer fields.")


def new_customer(customer_id: int, item: dict[str, Any], now: int) -> Customer:
    return Customer(
        customer_id, item["email"], item["first_name"], item["last_name"], item.get("customer_group_id", 0), now, now,
        **{name: item[name] for name in SCALAR_FIELDS if name in item},
        channel_ids=tuple(item["channel_ids"]) if item.get("channel_ids") is not None else None,
        force_password_reset=bool((item.get("authentication") or {}).get("force_password_reset", False)),
    )


def updated_customer(current: Customer, item: dict[str, Any], index: int, now: int) -> Customer:
    """``current`` with the fields ``item`` sets; ``date_modified`` moves only when something changed."""
    if "origin_channel_id" in item and item["origin_channel_id"] != current.origin_channel_id:
        raise Unprocessable({f"{index}.origin_channel_id": "The channel of origin is set when a customer is created and "
                                                           "cannot change."}, title="A read-only field cannot be changed.")
    changes = {name: item[name] for name in ("email", "first_name", "last_name", "customer_group_id", *SCALAR_FIELDS)
               if name in item and name != "origin_channel_id"}
    if "channel_ids" in item:
        changes["channel_ids"] = tuple(item["channel_ids"]) if item["channel_ids"] is not None else None
    if "force_password_reset" in (item.get("authentication") or {}):
        changes["force_password_reset"] = bool(item["authentication"]["force_password_reset"])
    updated = replace(current, **changes)
    return updated if updated == current else replace(updated, date_modified=now)
