"""The domain: stores, customers, shopper profiles, segments, memberships.

Plain Python, no HTTP. Every rule of BEHAVIOR.md sections 1-7 that is not a matter of
request shape lives in ``service.py``; the records are in ``model.py``; the errors the
rules raise are in ``errors.py``. Storage is reached only through the unit of work in
``mock_server.storage``.
"""

from .errors import (
    AlreadyUsed,
    BatchConflict,
    Conflict,
    DomainError,
    InvalidInput,
    LimitReached,
    ResourceNotFound,
    TooManyItems,
    Unprocessable,
    UnknownReferences,
)
from .model import Customer, Page, Segment, ShopperProfile
from .service import MAX_PROFILES_PER_ADD, MAX_SEGMENTS_PER_STORE, Segmentation

__all__ = [
    "AlreadyUsed",
    "BatchConflict",
    "Conflict",
    "Customer",
    "DomainError",
    "InvalidInput",
    "LimitReached",
    "MAX_PROFILES_PER_ADD",
    "MAX_SEGMENTS_PER_STORE",
    "Page",
    "ResourceNotFound",
    "Segment",
    "Segmentation",
    "ShopperProfile",
    "TooManyItems",
    "UnknownReferences",
    "Unprocessable",
]
