"""The fail-closed guard: a request that could change data is sent only when the run can
prove it touches nothing but its own.

Reads (GET, HEAD, OPTIONS) always pass. Any other request, unless the user passed
``--allow-destructive``, must pass every step below, in order; the first that fails
refuses it with :class:`UnsafeRequest` and nothing is sent:

1. **Ledger ready.** The pre-run inventory is taken (see :mod:`conformance.ledger`),
   and no earlier request changed data the run did not create.
2. **A clean path.** The path is percent-decoded, repeated and trailing slashes are
   folded and case is ignored; what remains must match a path template of the
   OpenAPI document. Dot segments, control characters, ``%`` after decoding and
   characters outside ``[A-Za-z0-9._~-]`` in a segment are refused.
3. **A documented method.** The method must be one the document gives that path. An
   undocumented method (sent to check 405) is allowed only on a path that names at
   least one ID, all owned, with no query and no foreign ID in its body.
4. **Documented query parameters only.** A write carries no query parameter its
   operation does not define (a target might read ``ids`` or ``ID:IN``).
5. **Owned path IDs.** Every ID in the path is well formed and owned by the run, or
   minted by it (a random value that names nothing in the store).
6. **Explicit deletes.** A DELETE either names its target in the path or carries
   ``id:in`` with at least one entry, and every entry is non-blank, well formed and
   owned or minted: never absent, empty, blank, malformed or foreign. No other query
   parameter (a documented ``code`` filter could select other items).
7. **Provable creates.** A create into a collection the inventory could not list is
   refused: what it returned could never be proven the run's own.
8. **Owned body IDs.** Every UUID anywhere in the body, every ``customer_id`` and every
   integer ``id`` of the path's own collection is owned or minted (a ``customer_id``
   may also be one the user lent the run with ``--customer-id``).
9. **Proven deletes.** A DELETE through ``id:in`` on a top-level collection that holds
   items the run did not create is sent only once the run has proven that the target
   honours ``id:in`` on DELETE (the ledger's probe).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from segmentation_contract import iter_operations, load_spec, operation_parameters, resolve_ref

if TYPE_CHECKING:
    from .ledger import Ledger

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DIGITS = re.compile(r"[0-9]+")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_SEGMENT = re.compile(r"[A-Za-z0-9._~:-]+")
_VARIABLE = re.compile(r"\{([^}/]+)\}")

UUID, INTEGER = "uuid", "integer"
# Which collection an ID names, where the path does not say it: body fields by name.
BODY_ID_FIELDS = {"customer_id": "customers"}


class UnsafeRequest(RuntimeError):
    """The request could touch data this run did not create."""


@dataclass(frozen=True)
class Route:
    """One path template of the document, with what the guard needs to know of it."""

    template: str
    pattern: re.Pattern[str]
    operations: dict[str, dict[str, Any]]  # METHOD -> operation
    id_params: dict[str, tuple[str, str]]  # path variable -> (collection, uuid|integer)
    collection: str  # the collection the path's last literal segment names
    query_names: dict[str, frozenset[str]]  # METHOD -> query parameter names


def _kind(schema: dict[str, Any]) -> str:
    return INTEGER if schema.get("type") == "integer" else UUID


def build_routes(spec: dict[str, Any]) -> list[Route]:
    routes: dict[str, dict[str, Any]] = {}
    for template, method, operation in iter_operations(spec):
        entry = routes.setdefault(template, {"operations": {}, "query": {}, "ids": {}})
        entry["operations"][method] = operation
        parameters = operation_parameters(spec, template, method)
        entry["query"][method] = frozenset(p["name"] for p in parameters if p["in"] == "query")
        literals = [part for part in template.split("/") if part]
        for parameter in parameters:
            if parameter["in"] == "path":
                position = literals.index("{" + parameter["name"] + "}")
                entry["ids"][parameter["name"]] = (literals[position - 1], _kind(resolve_ref(spec, parameter["schema"])))
    built = []
    for template, entry in routes.items():
        parts = _VARIABLE.split(template)
        # Literal parts compare in lower case (normalise_path lowers the request path too).
        regex = "".join(re.escape(part.lower()) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
        last_literal = [part for part in template.split("/") if part and not part.startswith("{")][-1]
        built.append(Route(template, re.compile(regex), entry["operations"], entry["ids"], last_literal, entry["query"]))
    return built


def normalise_path(path: str) -> str | None:
    """The path as a lenient server might read it, or None when it is too odd to send."""
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in path):
        return None
    decoded = unquote(path)
    if "%" in decoded or "\\" in decoded or ";" in decoded or decoded != decoded.strip():
        return None
    parts = [part for part in decoded.split("/") if part]
    if any(part in (".", "..") or not _SEGMENT.fullmatch(part) for part in parts):
        return None
    return "/" + "/".join(parts).lower()


def canonical_id(value: Any, kind: str) -> str | None:
    """An ID as the run compares it, or None when it is not a well-formed ID of that kind."""
    if kind == INTEGER:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return str(value)
        text = str(value).strip()
        return str(int(text)) if DIGITS.fullmatch(text) else None
    text = str(value).strip()
    return text.lower() if UUID_TEXT.fullmatch(text) else None


class SafetyGuard:
    """Knows what the run owns (through its ledger) and refuses every request that is
    not provably confined to it."""

    def __init__(self, allow_destructive: bool = False, ledger: Ledger | None = None):
        from .ledger import Ledger

        self.allow_destructive = allow_destructive
        self.ledger = ledger if ledger is not None else Ledger()
        self.spec = load_spec()
        self.routes = build_routes(self.spec)

    # IDs the run may name

    def fresh_uuid(self) -> str:
        """A new random UUID, which names nothing in any store: safe to name."""
        return self.ledger.mint_uuid()

    def absent_integer(self, collection: str) -> int:
        """An integer ID that was not in the store before the run: safe to name."""
        return self.ledger.mint_integer(collection)

    def may_name(self, collection: str, value: Any, kind: str) -> bool:
        key = canonical_id(value, kind)
        return key is not None and self.ledger.may_name(collection, key)

    def unprovable_create(self, method: str, template: str) -> str:
        """Why every request of this operation would be refused as a create whose result
        could not be proven the run's own ('' when it would not): its collection could
        not be listed before the run. Generated requests need not be drawn for it."""
        if self.allow_destructive:
            return ""
        for route in self.routes:
            operation = route.operations.get(method.upper()) if route.template == template else None
            creates = operation.get("x-creates") if operation else None
            listing = self.ledger.before.get(creates) if creates else None
            if listing is not None and listing.items is None:
                return (f"{creates} could not be listed before the run ({listing.problem}), so no create's result "
                        "could be proven the run's own")
        return ""

    # the check

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        normal = normalise_path(path)
        if normal is None:
            return None
        for route in self.routes:
            found = route.pattern.fullmatch(normal)
            if found:
                return route, found.groupdict()
        return None

    def check(self, method: str, path: str, query: list[tuple[str, str]], body: Any) -> None:
        method = method.upper()
        if self.allow_destructive or method in SAFE_METHODS:
            return
        refuse = _Refuser(method, path)
        if not self.ledger.ready:
            refuse("the ledger of pre-existing data is not taken yet")
        if self.ledger.halted:
            refuse(f"writes are stopped: {self.ledger.halted}")
        matched = self.match(path)
        if matched is None:
            refuse("the path is not a path of the document once normalised")
        route, path_values = matched
        for name, value in path_values.items():
            collection, kind = route.id_params[name]
            if not self.may_name(collection, value, kind):
                refuse(f"{name} `{value}` is not an ID this run created")
        operation = route.operations.get(method)
        if operation is None:
            if not path_values or query:
                refuse("the method is not documented for this path")
            self._check_body(route, body, refuse)
            return
        creates = operation.get("x-creates")
        listing = self.ledger.before.get(creates) if creates else None
        if listing is not None and listing.items is None:
            refuse(f"{creates} could not be listed before the run ({listing.problem}), so what a create returns "
                   "could not be proven the run's own")
        allowed = route.query_names[method]
        for key, _ in query:
            if key not in allowed:
                refuse(f"query parameter `{key}` is not defined for this operation")
        if method == "DELETE":
            self._check_delete(route, path_values, query, refuse)
        self._check_body(route, body, refuse)

    def _check_delete(self, route: Route, path_values: dict[str, str], query, refuse) -> None:
        for key, _ in query:
            if key != "id:in":  # another filter (`code`, ...) could select what `id:in` does not name
                refuse(f"a DELETE names its targets by `id:in` only; `{key}` could select others")
        entries = [entry for key, value in query if key == "id:in" for entry in value.split(",")]
        if "id:in" not in route.query_names["DELETE"]:
            if not path_values:
                refuse("the DELETE names no target")
            return
        if not entries:
            refuse("a DELETE without `id:in` entries may delete everything; pass --allow-destructive")
        kind = INTEGER if route.collection in self.ledger.integer_collections else UUID
        for entry in entries:
            if not entry.strip():
                refuse("a blank `id:in` entry may widen the delete")
            if not self.may_name(route.collection, entry, kind):
                refuse(f"`id:in` entry `{entry}` is not an ID this run created")
        # Codes are deleted by `id:in` under a promotion of the run's own, but a target that
        # ignored the filter could reach the store's other codes: the same proof as a
        # top-level DELETE is needed.
        if not path_values or route.collection == "codes":
            reason = self.ledger.top_level_delete_refusal(route.collection)
            if reason:
                refuse(reason)

    def _check_body(self, route: Route, body: Any, refuse) -> None:
        for key, value in _walk(body):
            if isinstance(value, str) and UUID_TEXT.fullmatch(value.strip()):
                if not self.ledger.may_name_uuid(value.strip().lower()):
                    refuse(f"body names `{value}`, which this run did not create")
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                collection = BODY_ID_FIELDS.get(key) or (route.collection if key == "id" else None)
                # A reference field (`customer_id`) may also name an item the user lent the run.
                allowed = self.ledger.may_reference if key in BODY_ID_FIELDS else self.ledger.may_name
                if collection in self.ledger.integer_collections and not allowed(collection, str(value)):
                    refuse(f"body field `{key}` names {collection} `{value}`, which this run did not create")


class _Refuser:
    def __init__(self, method: str, path: str):
        self.method, self.path = method, path

    def __call__(self, why: str):
        raise UnsafeRequest(f"not sent: {self.method} {self.path}: {why}")


def _walk(node: Any, key: str | None = None):
    """Every (key, scalar) in a JSON value; list items inherit their list's key."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from _walk(child, str(child_key))
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child, key)
    else:
        yield key, node


def random_uuid() -> str:
    return str(uuid.uuid4())
