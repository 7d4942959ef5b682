"""What the domain's rules raise. The HTTP layer maps each kind to its status.

``errors`` maps a field name or a request-body index (as a string) to a message,
as the platform's error envelope does.
"""

from __future__ import annotations


class DomainError(Exception):
    title = "The request cannot be processed."

    def __init__(self, errors: dict[str, str], title: str | None = None):
        super().__init__(title or self.title)
        self.errors = errors
        if title:
            self.title = title


class InvalidInput(DomainError):
    """The request breaks a shape rule that a schema cannot say (400)."""

    title = "The request is not valid."


class TooManyItems(DomainError):
    """More items in one request than the platform takes (413)."""

    title = "The request payload is too large."


class ResourceNotFound(DomainError):
    """The resource named in the path does not exist in this store (404)."""

    title = "The requested resource was not found."


class Unprocessable(DomainError):
    """Well-formed, but cannot be done as asked (422)."""


class UnknownReferences(Unprocessable):
    """Refers to what does not exist in the store (422)."""


class LimitReached(Unprocessable):
    """A store limit would be passed (422)."""


class AlreadyUsed(Unprocessable):
    """A value that must be unique is taken, where the platform answers 422 (emails)."""


class Conflict(DomainError):
    """The request would duplicate something (409, plain envelope)."""


class BatchConflict(Conflict):
    """A batch conflict reported with the batch envelope (409): one entry per item."""

    def __init__(self, errors: dict[str, str], title: str, total: int):
        super().__init__(errors, title)
        self.total = total
