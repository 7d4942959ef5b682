"""One thin handler per operationId: read validated input, call the domain, shape JSON.

Every handler receives the domain service and a validated call, and returns
``(status, body)`` (``body`` None for 204). Rules live in the domain, request shape in
the OpenAPI document; nothing here decides either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain import InvalidInput, Segmentation
from ..domain.customers import CustomerQuery
from ..domain.promotions import PromotionQuery
from .representations import (
    batch,
    collection,
    customer_json,
    customer_view_json,
    page_links,
    profile_json,
    promotion_json,
    segment_json,
)

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class ApiCall:
    store: str
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any


Handler = Callable[[Segmentation, ApiCall], tuple[int, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[operation_id] = function
        return function

    return register


def _customer_ids(entries: list[str] | None) -> list[int] | None:
    """Digit entries are integer IDs (the document bounds them); others match nothing."""
    if entries is None:
        return None
    return [int(entry) for entry in entries if _DIGITS.fullmatch(entry)]


# segments


@handles("GetPaginatedSegmentsList")
def list_segments(svc: Segmentation, call: ApiCall):
    q = call.query
    return 200, collection(svc.list_segments(call.store, q.get("id:in"), q["page"], q["limit"]), segment_json)


@handles("SegmentsPostRequest")
def create_segments(svc: Segmentation, call: ApiCall):
    return 201, batch(svc.create_segments(call.store, call.body), segment_json)


@handles("PutSegmentObjects")
def update_segments(svc: Segmentation, call: ApiCall):
    return 201, batch(svc.update_segments(call.store, call.body), segment_json)


@handles("DeleteStoreSegment")
def delete_segments(svc: Segmentation, call: ApiCall):
    svc.delete_segments(call.store, call.query.get("id:in"))
    return 204, None


# memberships


@handles("GetSegmentProfiles")
def list_segment_profiles(svc: Segmentation, call: ApiCall):
    q = call.query
    page = svc.list_segment_profiles(call.store, call.path["segmentId"], q["page"], q["limit"])
    return 200, collection(page, profile_json)


@handles("PostShopperProfile")
def add_segment_profiles(svc: Segmentation, call: ApiCall):
    added = svc.add_segment_profiles(call.store, call.path["segmentId"], call.body)
    return 201, {"data": [profile_json(p) for p in added]}


@handles("DeleteShopperProfile")
def remove_segment_profiles(svc: Segmentation, call: ApiCall):
    svc.remove_segment_profiles(call.store, call.path["segmentId"], call.query.get("id:in"))
    return 204, None


@handles("GetListShopperProfile")
def list_profile_segments(svc: Segmentation, call: ApiCall):
    q = call.query
    page = svc.list_profile_segments(call.store, call.path["shopperProfileId"], q["page"], q["limit"])
    return 200, collection(page, segment_json)


# shopper profiles


@handles("GetShopperList")
def list_profiles(svc: Segmentation, call: ApiCall):
    return 200, collection(svc.list_profiles(call.store, call.query["page"], call.query["limit"]), profile_json)


@handles("ShopperProfilesRequest")
def create_profiles(svc: Segmentation, call: ApiCall):
    created = svc.create_profiles(call.store, [item["customer_id"] for item in call.body])
    return 201, batch(created, profile_json)


@handles("DeleteStoreShopperProfile")
def delete_profiles(svc: Segmentation, call: ApiCall):
    svc.delete_profiles(call.store, call.query.get("id:in"))
    return 204, None


# customers


@handles("getCustomers")
def list_customers(svc: Segmentation, call: ApiCall):
    q = call.query
    query = CustomerQuery.from_parameters(q, _customer_ids(q.get("id:in")))
    page = svc.list_customers(call.store, query, q.get("include", []), q["page"], q["limit"])
    return 200, collection(page, customer_view_json, page_links(page, q))


@handles("createCustomers")
def create_customers(svc: Segmentation, call: ApiCall):
    return 200, batch(svc.create_customers(call.store, call.body), customer_json)


@handles("updateCustomers")
def update_customers(svc: Segmentation, call: ApiCall):
    return 200, batch(svc.update_customers(call.store, call.body), customer_json)


@handles("deleteCustomers")
def delete_customers(svc: Segmentation, call: ApiCall):
    svc.delete_customers(call.store, _customer_ids(call.query["id:in"]) or [])
    return 204, None


# promotions


@handles("getPromotions")
def list_promotions(svc: Segmentation, call: ApiCall):
    q = call.query
    ids = _customer_ids(q.get("id:in"))
    if "id" in q:  # the platform's single-ID filter narrows like an `id:in` of one
        ids = [i for i in ids if i == q["id"]] if ids is not None else [q["id"]]
    query = PromotionQuery(
        ids=ids, redemption_type=q["redemption_type"].upper() if "redemption_type" in q else None, name=q.get("name"),
        code=q.get("code"), currency_code=q.get("currency_code"), status=q.get("status"),
        channels=_customer_ids(q.get("channels")), text=q.get("query"),
        sort=q.get("sort", "id"), descending=q.get("direction") == "desc",
    )
    page = svc.promotions.list(call.store, query, page=q["page"], limit=q["limit"])
    return 200, collection(page, promotion_json, page_links(page, q))


@handles("createPromotion")
def create_promotion(svc: Segmentation, call: ApiCall):
    return 201, {"data": promotion_json(svc.promotions.create(call.store, call.body)), "meta": {}}


@handles("deletePromotions")
def delete_promotions(svc: Segmentation, call: ApiCall):
    svc.promotions.delete_many(call.store, _customer_ids(call.query.get("id:in")))
    return 204, None


@handles("getPromotion")
def get_promotion(svc: Segmentation, call: ApiCall):
    return 200, {"data": promotion_json(svc.promotions.get(call.store, call.path["id"])), "meta": {}}


@handles("updatePromotion")
def update_promotion(svc: Segmentation, call: ApiCall):
    return 200, {"data": promotion_json(svc.promotions.update(call.store, call.path["id"], call.body)), "meta": {}}


@handles("deletePromotion")
def delete_promotion(svc: Segmentation, call: ApiCall):
    svc.promotions.delete(call.store, call.path["id"])
    return 204, None


@handles("getPromotionCodes")
def list_promotion_codes(svc: Segmentation, call: ApiCall):
    q = call.query
    unserved = [name for name in ("before", "after") if name in q]
    page = svc.promotions.list_codes(call.store, call.path["promotion_id"], q["page"], q["limit"], unserved, q.get("code"))
    return 200, collection(page, dict, page_links(page, q))


@handles("deleteCouponCodes")
def delete_coupon_codes(svc: Segmentation, call: ApiCall):
    if "code" in call.query:  # documented by the platform, not honoured here: refused, never ignored
        raise InvalidInput({"code": "Deleting codes by `code` is not served by the mock; name them with `id:in`."})
    svc.promotions.delete_codes(call.store, call.path["promotion_id"], _customer_ids(call.query.get("id:in")))
    return 204, None


@handles("deleteCouponCode")
def delete_coupon_code(svc: Segmentation, call: ApiCall):
    svc.promotions.delete_codes(call.store, call.path["promotion_id"], [call.path["code_id"]])
    return 204, None


@handles("createPromotionCode")
def create_promotion_code(svc: Segmentation, call: ApiCall):
    return 201, {"data": svc.promotions.add_code(call.store, call.path["promotion_id"], call.body), "meta": {}}
